"""Command line of skmultimodal: a demo, and cv / fit / predict on your own CSV file.

Also installed as the ``skmultimodal`` script. Commands:

- ``demo`` builds the built-in data set, cross-validates the fused pipeline against one
  pipeline per modality, runs a small grid search over one preprocessing and one model
  parameter, and prints the results as a table.
- ``cv data.csv --target label`` detects the role of every column
  (:func:`skmultimodal.auto.detect_column_roles`), prints them, and cross-validates the
  pipeline of :func:`skmultimodal.auto.make_multimodal_pipeline`, one line per fold.
- ``fit data.csv --target label -o model.skops`` fits that pipeline on every row and saves
  it with ``skops.io`` (no pickle); ``--plots DIR`` also writes ``history.png`` and
  ``model.png``.
- ``predict model.skops new.csv -o predictions.csv`` writes the predictions (and the
  class probabilities of a classifier) in the row order of ``new.csv``.

Relative image paths in a CSV file are resolved against the folder of that file, and by
default only images inside that folder, in a common format (:data:`SAFE_IMAGE_FORMATS`),
are read: a CSV file may come from elsewhere. ``--allow-any-path`` and
``--image-formats all`` widen that. Errors in the input (missing file, unreadable CSV,
unknown column or role, missing image, output path that cannot be written) end the
command with exit status 2 and one line on stderr, before any training.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import math
import os
import re
import shutil
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

MODALITIES = ("image", "text", "series", "category")

#: The image formats the commands decode unless ``--image-formats`` says otherwise: Pillow
#: hands some other formats to outside programs (EPS to Ghostscript).
SAFE_IMAGE_FORMATS = ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP")


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
        # Branches this small lose accuracy to dropout on the demo's 400 samples, the more
        # the higher the rate (docs/user_guide/hyperparameters.md).
        dropout=0.0,
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
    plots: str | os.PathLike | None = None,
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
    plots : str or os.PathLike, default=None
        Folder where the training history and the architecture of the grid search's best
        pipeline (refitted on all samples) are written as ``history.png`` and
        ``model.png`` (see :func:`save_plots`); None writes no picture.

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
        if plots is not None:
            save_plots(search.best_estimator_, plots, out=out)
    finally:
        shutil.rmtree(image_dir, ignore_errors=True)
    return rows


class CommandError(Exception):
    """An error in the user's input: ``main`` prints it as one line and exits with 2."""


def _read_csv(path: str | os.PathLike):
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise CommandError(f"CSV file {str(path)!r} {what}.")
    try:
        frame = pd.read_csv(path)
    except PermissionError as exc:
        raise CommandError(f"Cannot read CSV file {str(path)!r}: permission denied.") from exc
    except pd.errors.EmptyDataError as exc:
        raise CommandError(f"CSV file {str(path)!r} is empty.") from exc
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        detail = " ".join(str(exc).split())
        raise CommandError(f"Cannot read {str(path)!r} as a CSV file: {detail}") from exc
    if len(frame) == 0:
        raise CommandError(f"CSV file {str(path)!r} has a header but no rows.")
    return frame


def _split_target(frame, target: str, path, out):
    if target not in frame.columns:
        raise CommandError(
            f"Target column {target!r} is not in {str(path)!r}; its columns are "
            f"{list(frame.columns)}."
        )
    unlabeled = frame[target].isna().to_numpy()
    if unlabeled.all():
        raise CommandError(f"Target column {target!r} of {str(path)!r} has no values.")
    if unlabeled.any():
        print(
            f"Skipping {int(unlabeled.sum())} rows without a value in {target!r}.",
            file=out,
        )
        frame = frame[~unlabeled].reset_index(drop=True)
    return frame.drop(columns=[target]), frame[target].to_numpy()


def _parse_roles(pairs: Sequence[str] | None) -> dict[str, str]:
    roles = {}
    for pair in pairs or ():
        column, sep, role = pair.rpartition("=")
        if not sep or not column:
            raise CommandError(f"--role expects COLUMN=ROLE (e.g. --role id=ignore), got {pair!r}.")
        roles[column] = role
    return roles


def _check_output_file(
    path: str | os.PathLike, what: str, inputs: Sequence[tuple[str, object]] = ()
) -> Path:
    """CommandError unless ``path`` can be written as a file without replacing one of the
    command's ``inputs`` (``(what, path)`` pairs); checked before any work."""
    path = Path(path)
    for name, source in inputs:
        if _same_file(path, Path(source)):
            raise CommandError(
                f"The {what} {str(path)!r} is the {name}; writing it would destroy that "
                "file. Give another file name."
            )
    if path.is_dir():
        raise CommandError(f"The {what} {str(path)!r} is a folder; give a file name.")
    folder = path.parent
    if not folder.is_dir():
        raise CommandError(f"The folder of the {what} {str(path)!r} does not exist.")
    if not os.access(path if path.exists() else folder, os.W_OK):
        raise CommandError(f"The {what} {str(path)!r} cannot be written (permission denied).")
    return path


def _same_file(a: Path, b: Path) -> bool:
    """Whether two paths name the same file (links and relative paths resolved)."""
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _check_output_folder(path: str | os.PathLike, what: str) -> None:
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise CommandError(f"The {what} {str(path)!r} is a file, not a folder.")


