"""Benchmark GridSearchCV(n_jobs=2) against n_jobs=1 on the built-in multimodal data set.

The pipeline is the README's: ``MultiInputTransformer`` (ImageLoader, TextTokenizer,
StandardScaler + TimeStepReshaper, OneHotEncoder) and a small ``MultiInputKerasClassifier``;
the grid has 4 candidates (``prep__text__max_words`` x ``clf__head_units``) and ``cv=2``, so
8 fits plus the refit. Modes, all in this process, in a random order each round:

1. ``n_jobs=1`` (after one warm-up fit, so TensorFlow's start-up is not counted);
2. ``n_jobs=2`` with joblib's defaults (loky workers get ``OMP_NUM_THREADS=1`` & co, which
   TensorFlow ignores: each worker still runs 2 intra-op + 2 inter-op threads);
3. ``n_jobs=2`` with ``TF_NUM_INTRAOP_THREADS=1`` and ``TF_NUM_INTEROP_THREADS=1`` in
   ``os.environ`` before the loky workers start (they inherit the parent's environment, and
   TensorFlow reads these variables when its runtime starts in the worker).

Each ``n_jobs=2`` mode is timed "cold" (fresh workers: their import of TensorFlow is counted,
as in a user's first search) and "warm" (the same workers again). CPU time is the process's
own plus that of its worker processes (from /proc); "this process + busiest worker" CPU estimates
the wall time on 2 otherwise idle cores, which matters on a loaded shared machine. A probe run
in the workers reports their thread pools. Also reports the pickled size of the unfitted
pipeline and checks that every mode finds the same cv_results_. Appends a section to
``benchmarks/RESULTS.md``.

What bounds the cold (fresh-worker) search is split, after the modes, into:

- worker start-up: fresh loky workers (the executor shut down first) each import
  TensorFlow, Keras and the estimators: the wall time of that first call and the import
  time measured inside each worker;
- data transfer: the tasks' arguments (pipeline, X, y) sent to the warm workers, timed as
  the same number of no-op tasks with and without those arguments;
- fitting: the workers' fit + score time from the cold TF-limited search's ``cv_results_``
  (sum over candidates and folds, divided by the 2 workers) and its ``refit_time_`` (the
  refit runs alone in this process).

Usage::

    python benchmarks/bench_search.py --n-samples 300 --epochs 5
"""

import argparse
import os
import pickle
import shutil
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import _harness as harness  # noqa: E402
import numpy as np  # noqa: E402

TF_THREAD_VARIABLES = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"}


def worker_threads(_):
    """Run in a worker: its pid, thread names and the thread-related environment."""
    names = Counter()
    for task in os.listdir("/proc/self/task"):
        try:
            names[Path(f"/proc/self/task/{task}/comm").read_text().strip()] += 1
        except OSError:
            pass
    env = {key: os.environ.get(key) for key in ("OMP_NUM_THREADS", *TF_THREAD_VARIABLES)}
    return os.getpid(), dict(names), env


def import_in_worker(_):
    """Run in a fresh worker: its pid and the seconds its imports of TensorFlow take."""
    start = time.perf_counter()
    import keras  # noqa: F401
    import tensorflow  # noqa: F401

    import skmultimodal.estimators  # noqa: F401

    return os.getpid(), time.perf_counter() - start


def no_op(*_):
    """A task that only receives its arguments."""
    return None


def children_cpu_seconds():
    """{pid: CPU seconds (user + system)} of the live child processes of this process."""
    ticks = os.sysconf("SC_CLK_TCK")
    seconds = {}
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me:
            seconds[int(entry)] = (int(fields[11]) + int(fields[12])) / ticks
    return seconds


