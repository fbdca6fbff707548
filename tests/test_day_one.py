"""A new user's first day: optional packages named once with their extra, feature names
of the dict of model inputs, plot_model's notes that name only what is missing."""

import ast
import importlib.util
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skmultimodal import MultiInputTransformer, cli
from skmultimodal.missing import MaskMissingRows
from skmultimodal.text import TextLinearScores, TextTfidfVectorizer, TextTokenizer

ROOT = Path(__file__).resolve().parents[1]


# -- optional packages --------------------------------------------------------------------
def test_the_cli_extra_installs_what_the_command_uses():
    # Python 3.10 has no tomllib: the two lines are read as text.
    text = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'^cli = \["skmultimodal\[skops,plot\]"\]$', text, re.M)
    assert re.search(r'^all = \["skmultimodal\[skops,plot,dask,text\]"\]$', text, re.M)
    assert "pip install 'skmultimodal[cli]'" in (ROOT / "README.md").read_text()


def test_every_missing_package_is_named_in_one_error(monkeypatch):
    real = importlib.util.find_spec
    absent = {"skops", "matplotlib"}
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name in absent else real(name, *a)
    )
    with pytest.raises(cli.CommandError) as caught:
        cli._require_optional(plots=True)
    message = str(caught.value)
    assert "skops (saving and loading models)" in message and "matplotlib (--plots)" in message
    assert message.endswith("pip install 'skmultimodal[cli]'")
    absent.discard("skops")
    with pytest.raises(cli.CommandError, match=r"matplotlib, an optional package.*\[cli\]"):
        cli._require_matplotlib()


def test_fit_names_the_extra_before_reading_the_data(monkeypatch, tmp_path, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "skops" else real(name, *a)
    )
    csv = tmp_path / "t.csv"
    pd.DataFrame({"x": [1.0, 2.0], "y": [0, 1]}).to_csv(csv, index=False)
    assert cli.main(["fit", str(csv), "--target", "y", "-o", str(tmp_path / "m.skops")]) == 2
    assert "pip install 'skmultimodal[cli]'" in capsys.readouterr().err


# -- feature names of the dict ------------------------------------------------------------
def _table(n=12):
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "text": [f"word{i % 3} other" for i in range(n)],
            "color": ["red", "blue", "green"] * (n // 3),
            "price": rng.normal(size=n),
            "size": rng.normal(size=n),
        }
    )


def test_feature_names_per_entry():
    X, y = _table(), np.array([0, 1] * 6)
    prep = MultiInputTransformer(
        [
            ("text", TextTokenizer(max_len=4), "text"),
            ("words", TextTfidfVectorizer(), "text"),
            ("scores", TextLinearScores(cv=2, random_state=0), "text"),
            ("color", OneHotEncoder(), ["color"]),
            ("numbers", MaskMissingRows(StandardScaler()), ["price", "size"]),
            ("raw", "passthrough", ["size"]),
        ]
    ).fit(X, y)
    names = prep.get_feature_names_out()
    inputs = prep.transform(X)
    assert list(names) == list(inputs)
    assert names["text"] is None  # token positions, not named features
    assert names["words"].tolist() == ["other", "word0", "word1", "word2"]
    assert names["scores"].tolist() == ["score"]
    assert names["color"].tolist() == ["color_blue", "color_green", "color_red"]
    assert names["numbers"].tolist() == ["price", "size"]
    assert names["numbers__present"].tolist() == ["numbers__present"]
    assert names["raw"].tolist() == ["size"]
    for key, value in names.items():
        if value is not None and not key.endswith("__present"):
            assert inputs[key].shape[1] == len(value), key
    assert prep.get_feature_names_out(list(X.columns))["raw"].tolist() == ["size"]
    with pytest.raises(ValueError, match="input_features must be None or the columns"):
        prep.get_feature_names_out(["a", "b"])


def test_feature_names_need_a_fit_and_passthrough_of_arrays_is_named_by_position():
    from sklearn.exceptions import NotFittedError

    prep = MultiInputTransformer([("all", SimpleImputer(), [0, 1]), ("b", "passthrough", [1])])
    with pytest.raises(NotFittedError):
        prep.get_feature_names_out()
    prep.fit(np.arange(8.0).reshape(4, 2))
    names = prep.get_feature_names_out()
    assert names["all"].tolist() == ["x0", "x1"] and names["b"].tolist() == ["x1"]