def _image_formats(value: str | Sequence[str] | None) -> list[str] | None:
    """``--image-formats``: "all" -> None (every Pillow format), else the names, checked."""
    from PIL import Image

    if value is None:
        names = list(SAFE_IMAGE_FORMATS)
    elif isinstance(value, str) and value.strip().lower() == "all":
        return None
    else:
        parts = value.split(",") if isinstance(value, str) else value
        names = [part.strip().upper() for part in parts if part.strip()]
    Image.init()
    unknown = [name for name in names if name not in Image.OPEN]
    if unknown or not names:
        raise CommandError(
            f"--image-formats: unknown image formats {unknown or names}; give 'all' or a "
            f"comma-separated list of Pillow formats, e.g. {','.join(SAFE_IMAGE_FORMATS)}."
        )
    return names


def _check_image_paths(X, column_roles, base_dir: Path) -> None:
    """CommandError naming the first image path that resolves outside ``base_dir``."""
    root = os.path.realpath(base_dir)
    for column in column_roles.columns("image"):
        for row, value in X[column].items():
            if not isinstance(value, (str, os.PathLike)):
                continue  # missing or not a path: reported by make_multimodal_pipeline
            real = os.path.realpath(os.path.join(root, os.fspath(value)))
            if os.path.commonpath([real, root]) != root:
                raise CommandError(
                    f"Column {column!r}, row {row}: image path {value!r} resolves to "
                    f"{real!r}, outside the folder of the CSV file {root!r}. Move the images "
                    "there, or pass --allow-any-path if you trust the file."
                )


def _secure_image_loaders(
    estimator, base_dir: Path, *, allow_any_path: bool, formats: list[str] | None
) -> None:
    """Point every ImageLoader at ``base_dir``, confined to it unless allowed, with ``formats``.

    Through ``set_params``, also on a fitted loader (``predict`` on a model the command
    loaded itself): these parameters only say where and how ``transform`` reads files;
    ``ImageLoader.fit`` reads no file, so nothing it learnt depends on them, as nothing
    depends on ``n_jobs``.
    """
    for loader in _image_loaders(estimator):
        loader.set_params(
            # A str, not a Path: skops.io trusts str, and would refuse to load a PosixPath.
            base_dir=os.fspath(base_dir),
            restrict_to_base_dir=not allow_any_path,
            formats=None if formats is None else list(formats),
        )


def _prepare(
    csv, target, *, roles=None, task="auto", target_transform="auto", out=None, ensemble=False
):
    """Read the CSV file, split the target off, detect the roles and the task; print them.

    Returns ``X, y, base_dir, column_roles, task, target_transform`` with the task and
    the target transform resolved (``"auto"`` replaced by what the rules chose).
    """
    import warnings

    import pandas as pd

    from .auto import choose_target_transform, detect_column_roles, detect_task

    out = sys.stdout if out is None else out
    frame = _read_csv(csv)
    X, y = _split_target(frame, target, csv, out)
    base_dir = Path(csv).resolve().parent
    column_roles = detect_column_roles(X, base_dir=base_dir, overrides=_parse_roles(roles))
    # type_of_target would call whole-number prices "multiclass" next to a Task line that
    # says regression: the header states the count, the Task line the decision.
    n_distinct = pd.Series(y).nunique()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        task, reason = detect_task(y, task)
    print(
        f"Read {csv}: {len(X)} rows, {X.shape[1]} feature columns; target {target!r} "
        f"({n_distinct} distinct values).",
        "Column roles (change them with --role COLUMN=ROLE):",
        *repr(column_roles).splitlines()[1:-1],
        sep="\n",
        file=out,
        flush=True,
    )
    if task == "classification":
        print(
            f"Task: classification with "
            f"{'MultimodalEnsembleClassifier' if ensemble else 'MultiInputKerasClassifier'}, "
            f"because {reason} "
            "(change it with --task).",
            file=out,
        )
    else:
        if target_transform == "auto":
            target_transform, why = choose_target_transform(y)
        else:
            why = "--target-transform was given"
        print(
            f"Task: regression with "
            f"{'MultimodalEnsembleRegressor' if ensemble else 'MultiInputKerasRegressor'}, "
            f"because {reason} (change it "
            f"with --task); target transform {target_transform!r}: {why} (change it with "
            "--target-transform).",
            file=out,
        )
    for warning in caught:
        print(f"Warning: {warning.message}", file=out)
    out.flush()
    return X, y, base_dir, column_roles, task, target_transform


_ROUTED_PREFIXES = ("optimizer__", "loss__", "metrics__", "callbacks__", "fit__", "predict__")


