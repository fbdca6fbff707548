"""Fold hygiene: many consecutive fits in one process, as in a grid search.

Fits ``--fits`` clones of one pipeline (``MultiInputTransformer`` of the built-in data set,
images ``--image-size`` pixels square, and a small ``MultiInputKerasClassifier``), one
after the other in this process, each on the same training rows, scoring the held-out rows
and then dropping the clone, as ``GridSearchCV`` does with the estimator of each split. After
each fit it records:

- the wall time of ``clone(pipe).fit`` + ``score`` (fit 1 includes TensorFlow's warm-up,
  so the ratios are given against fit 1 and against fit 2);
- the resident memory (``/proc/self/statm``) right after, and after ``gc.collect()``;
- what stays alive of the dropped fits: Keras models still reachable (a weak reference to
  each fit's ``model_``, checked after ``gc.collect()``), and the size of Keras' global state
  (the layer-name counters in ``keras.src.backend.common.global_state``).

Prints the table for fits 1, 2, 10, 20 and 30 (or the last) and appends it to
``benchmarks/RESULTS.md``. Timings are noisy on a shared machine: the time ratios are
medians of 3 consecutive fits around each reported fit (fits 1 and 2 are single).

Usage::

    python benchmarks/bench_hygiene.py --fits 30
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import shutil
import statistics
import tempfile
import time
import weakref

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import _harness as harness  # noqa: E402
import numpy as np  # noqa: E402

PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20


def resident_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE_MB


def keras_global_state_size() -> int:
    """Number of entries in Keras' global state (name counters per prefix, mostly)."""
    from keras.src.backend.common import global_state

    size = 0
    for value in vars(global_state.GLOBAL_STATE_TRACKER).values():
        size += len(value) if hasattr(value, "__len__") else 1
    return size


def tensorflow_functions() -> int:
    """Number of functions registered in TensorFlow's runtime (traced ``tf.function`` graphs
    of live models); TensorFlow removes a model's functions when the model is freed."""
    from tensorflow.python.eager.polymorphic_function import atomic_function

    return len(atomic_function.RUNTIME_FUNCTION_REFS)


