"""Pictures of a fitted Keras estimator: its training curves and its architecture.

:func:`plot_history` draws the loss and metrics per epoch (training and, when Keras
computed it, validation) with matplotlib. :func:`plot_model` draws the multi-input
architecture with ``keras.utils.plot_model``, which needs ``pydot`` and Graphviz's ``dot``
program; without them it warns and writes the text of ``model.summary()`` instead.
:func:`plot_modality_importance` draws the result of
:func:`skmultimodal.inspection.modality_importance` (or of its cross-validated version).

matplotlib and pydot are optional: ``pip install skmultimodal[plot]`` installs both
(Graphviz itself comes from the system: ``apt install graphviz``, ``brew install
graphviz`` or ``conda install graphviz``). They are imported when a function is called.
The first two accept the estimator itself, a ``Pipeline`` ending with it, or a fitted
search (``GridSearchCV``...) whose ``best_estimator_`` is one of those.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._unwrap import final_estimator

__all__ = ["plot_history", "plot_model", "plot_modality_importance"]

_INSTALL_HINT = "pip install 'skmultimodal[plot]'"
_GRAPHVIZ_HINT = (
    "Graphviz's 'dot' program must be on the PATH (apt install graphviz, brew install "
    "graphviz or conda install graphviz)"
)


def _keras_estimator(obj: Any) -> Any:
    """The fitted Keras estimator inside ``obj`` (itself, a Pipeline, or a fitted search)."""
    obj = final_estimator(obj)
    if not hasattr(obj, "model_") and not callable(getattr(obj, "fit", None)):
        raise TypeError(
            "Expected a MultiInputKerasClassifier/Regressor, a Pipeline ending with one, or a "
            f"fitted search over one; got {type(obj).__name__}."
        )
    check_is_fitted(obj, "model_")
    return obj


def _import_pyplot(function: str = "plot_history"):
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            f"{function} needs matplotlib, an optional dependency: {_INSTALL_HINT} "
            "(or pip install matplotlib)."
        ) from exc
    return plt


def _history_panels(history: dict, metrics: list[str] | None) -> list[str]:
    """Names of the quantities to draw (``loss`` first), without the ``val_`` prefix."""
    names = []
    for key in history:
        name = key[4:] if key.startswith("val_") else key
        if name not in names:
            names.append(name)
    if "loss" in names:
        names.insert(0, names.pop(names.index("loss")))
    if metrics is None:
        return names
    unknown = [name for name in metrics if name not in names]
    if unknown:
        raise ValueError(f"No history for {unknown}; the history holds {names}.")
    return list(metrics)


def plot_history(estimator_or_pipeline: Any, ax: Any = None, *, metrics: list[str] | None = None):
    """Plot the loss and metrics per epoch of a fitted Keras estimator.

    One panel per quantity (``loss`` first, then each metric: a classifier records its
    accuracy by default), with the training curve and, when Keras computed one
    (``validation_split``, or ``early_stopping``, which holds out rows from 500 rows on),
    the validation curve. Epochs are numbered from 1.

    Parameters
    ----------
    estimator_or_pipeline : estimator, Pipeline or fitted search
        A fitted ``MultiInputKerasClassifier``/``Regressor``, a ``Pipeline`` ending with
        one, or a fitted ``GridSearchCV``/``RandomizedSearchCV`` (its ``best_estimator_``).
    ax : matplotlib Axes or sequence of Axes, default=None
        None creates a figure with one panel per quantity (``matplotlib.pyplot``, so
        ``plt.show()`` displays it). One Axes draws every curve on it; a sequence must
        hold one Axes per quantity.
    metrics : list of str, default=None
        The quantities to draw (names without ``val_``), e.g. ``["loss"]``; None draws
        all those in ``history_``.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the panels; save it with ``fig.savefig("history.png")``.

    Raises
    ------
    ImportError
        matplotlib is not installed (``pip install 'skmultimodal[plot]'``).

    Examples
    --------
    >>> import numpy as np
    >>> from skmultimodal.estimators import MultiInputKerasClassifier
    >>> from skmultimodal.plotting import plot_history
    >>> rng = np.random.RandomState(0)
    >>> X = rng.rand(40, 3)
    >>> y = (X[:, 0] > 0.5).astype(int)
    >>> clf = MultiInputKerasClassifier(tabular_units=4, epochs=3, validation_split=0.25,
    ...                                 random_state=0).fit(X, y)
    >>> fig = plot_history(clf)
    >>> [a.get_title() for a in fig.axes]
    ['loss', 'accuracy']
    >>> [line.get_label() for line in fig.axes[0].get_lines()]
    ['train', 'validation']
    >>> import matplotlib.pyplot as plt; plt.close(fig)
    """
    estimator = _keras_estimator(estimator_or_pipeline)
    history = dict(getattr(estimator, "history_", None) or {})
    if not history or not any(len(values) for values in history.values()):
        raise ValueError("The estimator has no training history (was it fitted with epochs=0?).")
    panels = _history_panels(history, metrics)
    plt = _import_pyplot()
    if ax is None:
        fig, axes = plt.subplots(
            1, len(panels), figsize=(4.5 * len(panels), 3.5), squeeze=False, layout="constrained"
        )
        axes = list(axes[0])
    elif hasattr(ax, "plot"):
        axes = [ax] * len(panels)
    else:
        axes = list(ax)
        if len(axes) != len(panels):
            raise ValueError(
                f"ax holds {len(axes)} Axes but there are {len(panels)} quantities to plot: "
                f"{panels}; pass one Axes, {len(panels)} Axes, or metrics=[...]."
            )
    shared = len(set(map(id, axes))) == 1 and len(panels) > 1
    for name, axis in zip(panels, axes, strict=True):
        for key, label in ((name, "train"), (f"val_{name}", "validation")):
            values = history.get(key)
            if values is None:
                continue
            epochs = range(1, len(values) + 1)
            axis.plot(
                epochs,
                values,
                marker="o",
                markersize=3,
                label=f"{name} ({label})" if shared else label,
            )
        axis.set_xlabel("epoch")
        axis.xaxis.get_major_locator().set_params(integer=True)
        axis.grid(True, alpha=0.3)
        axis.legend()
        if not shared:
            axis.set_title(name)
            axis.set_ylabel(name)
    return axes[0].figure


def _summary_text(model: Any, width: int = 120) -> str:
    lines: list[str] = []
    # Keras renders the summary with rich, whose console is as wide as $COLUMNS (80 when
    # not attached to a terminal): layer names and shapes then wrap over several lines.
    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(width)
    try:
        model.summary(print_fn=lambda text, *args, **kwargs: lines.append(text))
    finally:
        if previous is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = previous
    return "\n".join(lines) + "\n"


def _graphviz_problem() -> str | None:
    """None when ``keras.utils.plot_model`` can draw; otherwise what is missing."""
    try:
        import pydot
    except ImportError:
        return f"the Python package pydot is not installed ({_INSTALL_HINT})"
    try:
        # Rendering an empty graph runs `dot` once: the same check Keras makes.
        pydot.Dot.create(pydot.Dot())
    except (OSError, pydot.PydotException) as exc:
        return f"{_GRAPHVIZ_HINT}; running it failed: {exc}".replace("\n", " ")
    return None


def plot_model(
    estimator_or_pipeline: Any,
    path: str | os.PathLike,
    *,
    show_shapes: bool = True,
    show_layer_names: bool = True,
    rankdir: str = "TB",
    dpi: int = 96,
    fallback: bool = True,
) -> Path:
    """Draw the architecture of a fitted Keras estimator's model to an image file.

    Uses ``keras.utils.plot_model``: one box per layer with its output shape, the inputs
    (named after the ``MultiInputTransformer`` steps) at the top and the output at the
    bottom. The file format follows the extension of ``path`` (``.png``, ``.svg``,
    ``.pdf``, ``.dot``).

    This needs the ``pydot`` package and Graphviz's ``dot`` program. When either is
    missing and ``fallback`` is True, a ``UserWarning`` says what to install and the
    text of ``model.summary()`` is written to ``path`` with the suffix ``.txt`` instead.

    Parameters
    ----------
    estimator_or_pipeline : estimator, Pipeline or fitted search
        As for :func:`plot_history`.
    path : str or os.PathLike
        File to write; its folder must exist.
    show_shapes : bool, default=True
        Show each layer's output shape.
    show_layer_names : bool, default=True
    rankdir : {"TB", "LR"}, default="TB"
        Top-to-bottom or left-to-right layout.
    dpi : int, default=96
    fallback : bool, default=True
        Write the text summary (with a warning) when the diagram cannot be drawn; False
        raises ``ImportError`` instead.

    Returns
    -------
    pathlib.Path
        The file written: ``path``, or ``path`` with the suffix ``.txt`` after a fallback.

    Raises
    ------
    ImportError
        pydot or Graphviz is missing and ``fallback`` is False.

    Examples
    --------
    >>> import tempfile, warnings
    >>> import numpy as np
    >>> from skmultimodal.estimators import MultiInputKerasClassifier
    >>> from skmultimodal.plotting import plot_model
    >>> rng = np.random.RandomState(0)
    >>> X = {"num": rng.rand(20, 3)}
    >>> y = (X["num"][:, 0] > 0.5).astype(int)
    >>> clf = MultiInputKerasClassifier(tabular_units=4, epochs=1, random_state=0).fit(X, y)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")  # no warning with Graphviz, one without
    ...     written = plot_model(clf, f"{tempfile.mkdtemp()}/model.png")
    >>> written.suffix in (".png", ".txt") and written.stat().st_size > 0
    True
    """
    estimator = _keras_estimator(estimator_or_pipeline)
    path = Path(path)
    if rankdir not in ("TB", "LR"):
        raise ValueError(f"rankdir must be 'TB' or 'LR', got {rankdir!r}.")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"The folder of {str(path)!r} does not exist.")
    problem = _graphviz_problem()
    if problem is None:
        import keras

        keras.utils.plot_model(
            estimator.model_,
            to_file=str(path),
            show_shapes=show_shapes,
            show_layer_names=show_layer_names,
            rankdir=rankdir,
            dpi=dpi,
        )
        return path
    # Only what is missing: pydot (the extra), or Graphviz's program (the system's).
    message = f"plot_model cannot draw the architecture: {problem}."
    if not fallback:
        raise ImportError(message)
    text_path = path.with_suffix(".txt")
    text_path.write_text(_summary_text(estimator.model_), encoding="utf-8")
    warnings.warn(f"{message} Wrote the text summary to {str(text_path)!r} instead.", stacklevel=2)
    return text_path


def plot_modality_importance(result: Any, ax: Any = None, *, n_std: float = 2.0):
    """Draw the importance of each modality as horizontal bars with error bars.

    One bar per modality, the most important at the top: its mean drop in score, with an
    error bar of ``n_std`` standard deviations either side (over the repeats for
    :func:`~skmultimodal.inspection.modality_importance`, over the folds for
    :func:`~skmultimodal.inspection.cross_validate_modality_importance`). A bar whose
    interval crosses the vertical line at 0 is a modality the model does not measurably use.

    Parameters
    ----------
    result : sklearn.utils.Bunch
        What ``modality_importance`` or ``cross_validate_modality_importance`` returned
        (``modalities``, ``importances_mean``, ``importances_std``).
    ax : matplotlib Axes, default=None
        Where to draw; None creates a figure (``matplotlib.pyplot``).
    n_std : float, default=2.0
        Half-width of the error bars, in standard deviations; 0 draws none.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.

    Raises
    ------
    ImportError
        matplotlib is not installed (``pip install 'skmultimodal[plot]'``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.utils import Bunch
    >>> from skmultimodal.plotting import plot_modality_importance
    >>> result = Bunch(modalities=["image", "text"], importances_mean=np.array([0.01, 0.3]),
    ...                importances_std=np.array([0.01, 0.02]))
    >>> ax = plot_modality_importance(result)
    >>> [label.get_text() for label in ax.get_yticklabels()]
    ['image', 'text']
    >>> import matplotlib.pyplot as plt; plt.close(ax.figure)
    """
    missing = [
        key
        for key in ("modalities", "importances_mean", "importances_std")
        if key not in getattr(result, "keys", lambda: ())()
    ]
    if missing:
        raise TypeError(
            "result must be what skmultimodal.inspection.modality_importance (or "
            f"cross_validate_modality_importance) returned; it lacks {missing}."
        )
    if not n_std >= 0:
        raise ValueError(f"n_std must be >= 0, got {n_std!r}.")
    names = list(result["modalities"])
    mean = np.asarray(result["importances_mean"], dtype=float)
    std = np.asarray(result["importances_std"], dtype=float)
    if not len(names) == len(mean) == len(std):
        raise ValueError(
            f"result holds {len(names)} modalities, {len(mean)} means and {len(std)} "
            "standard deviations; they must match."
        )
    plt = _import_pyplot("plot_modality_importance")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 0.5 * len(names) + 1.2), layout="constrained")
    # barh draws the first bar at the bottom: ascending order puts the largest on top.
    order = np.argsort(mean, kind="stable")
    ax.barh(
        np.arange(len(names)),
        mean[order],
        xerr=n_std * std[order] if n_std else None,
        capsize=4,
        color="tab:blue",
        alpha=0.8,
    )
    ax.set_yticks(np.arange(len(names)), [names[i] for i in order])
    ax.axvline(0.0, color="black", linewidth=0.8)
    ax.set_xlabel(
        f"drop in score when shuffled (mean ± {n_std:g} std)" if n_std else "drop in score"
    )
    ax.grid(True, axis="x", alpha=0.3)
    return ax