def parse_settings(items: Sequence[str] | None) -> dict:
    """``["NAME=VALUE", ...]`` (``--set``) as estimator parameters.

    A value is read as a Python literal when it is one (``3``, ``0.5``, ``None``,
    ``(16, 32)``, ``'avg'``), else kept as text (``avg``). A name must be a parameter of
    the network estimators, or routed to the optimizer, loss, metrics, callbacks, fit or
    predict (``optimizer__learning_rate=0.003``).

    Examples
    --------
    >>> parse_settings(["dropout=0.3", "image_pooling=avg", "head_units=(32,)"])
    {'dropout': 0.3, 'image_pooling': 'avg', 'head_units': (32,)}
    """
    from .estimators import MultiInputKerasClassifier, MultiInputKerasRegressor

    known = set(MultiInputKerasClassifier().get_params()) | set(
        MultiInputKerasRegressor().get_params()
    )
    settings = {}
    for item in items or ():
        name, equals, text = item.partition("=")
        name = name.strip()
        if not equals or not name:
            raise CommandError(f"--set {item!r}: expected NAME=VALUE, e.g. --set dropout=0.3.")
        if name not in known and not name.startswith(_ROUTED_PREFIXES):
            close = difflib.get_close_matches(name, sorted(known), n=3)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            raise CommandError(
                f"--set {item!r}: {name!r} is not a parameter of the network estimators "
                f"(docs/user_guide/api.md lists them).{hint}"
            )
        try:
            settings[name] = ast.literal_eval(text.strip())
        except (ValueError, SyntaxError):
            settings[name] = text.strip()
    return settings


def _model_params(epochs: int | None, verbose: int) -> dict:
    """The estimator parameters the commands set: the verbosity (0: the estimator's
    ``"auto"``, a progress line per fit on a terminal), and epochs if given."""
    params = {"verbose": verbose or "auto"}
    return params if epochs is None else {**params, "epochs": epochs}


def _pipeline_from_csv(
    csv, target, roles, task, target_transform, *, out, random_state, model_params, images
):
    """Read the CSV file and build the auto-detected pipeline for it (not fitted).

    ``images`` holds ``on_error``, ``allow_any_path`` and ``formats`` as the commands take
    them. Returns ``X, y, pipeline, task, target_transform`` with the task and target
    transform resolved.
    """
    from .auto import make_multimodal_pipeline

    formats = _image_formats(images["formats"])  # checked before the CSV file is read
    X, y, base_dir, column_roles, task, target_transform = _prepare(
        csv,
        target,
        roles=roles,
        task=task,
        target_transform=target_transform,
        out=out,
        ensemble=images.get("ensemble", False),
    )
    if not images["allow_any_path"]:
        # Before make_multimodal_pipeline, which opens the first image to size the model.
        _check_image_paths(X, column_roles, base_dir)
    pipe = make_multimodal_pipeline(
        X,
        y,
        base_dir=base_dir,
        task=task,
        target_transform=target_transform,
        roles=column_roles,
        model_params=model_params,
        random_state=random_state,
        image_on_error=images["on_error"],
        on_missing=images.get("on_missing", "error"),
        ensemble=images.get("ensemble", False),
    )
    if hasattr(pipe, "named_steps"):
        _secure_image_loaders(
            pipe, base_dir, allow_any_path=images["allow_any_path"], formats=formats
        )
    else:  # the ensemble builds its members' loaders at fit: it sets these on each
        pipe.set_params(
            image_params={
                "restrict_to_base_dir": not images["allow_any_path"],
                "formats": None if formats is None else list(formats),
            }
        )
    return X, y, pipe, task, target_transform


def _describe_estimator(pipe) -> str:
    """``"MultiInputKerasClassifier (epochs=20)"``, or the ensemble's name and its network's
    epochs."""
    from .auto import DEFAULT_MODEL_PARAMS

    if hasattr(pipe, "named_steps"):
        clf = pipe.named_steps["clf"]
        return f"{type(clf).__name__} (epochs={clf.epochs})"
    epochs = (pipe.model_params or {}).get("epochs", DEFAULT_MODEL_PARAMS["epochs"])
    return f"{type(pipe).__name__} (members {', '.join(pipe.members)}; network epochs={epochs})"


def _fold_metrics(model, X, y, classifier: bool) -> dict[str, float]:
    """The command line's report for one fold: several metrics of one fitted model.

    Regression: MAE, MAPE (only if no target is 0), RMSE and R². Classification:
    accuracy, balanced accuracy, ROC-AUC (binary, or one-vs-rest averaged over classes)
    and log-loss. Multi-output targets get the metrics scikit-learn defines for them.
    """
    import numpy as np
    from sklearn import metrics

    predicted = model.predict(X)
    if not classifier:
        result = {
            "MAE": metrics.mean_absolute_error(y, predicted),
            "MAPE": (
                metrics.mean_absolute_percentage_error(y, predicted)
                if np.all(np.asarray(y) != 0)
                else float("nan")
            ),
            "RMSE": float(np.sqrt(metrics.mean_squared_error(y, predicted))),
            "R2": metrics.r2_score(y, predicted),
        }
        return {name: float(value) for name, value in result.items()}
    result = {"accuracy": metrics.accuracy_score(y, predicted)}
    if np.asarray(y).ndim > 1:
        return {name: float(value) for name, value in result.items()}
    result["balanced_accuracy"] = metrics.balanced_accuracy_score(y, predicted)
    classes = model.classes_
    proba = model.predict_proba(X)
    try:
        if len(classes) == 2:
            result["roc_auc"] = metrics.roc_auc_score(y == classes[1], proba[:, 1])
        else:
            result["roc_auc"] = metrics.roc_auc_score(y, proba, multi_class="ovr", labels=classes)
    except ValueError:  # a class missing from this fold's test rows
        result["roc_auc"] = float("nan")
    result["log_loss"] = metrics.log_loss(y, proba, labels=classes)
    return {name: float(value) for name, value in result.items()}


