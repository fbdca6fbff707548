"""Training-history and architecture pictures (skmultimodal.plotting)."""

import sys
import types
import warnings

import numpy as np
import pytest
from PIL import Image
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline

from skmultimodal import plotting
from skmultimodal.estimators import MultiInputKerasClassifier
from skmultimodal.plotting import plot_history, plot_model

plt = pytest.importorskip("matplotlib.pyplot")


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.RandomState(0)
    X = {"numbers": rng.rand(40, 3), "tokens": rng.randint(1, 9, size=(40, 4))}
    y = (X["numbers"][:, 0] > 0.5).astype(int)
    clf = MultiInputKerasClassifier(
        text_embedding_dim=2,
        text_units=2,
        tabular_units=2,
        epochs=3,
        metrics=["accuracy"],
        validation_split=0.25,
        batch_size=64,
        random_state=0,
    )
    return clf.fit(X, y)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _png_size(path):
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        return image.format, image.size


def test_history_panels_hold_the_recorded_values(fitted, tmp_path):
    fig = plot_history(fitted)
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    for ax, name in zip(fig.axes, ["loss", "accuracy"], strict=True):
        lines = {line.get_label(): line for line in ax.get_lines()}
        assert list(lines) == ["train", "validation"]
        assert lines["train"].get_xdata().tolist() == [1, 2, 3]
        np.testing.assert_allclose(lines["train"].get_ydata(), fitted.history_[name])
        np.testing.assert_allclose(lines["validation"].get_ydata(), fitted.history_[f"val_{name}"])
    fig.savefig(tmp_path / "history.png", dpi=50)
    file_format, (width, height) = _png_size(tmp_path / "history.png")
    assert file_format == "PNG" and width > 200 and height > 100


def test_history_accepts_pipeline_search_and_axes(fitted):
    pipe = Pipeline([("clf", fitted)])
    search = types.SimpleNamespace(best_estimator_=pipe)
    assert len(plot_history(pipe).axes) == len(plot_history(search).axes) == 2
    fig, ax = plt.subplots()
    assert plot_history(fitted, ax=ax) is fig
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == [
        "loss (train)",
        "loss (validation)",
        "accuracy (train)",
        "accuracy (validation)",
    ]
    fig, axes = plt.subplots(1, 2)
    plot_history(fitted, ax=axes)
    assert [a.get_title() for a in axes] == ["loss", "accuracy"]
    assert [a.get_title() for a in plot_history(fitted, metrics=["loss"]).axes] == ["loss"]


def test_history_errors(fitted):
    with pytest.raises(ValueError, match=r"No history for \['auc'\]"):
        plot_history(fitted, metrics=["auc"])
    _, axes = plt.subplots(1, 3)
    with pytest.raises(ValueError, match="ax holds 3 Axes but there are 2 quantities"):
        plot_history(fitted, ax=axes)
    with pytest.raises(NotFittedError):
        plot_history(MultiInputKerasClassifier())
    with pytest.raises(TypeError, match="got int"):
        plot_history(3)


def test_history_without_matplotlib_names_the_extra(fitted, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"skmultimodal\[plot\]"):
        plot_history(fitted)


@pytest.mark.skipif(
    plotting._graphviz_problem() is not None, reason="needs pydot and Graphviz's dot"
)
def test_model_diagram_png(fitted, tmp_path):
    written = plot_model(Pipeline([("clf", fitted)]), tmp_path / "model.png")
    assert written == tmp_path / "model.png"
    file_format, (width, height) = _png_size(written)
    # Two inputs side by side over the head: wider than one column of boxes, and tall.
    assert file_format == "PNG" and width > 400 and height > 400


def test_model_falls_back_to_a_text_summary(fitted, tmp_path, monkeypatch):
    missing = f"the Python package pydot is not installed ({plotting._INSTALL_HINT})"
    monkeypatch.setattr(plotting, "_graphviz_problem", lambda: missing)
    with pytest.warns(UserWarning, match=r"pydot is not installed.*skmultimodal\[plot\]"):
        written = plot_model(fitted, tmp_path / "model.png")
    assert written == tmp_path / "model.txt"
    assert not (tmp_path / "model.png").exists()
    text = written.read_text(encoding="utf-8")
    assert "numbers (InputLayer)" in text and "tokens (InputLayer)" in text
    assert "Total params" in text
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ImportError, match="pydot is not installed"):
            plot_model(fitted, tmp_path / "other.png", fallback=False)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        plot_model(fitted, tmp_path / "no" / "model.png")


def test_a_default_classifier_records_its_accuracy_and_a_regressor_its_loss():
    """metrics=None: the history of a classifier has the accuracy (and its validation curve
    when rows are held out); a regressor's loss is its metric."""
    from skmultimodal.estimators import MultiInputKerasRegressor

    rng = np.random.RandomState(0)
    X = rng.rand(40, 3)
    y = (X[:, 0] > 0.5).astype(int)
    clf = MultiInputKerasClassifier(tabular_units=2, epochs=2, random_state=0).fit(X, y)
    assert sorted(clf.history_) == ["accuracy", "loss"]
    assert [ax.get_title() for ax in plot_history(clf).axes] == ["loss", "accuracy"]
    held_out = MultiInputKerasClassifier(
        tabular_units=2, epochs=2, validation_split=0.25, random_state=0
    ).fit(X, y)
    assert sorted(held_out.history_) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    reg = MultiInputKerasRegressor(tabular_units=2, epochs=2, random_state=0).fit(X, X[:, 0])
    assert sorted(reg.history_) == ["loss"]
