"""Missing modalities: graceful degradation and modality dropout, on the fusion suite's cases.

For each case (the data of ``bench_quality.py --case suite``) and each fold of the suite's
``StratifiedKFold(5, shuffle=True, random_state=0)``:

- **today**: ``make_multimodal_pipeline(X, y)`` with its defaults (no masks), scored on the
  complete test rows;
- **masked, rate p** (one per ``--rates``): ``make_multimodal_pipeline(X, y,
  on_missing="mask", model_params={"modality_dropout": p})``, scored on the complete test
  rows and on the test rows with one modality absent in every row (image paths None, texts
  None, numbers NaN, categories None);
- **without m** (``--references``): the default pipeline on every column but modality
  ``m``'s, scored on the complete test rows: what a model that never had ``m`` achieves,
  the baseline the degraded score is compared against.

The degradation table gives, per modality, ``absent - without`` (goal: >= -0.02) with the
fold standard deviation of that difference; the dropout table the complete-data score of
each rate against today's. The reviews data is read from ``--data-dir`` (default
``../shared/data``).

Examples::

    python benchmarks/bench_missing.py --cases fused --rates 0,0.25 --folds 3
    python benchmarks/bench_missing.py --cases interaction,products --rates 0,0.1,0.25 \\
        --folds 3 --no-references
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
from _harness import parse_overrides  # noqa: E402
from bench_quality import REPO, SUITE_CASES, subsample, suite_data  # noqa: E402
from sklearn.metrics import accuracy_score  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402

from skmultimodal.auto import make_multimodal_pipeline  # noqa: E402


def blank(X: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``X`` with ``columns`` missing in every row (None for object columns, NaN otherwise)."""
    X = X.copy()
    for column in columns:
        if pd.api.types.is_numeric_dtype(X[column]):
            X[column] = np.nan
        else:
            X[column] = pd.Series([None] * len(X), index=X.index, dtype=object)
    return X


def fit_score(X_train, y_train, X_test_sets, params, extra, random_state, on_missing="error"):
    """Fit one pipeline; return its accuracy on each test set (a dict name -> DataFrame)."""
    pipe = make_multimodal_pipeline(
        X_train,
        y_train,
        task="classification",
        image_size=extra.get("image_size"),
        random_state=random_state,
        on_missing=on_missing,
        model_params=params,
    )
    pipe.fit(X_train, y_train)
    return {name: accuracy_score(y, pipe.predict(X)) for name, (X, y) in X_test_sets.items()}