def _format_metrics(values: dict[str, float]) -> str:
    parts = []
    for name, value in values.items():
        if math.isnan(value):
            parts.append(f"{name} n/a")
        elif name == "MAPE":
            parts.append(f"{name} {100 * value:.1f}%")
        else:
            parts.append(f"{name} {_number(value)}")
    return "  ".join(parts)


def _number(value: float, like: float | None = None) -> str:
    """Four significant digits; amounts such as prices in whole units with separators.

    ``like``: format ``value`` (a spread) as that number (its mean) is formatted.
    """
    scale = abs(value if like is None else like)
    return f"{value:,.0f}" if scale >= 10_000 else f"{value:.4g}"


def run_cv(
    csv: str | os.PathLike,
    target: str,
    *,
    cv: int = 5,
    epochs: int | None = None,
    scoring: str | None = None,
    task: str = "auto",
    target_transform: str | None = "auto",
    roles: Sequence[str] | None = None,
    random_state: int = 0,
    verbose: int = 0,
    out=None,
    image_errors: str = "raise",
    allow_any_path: bool = False,
    image_formats: str | Sequence[str] | None = None,
    missing: str = "error",
    ensemble: bool = False,
    settings: Mapping[str, Any] | None = None,
) -> dict:
    """Cross-validate the auto-detected pipeline on a CSV file, printing one line per fold.

    The header says which task and estimator were chosen and why. Each fold's line gives
    the primary score (``scoring``) and a report: MAE, MAPE, RMSE and R² for a regressor;
    accuracy, balanced accuracy, ROC-AUC and log-loss for a classifier. The last lines
    give each metric's mean and standard deviation over the folds.

    Parameters
    ----------
    csv : str or os.PathLike
        The table; relative image paths are resolved against its folder.
    target : str
        Name of the target column.
    cv : int, default=5
        Number of folds: ``StratifiedKFold`` for classifiers, ``KFold`` for regressors,
        both shuffled with ``random_state``.
    epochs : int, default=None
        Training epochs per fold (None: the default of
        :func:`~skmultimodal.auto.make_multimodal_pipeline`).
    scoring : str, default=None
        A scikit-learn scorer name; None is ``"accuracy"`` for classifiers and ``"r2"``
        for regressors.
    task : {"auto", "classification", "regression"}, default="auto"
        ``"auto"``: :func:`skmultimodal.auto.detect_task`'s rule.
    target_transform : {"auto", "standard", "log", "log1p"} or None, default="auto"
        The regressor's target transform; ``"auto"``:
        :func:`skmultimodal.auto.choose_target_transform`'s rule.
    roles : sequence of str, default=None
        Role overrides as ``"COLUMN=ROLE"``.
    random_state : int, default=0
        Seeds the folds and the models.
    verbose : int, default=0
        0: a progress line per fit when standard error is a terminal (the estimator's
        ``verbose="auto"``); 1 and 2: Keras' progress bar, one line per epoch.
    out : file-like, default=None
        Where progress is printed (None: ``sys.stdout`` at call time).
    image_errors : {"raise", "zeros"}, default="raise"
        ``image_on_error`` of :func:`~skmultimodal.auto.make_multimodal_pipeline`:
        ``"zeros"`` loads a blank image for a missing path or file, with a warning.
    allow_any_path : bool, default=False
        Read image paths that resolve outside the CSV file's folder (refused by default).
    image_formats : str or sequence of str, default=None
        Image formats decoded: None is :data:`SAFE_IMAGE_FORMATS`, ``"all"`` every
        format Pillow knows, else names such as ``"PNG,JPEG"``.
    missing : {"error", "mask"}, default="error"
        ``on_missing`` of :func:`~skmultimodal.auto.make_multimodal_pipeline`: ``"mask"``
        makes rows without an image, a text, numbers or a category legal (the model knows
        which rows lack which modality).
    ensemble : bool, default=False
        ``ensemble`` of :func:`~skmultimodal.auto.make_multimodal_pipeline`: the bagged
        ensemble of the network and the classical models instead of the network alone
        (needs ``image_errors="raise"``).
    settings : dict, default=None
        Parameters of the network (``--set NAME=VALUE``, see :func:`parse_settings`),
        over the defaults and ``epochs``.

    Returns
    -------
    dict
        ``scoring`` (the scorer name), ``scores`` (one per fold), ``mean``, ``std``,
        ``task``, ``target_transform`` (None for a classifier) and ``metrics`` (each
        report metric's name -> one value per fold).
    """
    import numpy as np
    from sklearn.base import clone, is_classifier
    from sklearn.metrics import get_scorer
    from sklearn.model_selection import KFold, StratifiedKFold

    out = sys.stdout if out is None else out

    if cv < 2:
        raise CommandError(f"--cv must be at least 2, got {cv}.")
    images = {
        "on_error": image_errors,
        "allow_any_path": allow_any_path,
        "formats": image_formats,
        "on_missing": missing,
        "ensemble": ensemble,
    }
    X, y, pipe, task, target_transform = _pipeline_from_csv(
        csv, target, roles, task, target_transform, out=out, random_state=random_state,
        model_params={**_model_params(epochs, verbose), **(settings or {})}, images=images,
    )  # fmt: skip
    classifier = is_classifier(pipe)
    scoring = scoring or ("accuracy" if classifier else "r2")
    scorer = get_scorer(scoring)
    splitter = (StratifiedKFold if classifier else KFold)(
        cv, shuffle=True, random_state=random_state
    )
    print(
        f"{cv}-fold cross-validation of {_describe_estimator(pipe)}, scoring {scoring!r}:",
        file=out,
        flush=True,
    )
    scores, report = [], {}
    for fold, (train, test) in enumerate(splitter.split(X, y), start=1):
        start = time.perf_counter()
        model = clone(pipe).fit(X.iloc[train], y[train])
        scores.append(float(scorer(model, X.iloc[test], y[test])))
        values = _fold_metrics(model, X.iloc[test], y[test], classifier)
        for name, value in values.items():
            report.setdefault(name, []).append(value)
        print(
            f"  fold {fold}/{cv}: {scoring} {scores[-1]:.3f}  "
            f"({len(train)} train / {len(test)} test rows, {time.perf_counter() - start:.1f} s)"
            f"  |  {_format_metrics(values)}",
            file=out,
            flush=True,
        )
    for name, values in report.items():
        mean, std = float(np.mean(values)), float(np.std(values))
        if name == "MAPE":
            shown = f"{100 * mean:.1f}% +/- {100 * std:.1f}%"
        else:
            shown = f"{_number(mean)} +/- {_number(std, like=mean)}"
        print(f"  {name}: {'n/a (a target is 0)' if math.isnan(mean) else shown}", file=out)
    mean, std = float(np.mean(scores)), float(np.std(scores))
    print(f"{scoring}: {mean:.3f} +/- {std:.3f} (mean +/- std over {cv} folds)", file=out)
    return {
        "scoring": scoring,
        "scores": scores,
        "mean": mean,
        "std": std,
        "task": task,
        "target_transform": None if classifier else target_transform,
        "metrics": report,
    }


