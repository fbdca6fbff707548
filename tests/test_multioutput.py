"""Multi-label and multi-output targets of MultiInputKerasClassifier."""

import pickle

import numpy as np
import pandas as pd
import pytest
from _settings import TINY
from sklearn.metrics import accuracy_score, make_scorer
from sklearn.model_selection import KFold, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skmultimodal.architecture import InputSpec, build_multi_input_model
from skmultimodal.estimators import MultiInputKerasClassifier

N = 40
# Batches of 16 of the 40 rows. Only the tabular size plays a part: no input here is text,
# and the one test with images sets its own filters.
MODEL = {**TINY, "batch_size": 16}


def make_data(seed=0):
    rng = np.random.RandomState(seed)
    X = pd.DataFrame(rng.rand(N, 3), columns=["a", "b", "c"])
    Y = pd.DataFrame(
        {
            "color": np.where(X["a"] > 0.5, "red", "blue"),
            "size": (X["b"] * 3).astype(int) + 1,
        }
    )
    return X, Y


@pytest.fixture(scope="module")
def multioutput():
    X, Y = make_data()
    return X, Y, MultiInputKerasClassifier(**MODEL).fit(X.to_numpy(), Y)


@pytest.fixture(scope="module")
def multilabel():
    rng = np.random.RandomState(1)
    X = rng.rand(N, 3)
    Y = (rng.rand(N, 4) > 0.5).astype(int)
    Y[:, 0] = X[:, 0] > 0.5
    return X, Y, MultiInputKerasClassifier(**MODEL).fit(X, Y)


def test_multilabel_predict_and_proba_shapes(multilabel):
    X, Y, clf = multilabel
    labels = clf.predict(X)
    proba = clf.predict_proba(X)
    assert labels.shape == (N, 4) and labels.dtype.kind == "i"
    assert set(np.unique(labels)) <= {0, 1}
    assert isinstance(proba, np.ndarray) and proba.shape == (N, 4)
    assert ((proba >= 0) & (proba <= 1)).all()
    # Each column is the probability of the positive class, as in MLPClassifier.
    np.testing.assert_array_equal((proba > 0.5).astype(int), labels)
    assert clf.target_type_ == "multilabel-indicator"
    output = clf.model_.layers[-1]
    assert (output.units, output.activation.__name__) == (4, "sigmoid")
    assert clf.model_.loss == "binary_crossentropy"
    assert clf.score(X, Y) == np.mean((labels == Y).all(axis=1))


def test_multioutput_predict_labels_per_column(multioutput):
    X, Y, clf = multioutput
    labels = clf.predict(X.to_numpy())
    assert clf.target_type_ == "multiclass-multioutput"
    assert labels.shape == (N, 2) and labels.dtype == object
    assert set(labels[:, 0]) <= {"blue", "red"}
    assert set(labels[:, 1]) <= {1, 2, 3}
    assert [c.tolist() for c in clf.classes_] == [["blue", "red"], [1, 2, 3]]
    assert clf.n_classes_ == [2, 3] and clf.n_outputs_ == 2


def test_multioutput_predict_proba_is_a_list(multioutput):
    X, Y, clf = multioutput
    proba = clf.predict_proba(X.to_numpy())
    labels = clf.predict(X.to_numpy())
    assert isinstance(proba, list)
    assert [p.shape for p in proba] == [(N, 2), (N, 3)]
    for j, p in enumerate(proba):
        np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-6)
        np.testing.assert_array_equal(clf.classes_[j][p.argmax(axis=1)], labels[:, j])


def test_multioutput_heads_in_model(multioutput):
    _, _, clf = multioutput
    model = clf.model_
    assert clf.output_names_ == ["color", "size"]
    assert [t.shape for t in model.outputs] == [(None, 1), (None, 3)]
    heads = [
        (model.get_layer(name).units, model.get_layer(name).activation.__name__)
        for name in ("color", "size")
    ]
    assert heads == [(1, "sigmoid"), (3, "softmax")]
    assert model.loss == {
        "color": "binary_crossentropy",
        "size": "sparse_categorical_crossentropy",
    }


def test_multioutput_subset_accuracy_score(multioutput):
    X, Y, clf = multioutput
    labels = clf.predict(X.to_numpy())
    expected = np.mean((labels == Y.to_numpy()).all(axis=1))
    assert clf.score(X.to_numpy(), Y) == expected
    weights = np.arange(N, dtype=float)
    matches = (labels == Y.to_numpy()).all(axis=1)
    assert clf.score(X.to_numpy(), Y, sample_weight=weights) == pytest.approx(
        np.average(matches, weights=weights)
    )


def test_array_target_names_and_clash_with_input_names():
    X, Y = make_data()
    clf = MultiInputKerasClassifier(**MODEL).fit(X.to_numpy(), Y.to_numpy())
    assert clf.output_names_ == ["output_0", "output_1"]
    inputs = {"color": X.to_numpy(), "other": X.to_numpy()[:, :2]}
    renamed = MultiInputKerasClassifier(input_kinds={"color": "tabular"}, **MODEL)
    renamed.fit(inputs, Y.rename(columns={"size": "a/b"}))
    # "color" is an input name: the output layer of that target column becomes color_1.
    assert renamed.output_names_ == ["color_1", "a_b"]
    assert renamed.predict(inputs).shape == (N, 2)


