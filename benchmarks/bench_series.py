"""Time-series classification: real UCR/UEA data sets, classical baselines and our pipelines.

Every model is fitted on a data set's official TRAIN split and scored (accuracy) on its
TEST split, with ``random_state=0`` wherever there is randomness. The script prints three
markdown tables, one row per data set: the data sets, the test accuracy of each model and
each model's wall time (fit + predict, seconds; the median of ``--repeats`` runs, with the
epochs a network ran). A model that raises gets the first line of its error in place of a
number.

Every fit runs under ``threadpoolctl.threadpool_limits(--threads)`` (default 1 OpenMP/BLAS
thread; TensorFlow's own thread pools are not affected): on a 2-core machine shared with
another benchmark, ``stats+HGB`` on JapaneseVowels took 107-160 s with scikit-learn's 2
OpenMP threads and 1.5 s with one.

Models (``--models``, default all):

- ``stats+LR``: per dimension mean, std, min, max, first and last value and the slope of a
  least-squares line, plus the series length (once) -> ``StandardScaler`` ->
  ``LogisticRegression(max_iter=5000)``, C in (0.01, 0.1, 1, 10, 100) chosen by stratified
  CV on the train split (5 folds, fewer if the smallest class has fewer than 5 cases).
- ``stats+HGB``: the same features -> ``HistGradientBoostingClassifier(random_state=0)``.
- ``wide+reshaper``: the wide table a user would build: each series zero-padded at the end
  to the longest train length T (longer test series are cut), flattened time-major into
  columns ``t{step}_f{dim}`` -> ``MultiInputTransformer([("series", StandardScaler() +
  TimeStepReshaper(timesteps=T), all columns)])`` -> ``MultiInputKerasClassifier(
  epochs=--epochs, random_state=0, verbose=0)`` (the default sequence branch).
- ``wide+defaults-epochs``: the same with the estimator's default ``epochs`` ("auto"):
  what a new user gets.
- ``wide+standardize``: the same without the ``StandardScaler``:
  ``TimeStepReshaper(timesteps=T, standardize=True)`` (one mean and scale per dimension).
- ``auto``: ``skmultimodal.auto.make_multimodal_pipeline(wide table, y, random_state=0)``:
  since commit 998e5d8 its time grid is one series input (before, the columns were
  numbers).
- ``auto-grid``: the same with role ``"sequence"`` given explicitly on every column;
  ``auto-grid-conv60``: with ``sequence_cell="conv"`` and 60 epochs.
- ``ragged``: a one-column DataFrame ``series`` whose cells are the ``(length, dimensions)``
  arrays, through ``make_multimodal_pipeline``. Before the library read series of
  different lengths (commit 4c8cde6, ``SequencePadder``) it raised on PLAID and
  JapaneseVowels; the table shows the error's first line if it raises.

``--set key=value`` (repeatable) gives every network that model parameter (e.g.
``--set sequence_cell=lstm``).

Data: the ``.ts`` files of sktime's wheel, found by ``benchmarks/_ucr.py`` (sktime itself is
never imported)::

    pip download --no-deps sktime -d /tmp/sktime_wheel

or ``SKMULTIMODAL_UCR_DIR`` pointing at a folder of ``<Name>/<Name>_TRAIN.ts`` files, or
``--source`` (a folder or a wheel). Nothing is appended to ``benchmarks/RESULTS.md`` unless
``--results PATH`` is given.

Examples::

    TF_CPP_MIN_LOG_LEVEL=3 python benchmarks/bench_series.py
    TF_CPP_MIN_LOG_LEVEL=3 python benchmarks/bench_series.py \\
        --datasets ItalyPowerDemand,GunPoint,ArrowHead,BasicMotions --epochs 100
    TF_CPP_MIN_LOG_LEVEL=3 python benchmarks/bench_series.py --datasets PLAID \\
        --models stats+LR,stats+HGB,auto,ragged

PLAID's series are up to 1344 steps long: on 2 shared CPU cores one LSTM epoch over them
took 11-18 s, so ``wide+reshaper`` (100 epochs) alone would take about half an hour there.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import _harness as harness  # noqa: E402
import _ucr  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import sklearn  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import accuracy_score  # noqa: E402
from sklearn.model_selection import GridSearchCV, StratifiedKFold  # noqa: E402
from sklearn.pipeline import Pipeline, make_pipeline  # noqa: E402
from sklearn.preprocessing import FunctionTransformer, StandardScaler  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

import skmultimodal  # noqa: E402
from skmultimodal.auto import make_multimodal_pipeline  # noqa: E402
from skmultimodal.compose import MultiInputTransformer  # noqa: E402
from skmultimodal.estimators import MultiInputKerasClassifier  # noqa: E402
from skmultimodal.sequence import TimeStepReshaper  # noqa: E402

MODELS = (
    "stats+LR",
    "stats+HGB",
    "wide+reshaper",
    "wide+defaults-epochs",
    "wide+standardize",
    "auto",
    "auto-grid",
    "auto-grid-conv60",
    "ragged",
)
LR_CS = (0.01, 0.1, 1.0, 10.0, 100.0)
#: Characters of an error message shown in the accuracy table (the notes hold all of it).
ERROR_WIDTH = 120


# -- data ---------------------------------------------------------------------------------
@dataclass
class Prepared:
    """One data set in every form the models read, built once before the timed fits."""

    name: str
    train: _ucr.Split
    test: _ucr.Split
    timesteps: int
    wide_train: pd.DataFrame
    wide_test: pd.DataFrame
    ragged_train: pd.DataFrame
    ragged_test: pd.DataFrame


def wide_frame(series: list[np.ndarray], timesteps: int) -> pd.DataFrame:
    """Zero-pad (at the end) or cut each series to ``timesteps`` rows, flatten time-major:
    column ``t{step}_f{dim}``. Missing values (none in these data sets) become 0 too."""
    n_dims = series[0].shape[1]
    out = np.zeros((len(series), timesteps, n_dims))
    for i, case in enumerate(series):
        n = min(len(case), timesteps)
        out[i, :n] = np.nan_to_num(case[:n])
    columns = [f"t{step}_f{dim}" for step in range(timesteps) for dim in range(n_dims)]
    return pd.DataFrame(out.reshape(len(series), -1), columns=columns)


def ragged_frame(series: list[np.ndarray]) -> pd.DataFrame:
    """One column ``series`` whose cells are the ``(length, dimensions)`` arrays."""
    cells = np.empty(len(series), dtype=object)
    for i, case in enumerate(series):
        cells[i] = case
    return pd.DataFrame({"series": cells})


def prepare(name: str, source) -> Prepared:
    splits = _ucr.load_ucr(name, source)
    train, test = splits["TRAIN"], splits["TEST"]
    timesteps = int(train.lengths.max())
    return Prepared(
        name,
        train,
        test,
        timesteps,
        wide_frame(train.series, timesteps),
        wide_frame(test.series, timesteps),
        ragged_frame(train.series),
        ragged_frame(test.series),
    )


def length_text(split: _ucr.Split) -> str:
    low, high = int(split.lengths.min()), int(split.lengths.max())
    return str(low) if low == high else f"{low}-{high}"


def describe_row(data: Prepared) -> list:
    equal = data.train.header.get("equallength")
    if equal is None:
        lengths = np.concatenate([data.train.lengths, data.test.lengths])
        same = "yes" if len(set(lengths)) == 1 else "no"
        equal_text = f"{same} (not in header)"
    else:
        equal_text = "yes" if equal else "no"
    return [
        data.name,
        len(data.train.series),
        len(data.test.series),
        data.train.n_dimensions,
        length_text(data.train),
        length_text(data.test),
        equal_text,
        len(np.unique(data.train.labels)),
        data.timesteps,
    ]


# -- features and models ------------------------------------------------------------------
def case_statistics(case: np.ndarray) -> np.ndarray:
    """Per dimension: mean, std, min, max, first, last, least-squares slope; then length."""
    n = len(case)
    steps = np.arange(n) - (n - 1) / 2
    mean = np.nanmean(case, axis=0)
    slope = steps @ np.nan_to_num(case - mean) / max(float(steps @ steps), 1e-12)
    columns = [mean, np.nanstd(case, axis=0), np.nanmin(case, axis=0)]
    columns += [np.nanmax(case, axis=0), case[0], case[-1], slope]
    return np.concatenate([*columns, [n]])


def summary_statistics(series: list[np.ndarray]) -> np.ndarray:
    return np.vstack([case_statistics(case) for case in series])


def stats_lr(y: np.ndarray) -> Pipeline:
    folds = min(5, int(np.unique(y, return_counts=True)[1].min()))
    search = GridSearchCV(
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)),
        {"logisticregression__C": list(LR_CS)},
        cv=StratifiedKFold(folds, shuffle=True, random_state=0),
    )
    return make_pipeline(FunctionTransformer(summary_statistics), search)


def stats_hgb() -> Pipeline:
    return make_pipeline(
        FunctionTransformer(summary_statistics), HistGradientBoostingClassifier(random_state=0)
    )


def wide_reshaper(
    timesteps: int,
    epochs: int | None,
    overrides: dict,
    scaler: bool = True,
    random_state: int = 0,
) -> Pipeline:
    if scaler:
        series = make_pipeline(StandardScaler(), TimeStepReshaper(timesteps=timesteps))
    else:
        series = TimeStepReshaper(timesteps=timesteps, standardize=True)
    prep = MultiInputTransformer([("series", series, slice(None))])
    params = {} if epochs is None else {"epochs": epochs}
    clf = MultiInputKerasClassifier(random_state=random_state, verbose=0, **{**params, **overrides})
    return Pipeline([("prep", prep), ("clf", clf)])


def model_inputs(name: str, data: Prepared, args) -> tuple:
    """``(model, X_train, X_test)`` of model ``name``; built inside the timed region."""
    y = data.train.labels
    if name == "stats+LR":
        return stats_lr(y), data.train.series, data.test.series
    if name == "stats+HGB":
        return stats_hgb(), data.train.series, data.test.series
    if name in ("wide+reshaper", "wide+defaults-epochs", "wide+standardize"):
        epochs = args.epochs if name == "wide+reshaper" else None
        model = wide_reshaper(
            data.timesteps, epochs, args.set, name != "wide+standardize", args.random_state
        )
        return model, data.wide_train, data.wide_test
    if name == "auto":
        model = make_multimodal_pipeline(
            data.wide_train, y, model_params=args.set or None, random_state=args.random_state
        )
        return model, data.wide_train, data.wide_test
    if name.startswith("auto-grid"):
        # The wide table read as one series (role "sequence" on its time grid).
        roles = {column: "sequence" for column in data.wide_train.columns}
        params = {"sequence_cell": "conv", "epochs": 60} if name.endswith("conv60") else {}
        model = make_multimodal_pipeline(
            data.wide_train,
            y,
            roles=roles,
            model_params={**params, **args.set} or None,
            random_state=args.random_state,
        )
        return model, data.wide_train, data.wide_test
    model = make_multimodal_pipeline(
        data.ragged_train, y, model_params=args.set or None, random_state=args.random_state
    )
    return model, data.ragged_train, data.ragged_test


# -- evaluation ---------------------------------------------------------------------------
@dataclass
class Result:
    accuracies: list
    seconds: list
    epochs: list
    inputs: str = ""
    error: str = ""


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


def fitted_inputs(model) -> str:
    """The input steps of a fitted skmultimodal pipeline, e.g. ``numeric:Pipeline``."""
    prep = model.named_steps.get("prep") if isinstance(model, Pipeline) else None
    steps = getattr(prep, "transformers_", [])
    return ", ".join(f"{name}:{type(step).__name__}" for name, step, _ in steps)


def run_once(name: str, data: Prepared, args, result: Result) -> None:
    start = time.perf_counter()
    model, X_train, X_test = model_inputs(name, data, args)
    model.fit(X_train, data.train.labels)
    predictions = model.predict(X_test)
    result.seconds.append(time.perf_counter() - start)
    result.accuracies.append(accuracy_score(data.test.labels, predictions))
    history = getattr(model[-1], "history_", None) if isinstance(model, Pipeline) else None
    if history:
        result.epochs.append(len(history["loss"]))
    result.inputs = fitted_inputs(model)


def evaluate(name: str, data: Prepared, args) -> Result:
    result = Result([], [], [])
    threads = args.threads or None
    for seed in range(args.seeds):
        args.random_state = seed
        for _ in range(args.repeats):
            try:
                with threadpool_limits(limits=threads):
                    run_once(name, data, args, result)
            except Exception as exc:  # noqa: BLE001 - reported in the table
                result.error = first_line(exc)
                return result
    return result


def accuracy_cell(result: Result) -> str:
    if result.error:
        error = result.error
        if len(error) > ERROR_WIDTH:
            error = error[: ERROR_WIDTH - 3].rstrip() + "..."
        return error.replace("|", "\\|")
    acc = result.accuracies
    if len(set(acc)) == 1:
        return f"{acc[0]:.3f}"
    return f"{np.mean(acc):.3f} ({min(acc):.3f}-{max(acc):.3f})"


def time_cell(result: Result) -> str:
    if not result.seconds:
        return "-"
    text = f"{statistics.median(result.seconds):.1f}"
    if result.epochs:
        text += f" ({'/'.join(str(e) for e in sorted(set(result.epochs)))} ep)"
    return text


def progress(data: Prepared, name: str, result: Result) -> None:
    what = result.error or f"accuracy {accuracy_cell(result)}, {time_cell(result)} s"
    inputs = f" [inputs {result.inputs}]" if result.inputs and name == "auto" else ""
    print(f"{data.name} / {name}: {what}{inputs}", flush=True)


def run(args) -> tuple[list[str], list[str]]:
    names = args.datasets or _ucr.available(args.source)
    described, accuracy_rows, time_rows, notes = [], [], [], []
    for dataset in names:
        data = prepare(dataset, args.source)
        described.append(describe_row(data))
        accuracy_rows.append([dataset])
        time_rows.append([dataset])
        for name in args.models:
            result = evaluate(name, data, args)
            progress(data, name, result)
            accuracy_rows[-1].append(accuracy_cell(result))
            time_rows[-1].append(time_cell(result))
            if name in ("auto", "ragged") and result.inputs:
                notes.append(f"{dataset}, {name}: inputs {result.inputs}")
            if result.error:
                notes.append(f"{dataset}, {name} raised {result.error}")
    header = ["data set", *args.models]
    tables = [
        harness.table(
            ["data set", "train", "test", "dims", "length train", "length test", "equal length"]
            + ["classes", "wide T"],
            described,
            "lrrrrrlrr",
        ),
        ["Test accuracy (official split):", ""] + harness.table(header, accuracy_rows),
        ["Wall time, s (fit + predict; median of repeats; epochs run):", ""]
        + harness.table(header, time_rows),
    ]
    return tables, notes


def source_version() -> str:
    """``git describe --always --dirty`` of the repository (the library moves fast)."""
    try:
        done = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return done.stdout.strip() or "unknown"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--datasets",
        default=None,
        help=f"comma-separated subset of {','.join(_ucr.DATASETS)} (default: all available)",
    )
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated subset")
    parser.add_argument("--epochs", type=int, default=100, help="epochs of wide+reshaper")
    parser.add_argument("--repeats", type=int, default=1, help="fits per model and data set")
    parser.add_argument(
        "--seeds",
        type=int,
        default=1,
        help="fit each network with random_state 0, 1, ... (accuracy: mean (min-max))",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a model parameter for every network (repeatable; VALUE read as a Python "
        "literal when it is one, e.g. sequence_cell=conv, epochs=60)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="OpenMP/BLAS threads (threadpoolctl) during every fit; 0: the libraries' default",
    )
    parser.add_argument(
        "--source", default=None, help=f"folder or sktime wheel (default: ${_ucr.ENV_VAR})"
    )
    parser.add_argument("--results", type=Path, default=None, help="append a section to this file")
    args = parser.parse_args(argv)
    args.datasets = args.datasets.split(",") if args.datasets else None
    args.models = args.models.split(",")
    args.set = harness.parse_overrides(args.set)
    unknown = sorted(set(args.models) - set(MODELS))
    if unknown:
        parser.error(f"unknown models {unknown}; choose among {','.join(MODELS)}")

    start = time.perf_counter()
    tables, notes = run(args)
    wall = time.perf_counter() - start
    context = (
        f"{harness.environment(np, sklearn, skmultimodal, shared=True)}, "
        f"git {source_version()}; "
        f"--epochs {args.epochs}, --repeats {args.repeats}, --threads {args.threads}, "
        f"--set {args.set or 'none'}; "
        f"wall time {wall:.0f} s."
    )
    print()
    harness.print_lines([context], *tables, harness.bullets(notes))
    if args.results:
        body = [context, ""] + [line for table in tables for line in [*table, ""]]
        body += harness.bullets(notes)
        command = harness.command_line(__file__, argv, env="TF_CPP_MIN_LOG_LEVEL=3")
        harness.append_section(args.results, "UCR/UEA time series", command, body)


if __name__ == "__main__":
    main()
