"""Modality importance across folds: which modality each model uses, on data where we know.

Runs ``skmultimodal.inspection.cross_validate_modality_importance`` (a pipeline from
``make_multimodal_pipeline`` refitted on the training rows of each of ``--folds``
``StratifiedKFold(shuffle=True, random_state=0)`` splits, each modality of the held-out rows
shuffled ``--n-repeats`` times, accuracy) and prints one row per modality: the mean drop in
accuracy over the folds, its standard deviation across folds, the fold means, and whether
mean - 2 std > 0 ("used"). Cases (``--cases``):

- ``builtin``: ``make_multimodal_classification``; the label is the majority vote of the
  image, text and series signals, the category a weaker hint (0.65), so image, text and the
  series (the ``numeric`` step) must all matter, the category less.
- ``text-only``: the same table, the label replaced by the text's own signal and the category
  column shuffled: only the text may matter (the held-out case with a known answer).
- ``reviews``: ``--reviews-samples`` rows of the women's clothing reviews (``--data-dir``,
  default ``../shared/data`` relative to the repository root) -> ``Recommended IND``: text,
  categories and numbers (age, feedback count).

Usage::

    python benchmarks/bench_importance.py --cases builtin,text-only,reviews
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import _harness as harness  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CASES = ("builtin", "text-only", "reviews")


def builtin_data(args, folder, text_only: bool):
    from skmultimodal.datasets import make_multimodal_classification

    X, y, signals = make_multimodal_classification(
        args.n_samples, image_dir=folder, random_state=args.random_state, return_signals=True
    )
    if text_only:
        y = (signals["text"].to_numpy() > 0).astype(np.int64)
        shuffle = np.random.RandomState(args.random_state + 1).permutation
        X["category"] = shuffle(X["category"].to_numpy())
    return X, y


def reviews_data(args):
    path = Path(args.data_dir) / "womens_clothing_reviews.csv.gz"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found; pass --data-dir (the folder holding it).")
    df = pd.read_csv(path)
    rows = np.random.RandomState(args.random_state).permutation(len(df))[: args.reviews_samples]
    df = df.iloc[np.sort(rows)].reset_index(drop=True)
    text = df["Title"].fillna("").astype(str) + ". " + df["Review Text"].fillna("").astype(str)
    X = pd.DataFrame({"text": text.to_numpy(dtype=object)})
    for column in ("Division Name", "Department Name", "Class Name"):
        X[column] = df[column].fillna("missing").astype(str).to_numpy(dtype=object)
    for column in ("Age", "Positive Feedback Count"):
        X[column] = df[column].astype(float).to_numpy()
    return X, df["Recommended IND"].to_numpy()


def run_case(case, args, folder):
    from sklearn.model_selection import StratifiedKFold

    from skmultimodal.auto import make_multimodal_pipeline
    from skmultimodal.inspection import cross_validate_modality_importance

    if case == "reviews":
        X, y = reviews_data(args)
        roles = {"text": "text"}
    else:
        X, y = builtin_data(args, folder, text_only=case == "text-only")
        roles = None
    params = {"epochs": args.epochs, "random_state": args.random_state}
    pipe = make_multimodal_pipeline(X, y, model_params=params, roles=roles)
    began = time.perf_counter()
    result = cross_validate_modality_importance(
        pipe,
        X,
        y,
        cv=StratifiedKFold(args.folds, shuffle=True, random_state=0),
        scoring="accuracy",
        n_repeats=args.n_repeats,
        random_state=args.random_state,
    )
    seconds = time.perf_counter() - began
    rows = []
    for m, name in enumerate(result.modalities):
        mean, std = result.importances_mean[m], result.importances_std[m]
        folds = " ".join(f"{value:+.3f}" for value in result.fold_importances_mean[m])
        rows.append(
            [
                case,
                name,
                " + ".join(result.inputs[name]),
                f"{mean:+.3f}",
                f"{std:.3f}",
                "yes" if mean - 2 * std > 0 else "no",
                folds,
            ]
        )
    accuracy = result.baseline_scores
    note = (
        f"{case}: {len(y)} rows, held-out accuracy {accuracy.mean():.3f} "
        f"(folds {' '.join(f'{a:.3f}' for a in accuracy)}), {seconds:.0f} s"
    )
    return rows, note


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--n-samples", type=int, default=400, help="rows of the built-in data")
    parser.add_argument("--reviews-samples", type=int, default=2000)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--n-repeats", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--data-dir", default=str(REPO.parent / "shared" / "data"))
    harness.add_results_options(parser)
    args = parser.parse_args(argv)
    cases = [case.strip() for case in args.cases.split(",") if case.strip()]
    unknown = sorted(set(cases) - set(CASES))
    if unknown:
        parser.error(f"unknown cases {unknown}; choose among {list(CASES)}")

    import keras
    import sklearn

    folder = tempfile.mkdtemp()
    rows, notes = [], []
    try:
        for case in cases:
            case_rows, note = run_case(case, args, folder)
            rows += case_rows
            notes.append(note)
            harness.print_lines(harness.table(HEADER, case_rows, "lllrrll"), [note])
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    body = harness.table(HEADER, rows, "lllrrll")
    harness.print_lines(body, harness.bullets(notes))
    harness.record(
        args,
        __file__,
        argv,
        "Modality importance across folds",
        [
            f"Environment: {harness.environment(np, sklearn, keras, shared=True)}. "
            f"make_multimodal_pipeline(model_params={{epochs: {args.epochs}, random_state: "
            f"{args.random_state}}}), StratifiedKFold({args.folds}, shuffle=True, "
            f"random_state=0), {args.n_repeats} shuffles per modality and fold, accuracy. "
            "Importance: drop in held-out accuracy when the modality's rows are shuffled; "
            "mean and std across folds; used: mean - 2 std > 0.",
            "",
            *body,
            "",
            *harness.bullets(notes),
        ],
    )


HEADER = ["case", "modality", "inputs", "mean drop", "std (folds)", "used", "fold means"]

if __name__ == "__main__":
    main()
