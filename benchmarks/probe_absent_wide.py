"""Diagnostic: does a missing text's wide path explain the masked model's loss without it?

With ``on_missing="mask"``, a row without its text has its token input masked, but the same
column's wide inputs (``<text>_tfidf``, ``<text>_chars``) and its linear scores
(``<text>_scores``) are not: the absence calibration switches off the token input of copies
whose TF-IDF, n-grams and scores still hold the real text, and at predict an absent text
gives zero TF-IDF and the scores of an empty text, which no training row had. This script
fits the products case's masked model on fold 0 twice: as it is (``as-is``), and with every
model batch in which the text is absent getting zeros in those wide and scores inputs too
(``switched-off``; a patch of ``to_model_batch`` for this diagnostic only). Printed:
accuracy on complete test rows and with the product name absent in every test row.

    cd benchmarks && TF_CPP_MIN_LOG_LEVEL=3 python probe_absent_wide.py switched-off

This is the diagnosis of the masked products model before f13450a. Since then the
transformer's ``presence_groups_`` tie those inputs to the text's mask inside the model,
so ``as-is`` is the fixed model and ``switched-off`` only zeroes again what the model
already switches off (not rerun since).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_missing import blank
from bench_quality import subsample, suite_data
from scipy import sparse
from sklearn.metrics import accuracy_score
from sklearn.model_selection import StratifiedKFold

import skmultimodal._training as training
from skmultimodal.auto import make_multimodal_pipeline

_ORIGINAL = training.to_model_batch
_SWITCH: dict = {"presence": None, "inputs": []}


def _switched_off(batch):
    """``batch`` with the text's wide and scores inputs zeroed where the text is absent."""
    key = _SWITCH["presence"]
    if key and isinstance(batch, dict) and key in batch:
        present = np.asarray(batch[key]).reshape(len(np.asarray(batch[key])), -1)[:, 0] > 0.5
        if not present.all():
            batch = dict(batch)
            keep = present.astype("float32")
            for name in _SWITCH["inputs"]:
                value = batch[name]
                batch[name] = (
                    sparse.diags(keep) @ value
                    if sparse.issparse(value)
                    else value * keep.reshape(-1, *[1] * (np.ndim(value) - 1))
                )
    return _ORIGINAL(batch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["as-is", "switched-off"])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    args = parser.parse_args()
    args.n_samples, args.random_state = None, 0
    X, y, modalities, _, extra = suite_data("products", args, Path(tempfile.mkdtemp()))
    columns = [c for cols in modalities.values() for c in cols]
    keep = subsample(len(y), y, None)
    X, y = X.iloc[keep].reset_index(drop=True)[columns], np.asarray(y)[keep]
    train, test = next(StratifiedKFold(5, shuffle=True, random_state=0).split(X, y))
    pipe = make_multimodal_pipeline(
        X.iloc[train],
        y[train],
        task="classification",
        image_size=extra.get("image_size"),
        random_state=0,
        on_missing="mask",
        model_params=dict(extra.get("params", {})),
    )
    keys = list(pipe["prep"].fit(X.iloc[train], y[train]).transform(X.iloc[:3]))
    if args.mode == "switched-off":
        training.to_model_batch = _switched_off
        _SWITCH["presence"] = "text__present"
        _SWITCH["inputs"] = [k for k in keys if k.startswith("text_") and "__" not in k]
    print(f"inputs {keys}; switched off with the text: {_SWITCH['inputs']}", file=sys.stderr)
    start = time.perf_counter()
    pipe.fit(X.iloc[train], y[train])
    complete = accuracy_score(y[test], pipe.predict(X.iloc[test]))
    absent = accuracy_score(y[test], pipe.predict(blank(X.iloc[test], modalities["name"])))
    print(f"| {args.mode} | {complete:.3f} | {absent:.3f} | {time.perf_counter() - start:.0f} s |")


if __name__ == "__main__":
    main()