# -- plot_model's note --------------------------------------------------------------------
def test_the_graphviz_note_names_only_what_is_missing(monkeypatch, tmp_path):
    from skmultimodal import MultiInputKerasClassifier, plotting

    X = {"x": np.random.default_rng(0).normal(size=(20, 2)).astype(np.float32)}
    clf = MultiInputKerasClassifier(tabular_units=2, epochs=1, verbose=0, random_state=0)
    clf.fit(X, [0, 1] * 10)
    monkeypatch.setattr(plotting, "_graphviz_problem", lambda: plotting._GRAPHVIZ_HINT)
    with pytest.warns(UserWarning) as caught:
        plotting.plot_model(clf, tmp_path / "m.png")
    message = str(caught[0].message)
    assert message.count("Graphviz") == 1 and "skmultimodal[plot]" not in message


# -- make_multimodal_pipeline's defaults on its page --------------------------------------
def test_the_cli_page_lists_every_default_model_parameter():
    from skmultimodal.auto import DEFAULT_MODEL_PARAMS, DEFAULT_REGRESSOR_PARAMS

    page = (ROOT / "docs" / "user_guide" / "cli.md").read_text()
    section = page.split("### The model parameters `make_multimodal_pipeline` sets")[1]
    section = section.split("The TF-IDF input")[0]
    tables = section.split("Regressors also get")
    for params, table in zip((DEFAULT_MODEL_PARAMS, DEFAULT_REGRESSOR_PARAMS), tables, strict=True):
        rows = re.findall(r"^\| `(\w+)` \| `([^`]+)` \|", table, re.M)
        listed = {name: ast.literal_eval(value) for name, value in rows}
        assert listed == params


# -- quiet start-up -----------------------------------------------------------------------
def test_the_command_imports_tensorflow_without_its_cpp_start_up_lines():
    import subprocess
    import sys

    code = (
        "import os, sys; os.environ['TF_CPP_MIN_LOG_LEVEL'] = '3'\n"
        "from skmultimodal.cli import _import_tensorflow_quietly\n"
        "_import_tensorflow_quietly()\n"
        "assert 'tensorflow' in sys.modules\n"
        "print('after', file=sys.stderr)\n"
    )
    env = {k: v for k, v in __import__("os").environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )
    assert result.returncode == 0, result.stderr
    # stderr works again after the import, and nothing of TensorFlow's C++ start-up is left.
    assert result.stderr.strip().splitlines() == ["after"], result.stderr


# -- no retracing warning across folds ----------------------------------------------------
def test_cross_validation_predicts_without_a_retracing_warning(caplog):
    """Every fold's model traces its predict step once; TensorFlow counts traces per Python
    code object, so without a predict function of our own per model the sixth fold warned
    "triggered tf.function retracing" (Keras' predict step is one code object for all)."""
    import logging

    from _settings import TINY
    from sklearn.model_selection import cross_val_score

    from skmultimodal import MultiInputKerasClassifier

    X = np.random.default_rng(0).random((60, 4)).astype("float32")
    y = (X[:, 0] > 0.5).astype(int)
    clf = MultiInputKerasClassifier(**{**TINY, "epochs": 3, "batch_size": 16})
    with caplog.at_level(logging.WARNING, logger="tensorflow"):
        cross_val_score(clf, X, y, cv=6)
    # Only the predict step: the train step's count is still shared by every model (a
    # warning there depends on the short fits run before in this process, not on this one).
    messages = [record.getMessage() for record in caplog.records]
    assert [m for m in messages if "retracing" in m and "make_predict_function" in m] == []
    model = clf.fit(X, y).model_
    model.predict_function = None  # the compiled function of Keras' own, as before the fix
    with caplog.at_level(logging.WARNING, logger="tensorflow"):
        clf.predict(X)
    assert "_PredictStep" in repr(model.predict_function.python_function)


# -- your own Keras model: loss=None chooses the loss from the target -----------------------
def _own_model(meta, units=1, activation="sigmoid"):
    import keras

    inputs = {
        key: keras.Input(meta["input_shapes_"][key], name=key) for key in meta["input_names_"]
    }
    features = keras.layers.concatenate(list(inputs.values()))
    return keras.Model(inputs, keras.layers.Dense(units, activation=activation)(features))