#: The extra that installs every optional package the command uses (pyproject.toml).
_CLI_EXTRA = "pip install 'skmultimodal[cli]'"


def _import_tensorflow_quietly() -> None:
    """Import TensorFlow with the process's stderr closed for the time of the import.

    TensorFlow's C++ start-up lines ("Could not find cuda drivers", "All log messages
    before absl::InitializeLog() ...") are written before ``TF_CPP_MIN_LOG_LEVEL`` is
    read, straight to file descriptor 2; on a machine without a GPU they read like
    errors. An import that fails still raises its Python exception, after stderr is back.
    """
    if "tensorflow" in sys.modules or os.environ.get("TF_CPP_MIN_LOG_LEVEL") != "3":
        return
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no file descriptor 2 (an embedded interpreter): import as is
        return
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _require_optional(plots: bool = False):
    """``skops.io``, after checking that every optional package this command needs is
    installed; one ``CommandError`` names all the missing ones and the extra."""
    import importlib.util

    needed = {"skops": "saving and loading models"}
    if plots:
        needed["matplotlib"] = "--plots"
    missing = [name for name in needed if importlib.util.find_spec(name) is None]
    if missing:
        uses = ", ".join(f"{name} ({needed[name]})" for name in missing)
        raise CommandError(
            f"This command needs optional packages that are not installed: {uses}. "
            f"Install them with: {_CLI_EXTRA}"
        )
    import skops.io as sio

    return sio


def _require_skops():
    return _require_optional(plots=False)


def _require_matplotlib() -> None:
    import importlib.util

    if importlib.util.find_spec("matplotlib") is None:
        raise CommandError(
            f"--plots needs matplotlib, an optional package that is not installed. "
            f"Install it with: {_CLI_EXTRA}"
        )