def shutdown_workers():
    from joblib.externals.loky import get_reusable_executor

    get_reusable_executor().shutdown(wait=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=300)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--cv", type=int, default=2)
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=1, help="runs of each mode")
    parser.add_argument(
        "--warm", action="store_true", help="also time joblib defaults with reused workers"
    )
    harness.add_results_options(parser)
    args = parser.parse_args(argv)
    for variable in TF_THREAD_VARIABLES:
        if variable in os.environ:
            parser.error(f"unset {variable}: this script sets it itself for mode 3")

    import joblib
    import keras
    import sklearn
    import tensorflow as tf
    from joblib import Parallel, delayed
    from sklearn.model_selection import GridSearchCV

    from skmultimodal.datasets import make_multimodal_classification

    load_before = os.getloadavg()
    image_dir = Path(tempfile.mkdtemp(prefix="bench_search_"))
    X, y = make_multimodal_classification(
        args.n_samples, image_dir=image_dir, random_state=args.random_state
    )
    pipe = harness.quickstart_pipeline((16, 16), args.epochs, args.random_state)
    grid = {"prep__text__max_words": [10, 50], "clf__head_units": [(), (16,)]}
    pickled_bytes = len(pickle.dumps(pipe))

    def search(n_jobs):
        gs = GridSearchCV(pipe, grid, cv=args.cv, n_jobs=n_jobs)
        wall, cpu, before = time.perf_counter(), time.process_time(), children_cpu_seconds()
        gs.fit(X, y)
        wall = time.perf_counter() - wall
        cpu = time.process_time() - cpu
        after = children_cpu_seconds()
        workers = [seconds - before.get(pid, 0.0) for pid, seconds in after.items()]
        # On an idle machine with one core per process, the search takes about as long as
        # its busiest process: this process (dispatch, refit) plus the busiest worker.
        critical_path = cpu + max(workers, default=0.0)
        return gs, wall, cpu + sum(workers), critical_path

    # Warm-up: TensorFlow's start-up and first trace in this process are not counted.
    warm_fit = sklearn.base.clone(pipe).fit(X, y)
    fitted_bytes = len(pickle.dumps(warm_fit))

    # Modes run in a new random order each round, so that drifting load from other processes
    # on the shared machine does not always hit the same mode.
    timings = {}  # entry -> [(wall, cpu), ...]
    loads = {}  # entry -> [1-minute load average before the search, ...]
    scores = {}
    probes = {}

    searches = {}

    def timed(entry, n_jobs):
        loads.setdefault(entry, []).append(os.getloadavg()[0])
        gs, wall, cpu, critical_path = search(n_jobs)
        timings.setdefault(entry, []).append((wall, cpu, critical_path))
        scores[entry] = gs.cv_results_["mean_test_score"]
        searches[entry] = gs

    def sequential():
        timed("n_jobs=1", 1)

    def joblib_defaults():
        shutdown_workers()
        timed("n_jobs=2, joblib defaults, cold", 2)
        if args.warm:
            timed("n_jobs=2, joblib defaults, warm", 2)
        probes["joblib defaults"] = Parallel(n_jobs=2)(delayed(worker_threads)(i) for i in range(4))
        shutdown_workers()

    def tf_threads_limited():
        shutdown_workers()
        os.environ.update(TF_THREAD_VARIABLES)
        try:
            timed("n_jobs=2, TF_NUM_*_THREADS=1, cold", 2)
            timed("n_jobs=2, TF_NUM_*_THREADS=1, warm", 2)
            probes["TF_NUM_*_THREADS=1"] = Parallel(n_jobs=2)(
                delayed(worker_threads)(i) for i in range(4)
            )
        finally:
            for variable in TF_THREAD_VARIABLES:
                os.environ.pop(variable, None)
            shutdown_workers()

    modes = [sequential, joblib_defaults, tf_threads_limited]
    rng = np.random.default_rng(args.random_state)
    for _ in range(args.rounds):
        for index in rng.permutation(len(modes)):
            modes[index]()

    # What bounds the cold search: start-up, transfer, fitting (TF threads limited, as mode 3).
    os.environ.update(TF_THREAD_VARIABLES)
    try:
        shutdown_workers()
        start = time.perf_counter()
        imports = Parallel(n_jobs=2)(delayed(import_in_worker)(i) for i in range(2))
        startup_wall = time.perf_counter() - start
        n_tasks = len(searches["n_jobs=2, TF_NUM_*_THREADS=1, cold"].cv_results_["params"])
        n_tasks *= args.cv
        transfer = {}
        for label, task_args in (("with", (pipe, X, y)), ("without", ())):
            best = float("inf")
            for _ in range(3):
                start = time.perf_counter()
                Parallel(n_jobs=2)(delayed(no_op)(*task_args) for _ in range(n_tasks))
                best = min(best, time.perf_counter() - start)
            transfer[label] = best
        shutdown_workers()
    finally:
        for variable in TF_THREAD_VARIABLES:
            os.environ.pop(variable, None)
    cold = searches["n_jobs=2, TF_NUM_*_THREADS=1, cold"]
    fit_score = float(
        np.sum(cold.cv_results_["mean_fit_time"] + cold.cv_results_["mean_score_time"]) * args.cv
    )
    cold_wall = statistics.median(run[0] for run in timings["n_jobs=2, TF_NUM_*_THREADS=1, cold"])
    warm_wall = statistics.median(run[0] for run in timings["n_jobs=2, TF_NUM_*_THREADS=1, warm"])
    task_bytes = len(pickle.dumps((pipe, X, y)))
    split = harness.table(
        ["part of the cold n_jobs=2 search (TF threads limited)", "seconds"],
        [
            [
                "worker start-up: first call on 2 fresh workers (spawn + imports), wall",
                f"{startup_wall:.1f}",
            ],
            [
                "  of which TensorFlow + Keras + estimators import, inside each worker",
                " / ".join(f"{seconds:.1f}" for _, seconds in imports),
            ],
            [
                f"data transfer: {n_tasks} tasks x {task_bytes / 1024:.0f} KiB "
                "(pipeline, X, y), extra wall over empty tasks",
                f"{max(0.0, transfer['with'] - transfer['without']):.2f}",
            ],
            [
                f"fitting: fit + score of {n_tasks} fits (cv_results_) / 2 workers",
                f"{fit_score / 2:.1f}",
            ],
            ["refit (alone, in this process)", f"{cold.refit_time_:.1f}"],
            [
                "sum of the above (start-up + transfer + fitting + refit)",
                f"{startup_wall + max(0.0, transfer['with'] - transfer['without']) + fit_score / 2 + cold.refit_time_:.1f}",  # noqa: E501
            ],
            ["measured cold wall (median)", f"{cold_wall:.1f}"],
            ["measured warm wall (median), for comparison", f"{warm_wall:.1f}"],
        ],
        "lr",
    )
    load_after = os.getloadavg()
    shutil.rmtree(image_dir, ignore_errors=True)
    all_runs = {entry: [round(run[0], 1) for run in runs] for entry, runs in timings.items()}
    timings = {
        entry: tuple(statistics.median(column) for column in zip(*runs, strict=True))
        for entry, runs in timings.items()
    }

    base_wall, base_cpu, _ = timings["n_jobs=1"]
    order = ["n_jobs=1", *sorted(entry for entry in timings if entry != "n_jobs=1")]
    lines = harness.table(
        [
            "mode",
            "median wall s",
            "speed-up vs n_jobs=1 (wall)",
            "CPU s (all processes)",
            "CPU s of the busiest process + parent",
            "speed-up estimate from CPU",
            "all wall s",
            "load average before each",
        ],
        [
            [
                mode,
                f"{timings[mode][0]:.2f}",
                f"{base_wall / timings[mode][0]:.2f}x",
                f"{timings[mode][1]:.2f}",
                f"{timings[mode][2]:.2f}",
                f"{base_cpu / timings[mode][2]:.2f}x",
                all_runs[mode],
                [round(load, 1) for load in loads[mode]],
            ]
            for mode in order
        ],
        "lrrrrrll",
    )
    reference = scores["n_jobs=1"]
    same = all(np.array_equal(s, reference) for s in scores.values())
    probe_lines = []
    for mode, results in probes.items():
        for pid, names, env in {pid: (pid, n, e) for pid, n, e in results}.values():
            probe_lines.append(f"worker {pid} ({mode}): threads {names}; env {env}")
    summary = [
        f"{args.rounds} round(s), modes in random order each round; "
        f"4 candidates x {args.cv} folds + refit; {args.n_samples} samples, {args.epochs} "
        "epochs, 16x16 images; image_filters=(8,), Embedding(8)+LSTM(8), LSTM(8), Dense(4)",
        "goal: >= 1.6x on 2 cores; cold = fresh loky workers (their imports counted), warm = "
        "the same workers reused; speed-up estimate from CPU = CPU s of n_jobs=1 / (CPU s of "
        "this process + of the busiest worker), i.e. the wall time on 2 otherwise idle cores "
        "if each process keeps to one core (TF threads limited)",
        f"identical mean_test_score in every run and mode: {same}",
        f"pickled size: unfitted pipeline {pickled_bytes / 1024:.1f} KiB, fitted pipeline "
        f"{fitted_bytes / 1024:.1f} KiB",
        f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (2 shared cores); "
        f"joblib {joblib.__version__}",
    ]
    harness.print_lines(lines, split, [*summary, *probe_lines])

    harness.record(
        args,
        __file__,
        argv,
        "GridSearchCV n_jobs=2 vs n_jobs=1",
        [
            f"Environment: {harness.environment(sklearn, keras, tf)}.",
            "",
            *lines,
            "",
            *split,
            "",
            *harness.bullets([*summary, *probe_lines]),
        ],
    )
    return {mode: base_wall / values[0] for mode, values in timings.items()}


if __name__ == "__main__":
    main()