def test_early_stopping_with_several_outputs():
    X, Y = make_data()
    clf = MultiInputKerasClassifier(early_stopping=True, **MODEL).fit(X.to_numpy(), Y)
    assert len(clf.history_["val_loss"]) == 2
    assert clf.predict(X.to_numpy()).shape == (N, 2)


def test_pickle_round_trip(multioutput):
    X, _, clf = multioutput
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict(X.to_numpy()), clf.predict(X.to_numpy()))
    before, after = clf.predict_proba(X.to_numpy()), restored.predict_proba(X.to_numpy())
    for expected, got in zip(before, after, strict=True):
        np.testing.assert_array_equal(got, expected)
    assert restored.output_names_ == ["color", "size"]


def test_skops_round_trip_with_trusted_types_only(multioutput, tmp_path):
    sio = pytest.importorskip("skops.io")
    from skmultimodal.persistence import trusted_types

    X, _, clf = multioutput
    sio.dump(clf, tmp_path / "model.skops")
    untrusted = set(sio.get_untrusted_types(file=tmp_path / "model.skops"))
    assert "skmultimodal._targets._MultiOutputLabelEncoder" in untrusted
    assert untrusted <= set(trusted_types())
    restored = sio.load(tmp_path / "model.skops", trusted=trusted_types())
    np.testing.assert_array_equal(restored.predict(X.to_numpy()), clf.predict(X.to_numpy()))


@pytest.mark.slow
def test_cross_val_score_subset_accuracy_and_custom_scorer():
    X, Y = make_data()
    Y = Y.assign(size=Y["size"].map({1: "s", 2: "m", 3: "l"}))
    pipe = Pipeline([("scale", StandardScaler()), ("clf", MultiInputKerasClassifier(**MODEL))])
    scores = cross_val_score(pipe, X, Y, cv=2)
    assert scores.shape == (2,) and ((scores >= 0) & (scores <= 1)).all()

    def mean_column_accuracy(y_true, y_pred):
        y_true = np.asarray(y_true)
        return np.mean([accuracy_score(y_true[:, j], y_pred[:, j]) for j in range(2)])

    per_column = cross_val_score(pipe, X, Y, cv=2, scoring=make_scorer(mean_column_accuracy))
    # A row counts for subset accuracy only when every column is right.
    assert (per_column >= scores).all()


def test_cross_val_score_mixed_column_types():
    # sklearn's check_cv cannot sort a y mixing strings and numbers: pass the splitter.
    X, Y = make_data()
    scores = cross_val_score(MultiInputKerasClassifier(**MODEL), X, Y, cv=KFold(2))
    assert scores.shape == (2,)


def test_single_class_column_is_rejected():
    X, Y = make_data()
    Y["size"] = 7
    with pytest.raises(ValueError, match="Target column 'size' holds only one class"):
        MultiInputKerasClassifier(**MODEL).fit(X.to_numpy(), Y)


def test_missing_label_is_rejected():
    X, Y = make_data()
    Y["color"] = Y["color"].astype(object)
    Y.loc[3, "color"] = None
    with pytest.raises(ValueError, match="first at row 3, column 'color'"):
        MultiInputKerasClassifier(**MODEL).fit(X.to_numpy(), Y)


def test_continuous_column_is_rejected():
    X, Y = make_data()
    Y["size"] = X["c"].to_numpy()
    with pytest.raises(ValueError, match="column 'size' holds continuous values"):
        MultiInputKerasClassifier(**MODEL).fit(X.to_numpy(), Y)


def test_unseen_label_in_score_is_rejected(multioutput):
    X, Y, clf = multioutput
    Y = Y.copy()
    Y.loc[0, "color"] = "green"
    with pytest.raises(ValueError, match=r"'color' holds label\(s\) \['green'\]"):
        clf.score(X.to_numpy(), Y)


def test_output_heads_need_unique_names():
    specs = InputSpec((3,), "float32", "tabular")
    params = dict(tabular_units=2, head_units=(), batch_norm=False)
    with pytest.raises(ValueError, match="unique names"):
        build_multi_input_model(
            specs, None, None, params, output_heads=[(1, "sigmoid", "y"), (2, "softmax", "y")]
        )


def test_lazy_images_with_several_outputs(tmp_path):
    from PIL import Image

    from skmultimodal import ImageLoader, MultiInputTransformer

    X, Y = make_data()
    paths = []
    for i, value in enumerate(X["a"]):
        path = tmp_path / f"{i}.png"
        Image.new("RGB", (8, 8), (int(value * 255), 0, 0)).save(path)
        paths.append(str(path))
    table = X.assign(image=paths)
    pipe = Pipeline(
        [
            (
                "prep",
                MultiInputTransformer(
                    [
                        ("image", ImageLoader(target_size=(8, 8), lazy=True), "image"),
                        ("num", StandardScaler(), ["a", "b", "c"]),
                    ]
                ),
            ),
            ("clf", MultiInputKerasClassifier(**{**MODEL, "image_filters": (2,)})),
        ]
    ).fit(table, Y)
    assert pipe.predict(table).shape == (N, 2)
    assert [p.shape[1] for p in pipe.predict_proba(table)] == [2, Y["size"].nunique()]