def make_pipeline_and_data(args, folder):
    from skmultimodal.datasets import make_multimodal_classification

    size = (args.image_size, args.image_size)
    X, y = make_multimodal_classification(
        args.n_samples, image_dir=folder, image_size=size, random_state=args.random_state
    )
    pipe = harness.quickstart_pipeline(size, args.epochs, args.random_state)
    return pipe, X, y


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fits", type=int, default=30)
    parser.add_argument("--n-samples", type=int, default=200)
    parser.add_argument("--image-size", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep every fitted pipeline (as cross_validate(return_estimator=True))",
    )
    parser.add_argument("--label", default="", help="a word for the section title")
    harness.add_results_options(parser)
    args = parser.parse_args(argv)

    import keras
    import sklearn
    import tensorflow as tf
    from sklearn.base import clone

    folder = tempfile.mkdtemp()
    try:
        pipe, X, y = make_pipeline_and_data(args, folder)
        n_train = len(y) * 3 // 4
        X_train, y_train, X_test, y_test = X[:n_train], y[:n_train], X[n_train:], y[n_train:]
        start_rss = resident_mb()
        models, rows, kept = [], [], []
        for fit in range(1, args.fits + 1):
            began, began_cpu = time.perf_counter(), time.process_time()
            fitted = clone(pipe).fit(X_train, y_train)
            score = fitted.score(X_test, y_test)
            seconds = time.perf_counter() - began
            cpu = time.process_time() - began_cpu
            models.append(weakref.ref(fitted.named_steps["clf"].model_))
            if args.keep:
                kept.append(fitted)
            del fitted
            rss = resident_mb()
            gc.collect()
            rows.append(
                dict(
                    fit=fit,
                    seconds=seconds,
                    cpu=cpu,
                    rss=rss,
                    rss_gc=resident_mb(),
                    alive=sum(ref() is not None for ref in models[:-1]),
                    state=keras_global_state_size(),
                    functions=tensorflow_functions(),
                    score=score,
                )
            )
            print(
                f"fit {fit:3d}: {seconds:6.2f} s ({cpu:6.2f} s CPU), RSS {rss:7.1f} MB "
                f"({rows[-1]['rss_gc']:7.1f} after gc), earlier models alive "
                f"{rows[-1]['alive']}, Keras global state {rows[-1]['state']}, "
                f"TensorFlow functions "
                f"{rows[-1]['functions']}, score {score:.3f}"
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    def time_around(fit, key="seconds"):
        """Median time of fits fit-1, fit, fit+1 (within range; fits 1 and 2 alone)."""
        if fit <= 2:
            return rows[fit - 1][key]
        window = [r[key] for r in rows[max(2, fit - 2) : min(len(rows), fit + 1)]]
        return statistics.median(window)

    shown = sorted({f for f in (1, 2, 10, 20, args.fits) if f <= len(rows)})
    first, second = rows[0]["seconds"], rows[1]["seconds"] if len(rows) > 1 else np.nan
    first_cpu, second_cpu = rows[0]["cpu"], rows[1]["cpu"] if len(rows) > 1 else np.nan
    body = harness.table(
        [
            "fit",
            "wall s",
            "median s (3 fits)",
            "vs fit 1",
            "vs fit 2",
            "CPU s (median of 3)",
            "CPU vs fit 1",
            "CPU vs fit 2",
            "RSS MB",
            "RSS growth since fit 2 MB",
            "earlier models alive",
            "Keras global state",
            "TF functions",
        ],
        [
            [
                f,
                f"{rows[f - 1]['seconds']:.2f}",
                f"{time_around(f):.2f}",
                f"{time_around(f) / first:.2f}",
                f"{time_around(f) / second:.2f}",
                f"{time_around(f, 'cpu'):.2f}",
                f"{time_around(f, 'cpu') / first_cpu:.2f}",
                f"{time_around(f, 'cpu') / second_cpu:.2f}",
                f"{rows[f - 1]['rss_gc']:.0f}",
                f"{rows[f - 1]['rss_gc'] - rows[min(1, len(rows) - 1)]['rss_gc']:+.0f}",
                rows[f - 1]["alive"],
                rows[f - 1]["state"],
                rows[f - 1]["functions"],
            ]
            for f in shown
        ],
        "r" * 13,
    )
    growth = rows[-1]["rss_gc"] - rows[min(1, len(rows) - 1)]["rss_gc"]
    per_fit = growth / max(1, len(rows) - 2)
    later = rows[1:] if len(rows) > 2 else rows
    fits = [r["fit"] for r in later]
    rss_slope = np.polyfit(fits, [r["rss_gc"] for r in later], 1)[0] if len(later) > 1 else 0
    cpu_slope = np.polyfit(fits, [r["cpu"] for r in later], 1)[0] if len(later) > 1 else 0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    summary = [
        f"{len(rows)} fits; resident memory before the first fit {start_rss:.0f} MB, after the "
        f"last {rows[-1]['rss_gc']:.0f} MB (peak {peak_mb:.0f} MB); growth from fit 2 to fit "
        f"{len(rows)}: {growth:+.0f} MB ({per_fit:+.2f} MB a fit)",
        f"fit {len(rows)} / fit 1 wall time: {time_around(len(rows)) / first:.2f}, CPU time: "
        f"{time_around(len(rows), 'cpu') / first_cpu:.2f}; fit {len(rows)} / fit 2 wall time: "
        f"{time_around(len(rows)) / second:.2f}, CPU time: "
        f"{time_around(len(rows), 'cpu') / second_cpu:.2f} (medians of fits "
        f"{len(rows) - 2}-{len(rows)})",
        f"least-squares trend from fit 2 on: {rss_slope:+.2f} MB and {cpu_slope * 1000:+.0f} ms "
        "of CPU a fit",
        f"models of dropped fits still alive after gc.collect(): {rows[-1]['alive']}; "
        f"TensorFlow runtime functions left: {rows[-1]['functions']}",
    ]
    harness.print_lines(body, harness.bullets(summary))
    title = "Fold hygiene: consecutive fits in one process" + (
        f" ({args.label})" if args.label else ""
    )
    harness.record(
        args,
        __file__,
        argv,
        title,
        [
            f"Environment: {harness.environment(np, sklearn, keras, tf, shared=True)}. "
            f"Data: make_multimodal_classification({args.n_samples}), {n_train} training "
            f"rows, images {args.image_size}x{args.image_size}, {args.epochs} epochs. Each fit "
            "is clone(pipe).fit + score on the held-out rows; the clone is then "
            + ("kept." if args.keep else "dropped."),
            "",
            *body,
            "",
            *harness.bullets(summary),
        ],
    )


if __name__ == "__main__":
    main()
