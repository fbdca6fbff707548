"""Estimator parameters ("levers") against the defaults on one regression case, same folds.

``make_multimodal_pipeline(X, y)`` is built on each training fold of a case of
``bench_quality.py --case regression``; its preprocessing (``"prep"``) is fitted once per
fold, and its estimator (``"clf"``) is fitted once per variant: the defaults and each
``--variant NAME='{"param": value}'``, so the image decoding is not repeated per variant;
``--ensemble`` adds ``MultimodalEnsembleRegressor()`` fitted on the raw training fold.
The models are those ``bench_quality.py --case regression --set param=value`` fits (the same
pipeline, folds and ``random_state``). Printed: each fold's MAPE (MAE for targets that are not
positive) and a table of the mean, the standard deviation, and the mean ratio to the
defaults' score on the same folds.

Example (the houses table with real drawings as photos, 3 folds)::

    TF_CPP_MIN_LOG_LEVEL=3 python benchmarks/bench_levers.py --case houses-clipart-photos \
        --folds 3 --variant late='{"fusion": "late"}' --variant es='{"early_stopping": true}'
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from _regression import HOUSE_NUMBERS, regression_data
from sklearn.base import clone
from sklearn.metrics import mean_absolute_error, mean_absolute_percentage_error
from sklearn.model_selection import KFold

from skmultimodal.auto import make_multimodal_pipeline
from skmultimodal.ensemble import MultimodalEnsembleRegressor


def _variant(text: str) -> tuple[str, dict]:
    name, _, params = text.partition("=")
    return name, json.loads(params)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", required=True, help="a bench_quality regression case")
    parser.add_argument("--variant", action="append", type=_variant, default=[])
    parser.add_argument("--folds", type=int, default=3, help="the first k of 5 folds")
    parser.add_argument("--numbers-only", action="store_true", help="houses: also the numbers")
    parser.add_argument(
        "--ensemble", action="store_true", help="also MultimodalEnsembleRegressor() on the table"
    )
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args()
    if args.numbers_only and not args.case.startswith("houses"):
        parser.error("--numbers-only: the houses cases only")

    folder = Path(tempfile.mkdtemp())
    X, y, _, task, base_dir = regression_data(args.case, folder, None, args.data_dir)
    metric = mean_absolute_percentage_error if (y > 0).all() else mean_absolute_error
    variants = {"defaults": {}, **dict(args.variant)}
    scores = {name: [] for name in variants}
    if args.numbers_only:
        scores["numbers only (defaults)"] = []
    if args.ensemble:
        scores["ensemble (defaults)"] = []
    folds = list(KFold(5, shuffle=True, random_state=0).split(X))[: args.folds]
    for k, (train, test) in enumerate(folds):
        pipe = make_multimodal_pipeline(
            X.iloc[train], y[train], task=task, base_dir=base_dir, random_state=args.random_state
        )
        prep = pipe["prep"].fit(X.iloc[train], y[train])
        X_train, X_test = prep.transform(X.iloc[train]), prep.transform(X.iloc[test])
        for name, params in variants.items():
            start = time.perf_counter()
            model = clone(pipe["clf"]).set_params(**params).fit(X_train, y[train])
            scores[name].append(metric(y[test], model.predict(X_test)))
            print(f"fold {k}: {name}: {scores[name][-1]:.4g} ({time.perf_counter() - start:.0f} s)")
        if args.numbers_only:
            numbers = make_multimodal_pipeline(
                X.iloc[train][HOUSE_NUMBERS], y[train], task=task, random_state=args.random_state
            ).fit(X.iloc[train][HOUSE_NUMBERS], y[train])
            scores["numbers only (defaults)"].append(
                metric(y[test], numbers.predict(X.iloc[test][HOUSE_NUMBERS]))
            )
        if args.ensemble:
            ensemble = MultimodalEnsembleRegressor(
                base_dir=base_dir, random_state=args.random_state
            ).fit(X.iloc[train], y[train])
            scores["ensemble (defaults)"].append(metric(y[test], ensemble.predict(X.iloc[test])))
            print(f"fold {k}: ensemble weights {ensemble.weights_}")

    reference = np.array(scores["defaults"])
    print(f"\n{args.case}, {len(folds)} folds, {metric.__name__}")
    print("| variant | mean ± std | ratio to defaults (mean over folds) |")
    print("|---|---|---|")
    for name, values in scores.items():
        values = np.array(values)
        print(
            f"| {name} | {values.mean():.4g} ± {values.std():.2g} | "
            f"{np.mean(values / reference):.3f} |"
        )


if __name__ == "__main__":
    main()