def run_case(case: str, args) -> dict:
    folder = Path(tempfile.mkdtemp(prefix=f"bench_missing_{case}_"))
    try:
        X, y, modalities, task, extra = suite_data(case, args, folder)
        if task != "classification":
            raise SystemExit(f"{case} is a regression case; this benchmark scores accuracy.")
        keep = subsample(len(y), y, args.n_samples)
        columns = [c for cols in modalities.values() for c in cols]
        X, y = X.iloc[keep].reset_index(drop=True)[columns], np.asarray(y)[keep]
        folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(X, y))[: args.folds]
        base = dict(extra.get("params", {}))
        scores: dict[str, list[float]] = {}

        def add(name: str, value: float) -> None:
            scores.setdefault(name, []).append(value)

        for fold, (train, test) in enumerate(folds):
            start = time.perf_counter()
            X_tr, y_tr, X_te, y_te = X.iloc[train], y[train], X.iloc[test], y[test]
            today = fit_score(X_tr, y_tr, {"all": (X_te, y_te)}, base, extra, args.random_state)
            add("today", today["all"])
            absent_sets = {
                f"no {name}": (blank(X_te, cols), y_te) for name, cols in modalities.items()
            }
            for rate in args.rates:
                result = fit_score(
                    X_tr,
                    y_tr,
                    {"all": (X_te, y_te), **absent_sets},
                    {**base, **args.masked_params, "modality_dropout": rate},
                    extra,
                    args.random_state,
                    on_missing="mask",
                )
                for name, value in result.items():
                    add(f"masked {rate} {name}", value)
            if args.references:
                for name, cols in modalities.items():
                    rest = [c for c in columns if c not in cols]
                    result = fit_score(
                        X_tr[rest],
                        y_tr,
                        {"all": (X_te[rest], y_te)},
                        base,
                        extra,
                        args.random_state,
                    )
                    add(f"without {name}", result["all"])
            print(
                f"  {case} fold {fold}: "
                + ", ".join(f"{k} {v[-1]:.3f}" for k, v in scores.items())
                + f" ({time.perf_counter() - start:.0f} s)",
                flush=True,
            )
        return {
            "n": len(y),
            "modalities": list(modalities),
            "scores": {k: np.array(v) for k, v in scores.items()},
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def dropout_table(results: dict, rates: list[float]) -> list[str]:
    header = ["case", "rows", "today (no masks)"] + [f"masked, dropout {r}" for r in rates]
    rows = []
    for case, result in results.items():
        s = result["scores"]
        cells = [case, result["n"], f"{s['today'].mean():.3f} ± {s['today'].std():.3f}"]
        for rate in rates:
            full = s[f"masked {rate} all"]
            diff = full - s["today"]
            cells.append(f"{full.mean():.3f} ± {full.std():.3f} ({diff.mean():+.3f})")
        rows.append(cells)
    return harness.table(header, rows)


def degradation_table(results: dict, rates: list[float]) -> list[str]:
    header = ["case", "modality absent at predict", "without it (trained so)"] + [
        f"dropout {r}: absent (absent - without ± fold std)" for r in rates
    ]
    rows = []
    for case, result in results.items():
        s = result["scores"]
        for name in result["modalities"]:
            reference = s.get(f"without {name}")
            cells = [
                case,
                name,
                "-" if reference is None else f"{reference.mean():.3f} ± {reference.std():.3f}",
            ]
            for rate in rates:
                absent = s[f"masked {rate} no {name}"]
                if reference is None:
                    cells.append(f"{absent.mean():.3f}")
                else:
                    diff = absent - reference
                    cells.append(f"{absent.mean():.3f} ({diff.mean():+.3f} ± {diff.std():.3f})")
            rows.append(cells)
    return harness.table(header, rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="fused", help=f"comma-separated: {SUITE_CASES}")
    parser.add_argument("--rates", default="0,0.25", help="modality_dropout values")
    parser.add_argument("--folds", type=int, default=3, help="the first k of the 5 folds")
    parser.add_argument("--n-samples", type=int, default=3000, help="stratified subsample")
    parser.add_argument("--no-references", dest="references", action="store_false")
    parser.add_argument(
        "--masked-set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an estimator parameter of the masked models only (repeatable), e.g. epochs=40",
    )
    parser.add_argument("--data-dir", type=Path, default=REPO / ".." / "shared" / "data")
    parser.add_argument("--random-state", type=int, default=0)
    harness.add_results_options(parser)
    args = parser.parse_args(argv)
    args.rates = [float(r) for r in args.rates.split(",")]
    args.masked_params = parse_overrides(args.masked_set)
    import keras
    import tensorflow as tf

    results = {}
    for case in args.cases.split(","):
        start = time.perf_counter()
        results[case] = run_case(case, args)
        print(f"  {case}: {time.perf_counter() - start:.0f} s", flush=True)
    body = [
        f"First {args.folds} of the 5 folds of StratifiedKFold(shuffle=True, random_state=0); "
        f"accuracy, mean ± std over the folds; {harness.environment(tf, keras)}."
        + (f" Masked models also get {args.masked_params}." if args.masked_params else ""),
        "",
        "Modality dropout, complete test rows (difference to today's default in brackets):",
        "",
        *dropout_table(results, args.rates),
        "",
        "One modality absent in every test row, against a model trained without it:",
        "",
        *degradation_table(results, args.rates),
    ]
    print()
    harness.print_lines(body)
    harness.record(args, "bench_missing.py", argv, "Missing modalities", body)


if __name__ == "__main__":
    main()