def save_plots(estimator, folder: str | os.PathLike, out=None) -> list[Path]:
    """Write ``history.png`` and ``model.png`` of a fitted estimator or pipeline to a folder.

    ``model.png`` needs pydot and Graphviz; without them ``model.txt`` (the text of
    ``model.summary()``) is written instead and a note says what to install.

    Parameters
    ----------
    estimator : estimator, Pipeline or fitted search
        See :func:`skmultimodal.plotting.plot_history`.
    folder : str or os.PathLike
        Created if missing.
    out : file-like, default=None
        Where progress is printed (None: ``sys.stdout`` at call time).
        Where the names of the files written are printed.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    import warnings

    import matplotlib.pyplot as plt

    from .plotting import plot_history, plot_model

    out = sys.stdout if out is None else out

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fig = plot_history(estimator)
    history_path = folder / "history.png"
    try:
        fig.savefig(history_path, dpi=100)
    finally:
        plt.close(fig)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model_path = plot_model(estimator, folder / "model.png")
    for warning in caught:
        print(f"Note: {warning.message}", file=out)
    print(f"Wrote {history_path} and {model_path}.", file=out)
    return [history_path, model_path]


def run_fit(
    csv: str | os.PathLike,
    target: str,
    output: str | os.PathLike = "model.skops",
    *,
    epochs: int | None = None,
    task: str = "auto",
    target_transform: str | None = "auto",
    roles: Sequence[str] | None = None,
    validation_split: float = 0.0,
    random_state: int = 0,
    verbose: int = 0,
    plots: str | os.PathLike | None = None,
    out=None,
    image_errors: str = "raise",
    allow_any_path: bool = False,
    image_formats: str | Sequence[str] | None = None,
    missing: str = "error",
    ensemble: bool = False,
    settings: Mapping[str, Any] | None = None,
):
    """Fit the auto-detected pipeline on every row of a CSV file and save it with skops.

    Parameters
    ----------
    csv, target, epochs, task, target_transform, roles, random_state, verbose, out
        As for :func:`run_cv`.
    image_errors, allow_any_path, image_formats, missing, ensemble, settings
        As for :func:`run_cv`; the saved model keeps them for ``predict``. With
        ``ensemble``, the members' weights and out-of-fold scores are printed and
        ``plots`` is refused (an ensemble has no single training history).
    output : str or os.PathLike, default="model.skops"
        File the fitted pipeline is written to with ``skops.io.dump``.
    validation_split : float, default=0.0
        Fraction of the rows (the last ones) Keras holds out to report validation
        loss per epoch; it is not trained on.
    plots : str or os.PathLike, default=None
        Folder for ``history.png`` and ``model.png`` (see :func:`save_plots`).

    Returns
    -------
    sklearn.pipeline.Pipeline
        The fitted pipeline.
    """
    from sklearn.base import is_classifier

    out = sys.stdout if out is None else out

    if plots is not None and ensemble:
        raise CommandError(
            "--plots draws one network's training history; an --ensemble has several "
            "members (its report is printed instead): leave one of them out."
        )
    sio = _require_optional(plots=plots is not None)
    # Checked before training, which the model would otherwise be lost after.
    output = _check_output_file(output, "output file", [("training CSV file", csv)])
    _image_formats(image_formats)
    if plots is not None:
        _check_output_folder(plots, "--plots folder")
    images = {
        "on_error": image_errors,
        "allow_any_path": allow_any_path,
        "formats": image_formats,
        "on_missing": missing,
        "ensemble": ensemble,
    }
    model_params = {
        **_model_params(epochs, verbose),
        "validation_split": validation_split,
        **(settings or {}),
    }
    X, y, pipe, _, _ = _pipeline_from_csv(
        csv, target, roles, task, target_transform, out=out, random_state=random_state,
        model_params=model_params, images=images,
    )  # fmt: skip
    if plots is not None:
        # A metric besides the loss makes the history plot more telling (a classifier
        # records its accuracy by default).
        if not is_classifier(pipe):
            pipe.set_params(clf__metrics=["mae"])
    print(f"Fitting {_describe_estimator(pipe)} on {len(X)} rows...", file=out)
    start = time.perf_counter()
    pipe.fit(X, y)
    if hasattr(pipe, "report"):  # the ensemble: its members' weights and scores
        print(pipe.report().to_string(), file=out)
    sio.dump(pipe, output)
    print(
        f"Fitted in {time.perf_counter() - start:.1f} s; saved to {output}. Load it with "
        "skmultimodal.persistence.load(path).",
        file=out,
    )
    if plots is not None:
        save_plots(pipe, plots, out=out)
    return pipe


def _load_model(path: str | os.PathLike):
    import zipfile

    from .persistence import check_loaded, trusted_types

    sio = _require_skops()
    path = Path(path)
    if not path.is_file():
        raise CommandError(f"Model file {str(path)!r} does not exist.")
    try:
        untrusted = sorted(set(sio.get_untrusted_types(file=path)) - set(trusted_types()))
        if untrusted:
            raise CommandError(
                f"Model file {str(path)!r} holds types that skmultimodal does not trust: "
                f"{untrusted}. Load it in Python with skops.io.load(..., trusted=[...]) if "
                "you know where it comes from."
            )
        model = sio.load(path, trusted=trusted_types())
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise CommandError(f"{str(path)!r} is not a model file written by 'fit': {exc}") from exc
    try:
        # A crafted file of trusted types could still ask for huge allocations.
        check_loaded(model)
    except ValueError as exc:
        raise CommandError(f"Model file {str(path)!r} is refused: {exc}") from exc
    if not hasattr(model, "predict"):
        raise CommandError(f"{str(path)!r} holds a {type(model).__name__}, not a model.")
    return model


def _image_loaders(estimator):
    """Every ImageLoader inside a pipeline / MultiInputTransformer (the fitted ones if fitted)."""
    from ._unwrap import nested_estimators
    from .image import ImageLoader

    return (step for step in nested_estimators(estimator) if isinstance(step, ImageLoader))


def run_predict(
    model_path: str | os.PathLike,
    csv: str | os.PathLike,
    output: str | os.PathLike | None = None,
    *,
    out=None,
    allow_any_path: bool = False,
    image_formats: str | Sequence[str] | None = None,
    id_columns: Sequence[str] = (),
):
    """Predict every row of a CSV file with a pipeline saved by :func:`run_fit`.

    Parameters
    ----------
    model_path : str or os.PathLike
        File written by ``skmultimodal fit``; loaded with ``skops.io.load`` and the types
        of :func:`skmultimodal.persistence.trusted_types` only.
    csv : str or os.PathLike
        New rows with the feature columns used in fit (extra columns, the target among
        them, are ignored); relative image paths are resolved against its folder.
    output : str or os.PathLike, default=None
        CSV file for the predictions; None writes them to ``out``.
    out : file-like, default=None
        Where progress is printed (None: ``sys.stdout`` at call time).
    allow_any_path, image_formats
        As for :func:`run_cv`; they replace the settings saved with the model.
    id_columns : sequence of str, default=()
        Columns of ``csv`` copied to the output first, unchanged (``--id``), so that the
        predictions can be joined back by key rather than by row order.

    Returns
    -------
    pandas.DataFrame
        The ``id_columns``, then ``prediction`` (``prediction_<j>`` for several targets)
        and, for a classifier, ``proba_<class>`` per class, one row per input row, in
        order.
    """
    import pandas as pd
    from sklearn.base import is_classifier

    out = sys.stdout if out is None else out

    if output is not None:
        output = _check_output_file(
            output, "output file", [("CSV file to predict", csv), ("model file", model_path)]
        )
    formats = _image_formats(image_formats)
    model = _load_model(model_path)
    frame = _read_csv(csv)
    absent = [str(c) for c in id_columns if c not in frame.columns]
    if absent:
        raise CommandError(
            f"--id {absent[0]!r}: {str(csv)!r} has no such column; its columns are "
            f"{[str(c) for c in frame.columns]}."
        )
    ids = frame[list(id_columns)].reset_index(drop=True)
    # Paths in the new file are relative to its own folder, not to the training file's.
    base_dir = Path(csv).resolve().parent
    _secure_image_loaders(model, base_dir, allow_any_path=allow_any_path, formats=formats)
    fitted_columns = getattr(model, "feature_names_in_", None)
    if fitted_columns is not None:  # an estimator that checks names: give it its columns
        missing = [str(c) for c in fitted_columns if c not in frame.columns]
        if missing:
            raise CommandError(
                f"{str(csv)!r} lacks the columns the model was fitted on: {missing}."
            )
        frame = frame[list(fitted_columns)]
    predictions = model.predict(frame)
    if predictions.ndim == 1:
        result = pd.DataFrame({"prediction": predictions})
    else:
        result = pd.DataFrame(
            predictions, columns=[f"prediction_{j}" for j in range(predictions.shape[1])]
        )
    classes = getattr(model, "classes_", None)
    if is_classifier(model) and classes is not None and getattr(classes, "ndim", 0) == 1:
        proba = model.predict_proba(frame)
        for j, label in enumerate(classes):
            result[f"proba_{label}"] = proba[:, j]
    clash = [str(c) for c in ids.columns if c in result.columns]
    if clash:
        raise CommandError(f"--id {clash[0]!r} is also the name of an output column.")
    result = pd.concat([ids, result], axis=1)
    if output is None:
        result.to_csv(out, index=False)
    else:
        result.to_csv(output, index=False)
        print(f"Wrote {len(result)} predictions to {output}.", file=out)
    return result


def _add_data_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("csv", help="CSV file; image paths relative to its folder")
    parser.add_argument("--target", required=True, help="name of the target column")
    parser.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="training epochs (default: enough for about 1,000 gradient updates, 20-300; "
        "60 for a regression)",
    )
    parser.add_argument(
        "--task",
        choices=("auto", "classification", "regression"),
        default="auto",
        help="default: from the target (strings and whole numbers with few distinct values "
        "are classes; fractions, and whole numbers with mostly unique values such as "
        "prices, are regression)",
    )
    parser.add_argument(
        "--target-transform",
        choices=("auto", "standard", "log", "log1p", "none"),
        default="auto",
        help="regression: what the model learns (default: log for a positive right-skewed "
        "target, log1p for a skewed count with zeros, else standard)",
    )
    parser.add_argument(
        "--role",
        action="append",
        metavar="COLUMN=ROLE",
        help="override a detected role (image, text, vector, sequence, numeric, categorical, "
        "ignore); repeatable",
    )
    parser.add_argument(
        "--image-errors",
        choices=("raise", "zeros"),
        default="raise",
        help="missing or unreadable image: stop (default) or use a blank image",
    )
    parser.add_argument(
        "--missing",
        choices=("error", "mask"),
        default="error",
        help="rows without an image, text, numbers or category: refuse a missing image path "
        "(default) or mark those rows as lacking that modality (mask)",
    )
    parser.add_argument(
        "--ensemble",
        action="store_true",
        help="fit the bagged ensemble of the network and classical models (TF-IDF + linear "
        "model per text, pixels + linear model per image, gradient boosting on the table), "
        "weighted on out-of-fold predictions: best quality, 1.5-4x the time",
    )
    parser.add_argument(
        "--set",
        dest="settings",
        action="append",
        metavar="NAME=VALUE",
        help="set a parameter of the network, e.g. --set dropout=0.3 --set "
        "image_pooling=avg --set optimizer__learning_rate=0.003 (repeatable; values are "
        "Python literals or text)",
    )
    _add_image_safety_arguments(parser)
    parser.add_argument(
        "--random-state",
        type=int,
        default=0,
        help="seed of the folds, the validation split and the model's weights (default 0)",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="Keras' progress: -v a bar, -vv a line per epoch (default: one line per fit, "
        "rewritten after each epoch, on a terminal)",
    )


def _target_transform_argument(value: str) -> str | None:
    return None if value == "none" else value


def _add_image_safety_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-any-path",
        action="store_true",
        help="read image paths outside the CSV file's folder (refused by default)",
    )
    parser.add_argument(
        "--image-formats",
        metavar="all|PNG,JPEG,...",
        default=None,
        help=f"image formats decoded (default {','.join(SAFE_IMAGE_FORMATS)})",
    )


def _check_demo_arguments(args: argparse.Namespace) -> None:
    """CommandError for demo arguments that would fail only after the data set is built."""
    if args.cv < 2:
        raise CommandError(f"--cv must be at least 2, got {args.cv}.")
    if args.epochs is not None and args.epochs < 1:
        raise CommandError(f"--epochs must be at least 1, got {args.epochs}.")
    if args.n_samples is not None and args.n_samples < 10 * args.cv:
        raise CommandError(
            f"--n-samples must be at least 10 per fold ({10 * args.cv} for --cv {args.cv}), "
            f"got {args.n_samples}."
        )


def _one_line(exc: BaseException) -> str:
    """The message of a user error on one line, with the command-line way out where known."""
    message = " ".join(str(exc).split())
    if "on_error='zeros'" in message:
        message += " (on the command line: fit with --missing mask or --image-errors zeros)"
    elif "restrict_to_base_dir=True" in message:
        message += " (pass --allow-any-path if you trust the CSV file)"
    elif "in the allowed formats" in message:
        message += " (widen them with --image-formats)"
    return message


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m skmultimodal`` and the ``skmultimodal`` script.

    Parameters
    ----------
    argv : sequence of str, default=None
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 on success, 2 for an error in the input (printed as one line).
    """
    from . import __version__

    parser = argparse.ArgumentParser(prog="skmultimodal", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"skmultimodal {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="cross-validate fused vs single-modality models")
    demo.add_argument("--quick", action="store_true", help="small data, few epochs (for CI)")
    demo.add_argument("--n-samples", type=int, default=None, help="default 400 (120 quick)")
    demo.add_argument("--epochs", type=int, default=None, help="default 20 (5 quick)")
    demo.add_argument("--cv", type=int, default=3, help="number of folds (default 3)")
    demo.add_argument(
        "--random-state", type=int, default=0, help="seed of the data, folds and models (default 0)"
    )
    demo.add_argument("--plots", metavar="DIR", help="write history.png and model.png there")

    cv = commands.add_parser("cv", help="cross-validate a model on a CSV file")
    _add_data_arguments(cv)
    cv.add_argument("--cv", type=int, default=5, help="number of folds (default 5)")
    cv.add_argument("--scoring", default=None, help="sklearn scorer (default accuracy / r2)")

    fit = commands.add_parser("fit", help="fit a model on a CSV file and save it")
    _add_data_arguments(fit)
    fit.add_argument("-o", "--output", default="model.skops", help="default model.skops")
    fit.add_argument(
        "--validation-split",
        type=float,
        default=0.0,
        help="fraction of rows held out to report validation loss per epoch",
    )
    fit.add_argument("--plots", metavar="DIR", help="write history.png and model.png there")

    predict = commands.add_parser("predict", help="predict a CSV file with a saved model")
    predict.add_argument("model", help="file written by 'fit'")
    predict.add_argument("csv", help="CSV file with the feature columns")
    predict.add_argument("-o", "--output", default=None, help="CSV file (default: stdout)")
    predict.add_argument(
        "--id",
        action="append",
        default=[],
        metavar="COLUMN",
        dest="id_columns",
        help="a column of the CSV file copied to the output first (repeatable), to join "
        "the predictions back by key",
    )
    _add_image_safety_arguments(predict)

    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    _import_tensorflow_quietly()
    try:
        if args.command == "demo":
            # Checked first: a missing matplotlib should not surface after the whole demo.
            if args.plots is not None:
                _require_matplotlib()
            _check_demo_arguments(args)
        elif args.command == "cv":
            run_cv(
                args.csv,
                args.target,
                cv=args.cv,
                epochs=args.epochs,
                scoring=args.scoring,
                task=args.task,
                target_transform=_target_transform_argument(args.target_transform),
                roles=args.role,
                random_state=args.random_state,
                verbose=args.verbose,
                settings=parse_settings(args.settings),
                **_image_options(args),
            )
        elif args.command == "fit":
            run_fit(
                args.csv,
                args.target,
                args.output,
                epochs=args.epochs,
                task=args.task,
                target_transform=_target_transform_argument(args.target_transform),
                roles=args.role,
                validation_split=args.validation_split,
                random_state=args.random_state,
                verbose=args.verbose,
                plots=args.plots,
                settings=parse_settings(args.settings),
                **_image_options(args),
            )
        else:
            run_predict(
                args.model,
                args.csv,
                args.output,
                allow_any_path=args.allow_any_path,
                image_formats=args.image_formats,
                id_columns=args.id_columns,
            )
    except (CommandError, OSError, ValueError, TypeError) as exc:
        print(f"skmultimodal {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    if args.command == "demo":
        kwargs = {
            "n_samples": args.n_samples or (120 if args.quick else 400),
            "epochs": args.epochs or (5 if args.quick else 20),
            "cv": args.cv,
            "random_state": args.random_state,
        }
        if args.plots is not None:
            kwargs["plots"] = args.plots
        run_demo(**kwargs)
    return 0


def _image_options(args: argparse.Namespace) -> dict:
    return {
        "image_errors": args.image_errors,
        "missing": args.missing,
        "allow_any_path": args.allow_any_path,
        "image_formats": args.image_formats,
        "ensemble": args.ensemble,
    }
