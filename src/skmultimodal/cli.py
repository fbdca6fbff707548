"""Command line: ``python -m skmultimodal demo`` (also installed as ``skmultimodal``).

The demo builds the built-in data set, cross-validates the fused pipeline against one
pipeline per modality, runs a small grid search over one preprocessing and one model
parameter, and prints the results as a table.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path

MODALITIES = ("image", "text", "series", "category")


def make_demo_pipeline(
    modalities: Sequence[str] = MODALITIES,
    series_columns: Sequence[str] = (),
    image_size: tuple[int, int] = (16, 16),
    epochs: int = 20,
    random_state: int | None = 0,
):
    """The demo's pipeline: ``MultiInputTransformer`` + ``MultiInputKerasClassifier``.

    Parameters
    ----------
    modalities : sequence of str, default=("image", "text", "series", "category")
        Which columns of :func:`~skmultimodal.datasets.make_multimodal_classification`
        the model sees; one entry gives a single-modality baseline.
    series_columns : sequence of str
        The time-step columns (``"t0"``, ``"t1"``, ...), grouped by time step.
    image_size : tuple of int, default=(16, 16)
    epochs : int, default=20
    random_state : int or None, default=0

    Returns
    -------
    sklearn.pipeline.Pipeline
        Steps ``"prep"`` and ``"clf"``.

    Examples
    --------
    >>> pipe = make_demo_pipeline(["text", "category"])
    >>> [name for name, _, _ in pipe.named_steps["prep"].transformers]
    ['text', 'category']
    """
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from . import (
        ImageLoader,
        MultiInputKerasClassifier,
        MultiInputTransformer,
        TextTokenizer,
        TimeStepReshaper,
    )

    steps = {
        "image": ("image", ImageLoader(target_size=image_size), "image"),
        "text": ("text", TextTokenizer(), "text"),
        "series": (
            "series",
            make_pipeline(StandardScaler(), TimeStepReshaper(timesteps=len(series_columns))),
            list(series_columns),
        ),
        "category": ("category", OneHotEncoder(sparse_output=False), ["category"]),
    }
    unknown = sorted(set(modalities) - set(steps))
    if unknown:
        raise ValueError(f"Unknown modalities {unknown}; choose from {sorted(steps)}.")
    classifier = MultiInputKerasClassifier(
        image_filters=(8, 16),
        text_embedding_dim=16,
        text_units=16,
        sequence_units=16,
        tabular_units=8,
        head_units=(16,),
        epochs=epochs,
        random_state=random_state,
    )
    prep = MultiInputTransformer([steps[name] for name in modalities])
    return Pipeline([("prep", prep), ("clf", classifier)])


def _format_table(rows: list[dict], columns: Sequence[str]) -> str:
    cells = [[str(row[column]) for column in columns] for row in rows]
    widths = [max(len(column), *(len(c[i]) for c in cells)) for i, column in enumerate(columns)]
    lines = ["  ".join(column.ljust(w) for column, w in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(cell, widths, strict=True)) for cell in cells]
    return "\n".join(lines)


def run_demo(
    n_samples: int = 400,
    epochs: int = 20,
    cv: int = 3,
    random_state: int = 0,
    out=sys.stdout,
) -> list[dict]:
    """Cross-validate fused vs single-modality pipelines and run a small grid search.

    Parameters
    ----------
    n_samples : int, default=400
    epochs : int, default=20
    cv : int, default=3
        Number of stratified folds.
    random_state : int, default=0
    out : file-like, default=sys.stdout
        Where the progress lines and tables are written.

    Returns
    -------
    list of dict
        One row per pipeline: ``model``, ``accuracy`` (mean), ``std``, ``seconds``.
    """
    from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score

    from .datasets import make_multimodal_classification

    X, y = make_multimodal_classification(n_samples, random_state=random_state)
    image_dir = Path(X["image"].iloc[0]).parent
    series_columns = [column for column in X.columns if re.fullmatch(r"t\d+", column)]
    folds = StratifiedKFold(cv, shuffle=True, random_state=random_state)
    print(
        f"Built-in data set: {n_samples} samples, columns {list(X.columns[:3])} ... "
        f"'category'; {cv}-fold cross-validation, {epochs} epochs.",
        file=out,
    )
    rows = []
    try:
        candidates = [("fused: " + " + ".join(MODALITIES), MODALITIES)]
        candidates += [(f"{name} only", (name,)) for name in MODALITIES]
        for label, modalities in candidates:
            start = time.perf_counter()
            pipe = make_demo_pipeline(modalities, series_columns, epochs=epochs)
            scores = cross_val_score(pipe, X, y, cv=folds)
            rows.append(
                {
                    "model": label,
                    "accuracy": f"{scores.mean():.3f}",
                    "std": f"{scores.std():.3f}",
                    "seconds": f"{time.perf_counter() - start:.1f}",
                }
            )
            print(f"  {label}: accuracy {scores.mean():.3f}", file=out, flush=True)
        print("", _format_table(rows, ["model", "accuracy", "std", "seconds"]), sep="\n", file=out)

        start = time.perf_counter()
        search = GridSearchCV(
            make_demo_pipeline(MODALITIES, series_columns, epochs=epochs),
            {"prep__text__max_words": [8, None], "clf__head_units": [(), (16,)]},
            # Two folds keep the 4-candidate search within the demo's time budget.
            cv=StratifiedKFold(2, shuffle=True, random_state=random_state),
        ).fit(X, y)
        grid_rows = [
            {
                "prep__text__max_words": params["prep__text__max_words"],
                "clf__head_units": params["clf__head_units"],
                "accuracy": f"{mean:.3f}",
            }
            for params, mean in zip(
                search.cv_results_["params"],
                search.cv_results_["mean_test_score"],
                strict=True,
            )
        ]
        print(
            f"\nGridSearchCV ({time.perf_counter() - start:.1f} s), best: {search.best_params_}",
            _format_table(grid_rows, ["prep__text__max_words", "clf__head_units", "accuracy"]),
            sep="\n",
            file=out,
        )
    finally:
        shutil.rmtree(image_dir, ignore_errors=True)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m skmultimodal`` and the ``skmultimodal`` script.

    Parameters
    ----------
    argv : sequence of str, default=None
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status.
    """
    parser = argparse.ArgumentParser(prog="skmultimodal", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="cross-validate fused vs single-modality models")
    demo.add_argument("--quick", action="store_true", help="small data, few epochs (for CI)")
    demo.add_argument("--n-samples", type=int, default=None, help="default 400 (120 quick)")
    demo.add_argument("--epochs", type=int, default=None, help="default 20 (5 quick)")
    demo.add_argument("--cv", type=int, default=3, help="number of folds (default 3)")
    demo.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    n_samples = args.n_samples or (120 if args.quick else 400)
    epochs = args.epochs or (5 if args.quick else 20)
    run_demo(n_samples=n_samples, epochs=epochs, cv=args.cv, random_state=args.random_state)
    return 0