def _two_inputs(n=40):
    rng = np.random.default_rng(0)
    X = {"a": rng.random((n, 3)).astype("float32"), "b": rng.random((n, 2)).astype("float32")}
    return X, X["a"][:, 0]


@pytest.mark.parametrize(
    "units, activation, classes, loss",
    [
        (1, "sigmoid", 2, "binary_crossentropy"),
        (2, "softmax", 2, "sparse_categorical_crossentropy"),
        (3, "softmax", 3, "sparse_categorical_crossentropy"),
    ],
)
def test_an_uncompiled_model_of_the_user_gets_the_loss_of_the_target(
    units, activation, classes, loss
):
    from skmultimodal import MultiInputKerasClassifier

    X, signal = _two_inputs()
    y = np.minimum((signal * classes).astype(int), classes - 1)
    clf = MultiInputKerasClassifier(
        _own_model, model__units=units, model__activation=activation, epochs=2, random_state=0
    ).fit(X, y)
    assert clf.model_.loss == loss
    proba = clf.predict_proba(X)
    assert proba.shape == (40, classes)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)


def test_an_uncompiled_regression_model_gets_the_squared_error():
    from skmultimodal import MultiInputKerasRegressor

    X, signal = _two_inputs()
    reg = MultiInputKerasRegressor(_own_model, model__activation=None, epochs=2).fit(X, signal)
    assert reg.model_.loss == "mean_squared_error"
    assert reg.predict(X).shape == (40,)


def test_an_output_of_the_wrong_width_is_named_with_the_width_needed():
    from skmultimodal import MultiInputKerasClassifier

    X, signal = _two_inputs()
    y = (signal * 3).astype(int)
    with pytest.raises(
        ValueError, match=r"has 1 unit\(s\).*needs Dense\(3, activation='softmax'\)"
    ):
        MultiInputKerasClassifier(_own_model, epochs=1).fit(X, y)


def test_a_compiled_model_or_an_explicit_loss_is_kept():
    import keras

    from skmultimodal import MultiInputKerasClassifier

    X, signal = _two_inputs()
    y = (signal > 0.5).astype(int)
    clf = MultiInputKerasClassifier(_own_model, loss="mse", epochs=1).fit(X, y)
    assert getattr(clf.model_.loss, "__name__", None) == "mean_squared_error"

    def compiled(meta):
        model = _own_model(meta)
        model.compile("sgd", keras.losses.Hinge())
        return model

    clf = MultiInputKerasClassifier(compiled, epochs=1).fit(X, y)
    assert isinstance(clf.model_.loss, keras.losses.Hinge)


# -- verbose="auto": progress for one interactive fit, silence in searches ------------------
class _Terminal:
    """Standard error as a terminal: what the progress line is written to."""

    def __init__(self):
        self.text = ""

    def isatty(self):
        return True

    def write(self, text):
        self.text += text

    def flush(self):
        pass


def _numbers(n=40):
    X = np.random.default_rng(0).random((n, 3)).astype("float32")
    return X, (X[:, 0] > 0.5).astype(int)


def test_a_fit_from_a_terminal_shows_one_progress_line(monkeypatch):
    from skmultimodal import MultiInputKerasClassifier

    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    X, y = _numbers()
    MultiInputKerasClassifier(tabular_units=2, epochs=3, random_state=0).fit(X, y)
    updates = terminal.text.split("\r")[1:]
    assert len(updates) == 3 and terminal.text.endswith("\n")
    assert re.match(r"epoch 1/3 - \d+ s - loss \d\.\d{4} - accuracy \d\.\d{4}", updates[0])
    assert updates[-1].startswith("epoch 3/3")


def test_no_progress_in_a_search_when_silent_or_without_a_terminal(monkeypatch, capsys):
    from sklearn.model_selection import cross_val_score

    from skmultimodal import MultiInputKerasClassifier

    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    X, y = _numbers()
    clf = MultiInputKerasClassifier(tabular_units=2, epochs=2, random_state=0)
    cross_val_score(clf, X, y, cv=2)
    clf.set_params(verbose=0).fit(X, y)
    assert terminal.text == ""
    monkeypatch.undo()
    clf.set_params(verbose="auto").fit(X, y)  # pytest's captured stderr is no terminal
    assert capsys.readouterr().err == ""
