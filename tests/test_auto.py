"""Column-role detection and the automatic pipeline (skmultimodal.auto)."""

import warnings

import numpy as np
import pandas as pd
import pytest
from _settings import SMALLEST
from PIL import Image
from scipy import sparse
from sklearn import config_context
from sklearn.base import clone
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils import estimator_html_repr

from skmultimodal.auto import (
    DEFAULT_MODEL_PARAMS,
    ColumnRoles,
    describe_roles,
    detect_column_roles,
    make_multimodal_pipeline,
)
from skmultimodal.compose import MultiInputTransformer
from skmultimodal.datasets import make_multimodal_classification
from skmultimodal.estimators import MultiInputKerasClassifier, MultiInputKerasRegressor
from skmultimodal.image import ImageLoader
from skmultimodal.text import TextTfidfVectorizer, TextTokenizer


@pytest.fixture(scope="module")
def builtin(tmp_path_factory):
    folder = tmp_path_factory.mktemp("builtin")
    X, y = make_multimodal_classification(
        30, image_dir=folder, n_timesteps=3, image_size=(8, 8), random_state=0
    )
    return X, y


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """A hand-made table with every role, missing values and relative image paths."""
    folder = tmp_path_factory.mktemp("mixed")
    (folder / "pics").mkdir()
    for i in range(8):
        Image.new("RGB", (12, 6), (30 * i, 0, 0)).save(folder / "pics" / f"p{i}.JPG")
    X = pd.DataFrame(
        {
            "id": np.arange(100, 108),
            "sku": [f"A-{i:03d}" for i in range(8)],
            "photo": [f"pics/p{i}.JPG" for i in range(8)],
            "review": [
                "great value for money",
                "broke after a week",
                None,
                "love it so much",
                "would not buy it again",
                "ok for the price",
                "arrived late but works",
                "terrible smell and color",
            ],
            "price": [9.5, 12.0, np.nan, 30.0, 7.25, 15.5, 11.0, 8.0],
            "stars": [1, 2, 1, 2, 1, 2, 1, 1],
            "color": ["red", "blue", "red", None, "blue", "red", "red", "blue"],
            "in_stock": [True, False, True, True, False, True, True, False],
            "shop": ["A"] * 8,
            "empty": [np.nan] * 8,
            "when": pd.date_range("2024-01-01", periods=8),
            "mixed": ["a", 1, "b", 2.5, "c", "d", "e", "f"],
        }
    )
    y = np.array([1, 0, 1, 1, 0, 1, 0, 0])
    return X, y, folder


EXPECTED_MIXED = {
    "id": "ignore",
    "sku": "ignore",
    "photo": "image",
    "review": "text",
    "price": "numeric",
    "stars": "categorical",
    "color": "categorical",
    "in_stock": "categorical",
    "shop": "ignore",
    "empty": "ignore",
    "when": "ignore",
    "mixed": "ignore",
}


def test_roles_of_the_builtin_data_set(builtin):
    X, _ = builtin
    roles = detect_column_roles(X)
    assert roles == {
        "image": "image",
        "text": "text",
        "t0": "numeric",
        "t1": "numeric",
        "t2": "numeric",
        "category": "categorical",
    }
    assert list(roles) == list(X.columns)
    assert roles.reasons["image"] == "30 paths to existing .png files"
    assert roles.reasons["category"] == "4 categories"


def test_roles_of_a_hand_made_table(mixed):
    X, _, folder = mixed
    roles = detect_column_roles(X, base_dir=folder)
    assert dict(roles) == EXPECTED_MIXED
    assert roles.reasons["id"] == "unique integer per row (an id)"
    assert roles.reasons["sku"] == "unique single-token string per row (an id)"
    assert roles.reasons["shop"] == "constant"
    assert roles.reasons["empty"] == "all values missing"
    assert roles.reasons["price"] == "float64, 7 distinct values; 1 missing"
    assert roles.reasons["color"] == "2 categories; 1 missing"
    assert roles.reasons["review"].endswith("; 1 missing")
    assert roles.columns("categorical") == ["stars", "color", "in_stock"]


@pytest.mark.parametrize(
    ("column", "values", "role"),
    [
        # Unique integers are ids only when consecutive or named like an id.
        ("sqft", [510, 720, 1033, 640, 980, 1210], "numeric"),
        ("row", [7, 3, 11, 2, 5, 9], "ignore"),
        ("userId", [7, 3, 11, 2, 5, 9], "ignore"),
        ("paid", [7, 3, 11, 2, 5, 9], "numeric"),
        ("rank", [4, 2, 6, 1, 3, 5], "ignore"),
        # Integer-valued floats (an int column with a NaN, as read_csv makes it) are integers.
        ("rooms", [1.0, 2.0, 1.0, np.nan, 2.0, 1.0], "categorical"),
        # Several distinct integers, few repeats: a quantity.
        ("age", [23, 35, 41, 23, 50, 35], "numeric"),
        ("city", ["Paris", "Rome", "Paris", "Oslo", "Rome", "Oslo"], "categorical"),
        ("code", ["x1", "x2", "x3", "x4", "x5", "x6"], "ignore"),
        ("name", ["Ann Lee", "Bo Chan", "Cy Diaz", "Di Eng", "Ed Fox", "Flo Gil"], "text"),
        ("missing_photo", ["a.png", "b.png", None, "c.png", "d.png", "e.png"], None),
    ],
)
def test_single_column_rules(tmp_path, column, values, role):
    if role is None:
        with pytest.raises(FileNotFoundError, match=r"Column 'missing_photo'.*row 0: 'a.png'"):
            detect_column_roles(pd.DataFrame({column: values}), base_dir=tmp_path)
        return
    assert detect_column_roles(pd.DataFrame({column: values}))[column] == role


def test_image_role_needs_existing_files_and_names_the_missing_one(tmp_path):
    Image.new("L", (4, 4)).save(tmp_path / "a.png")
    X = pd.DataFrame({"img": ["a.png", "b.png"]})
    with pytest.raises(FileNotFoundError, match=r"row 1: 'b.png' is not an existing file"):
        detect_column_roles(X, base_dir=tmp_path)
    assert detect_column_roles(X, base_dir=tmp_path, img="ignore")["img"] == "ignore"


def test_overrides_by_keyword_and_dict(mixed):
    X, _, folder = mixed
    roles = detect_column_roles(
        X, base_dir=folder, overrides={"stars": "numeric"}, sku="categorical"
    )
    assert roles["stars"] == "numeric" and roles["sku"] == "categorical"
    assert roles.reasons["sku"] == "set by override"
    with pytest.raises(ValueError, match=r"'stars' is overridden twice"):
        detect_column_roles(X, base_dir=folder, overrides={"stars": "numeric"}, stars="text")
    with pytest.raises(ValueError, match=r"Override for column 'nope', which is not in X"):
        detect_column_roles(X, base_dir=folder, nope="text")
    with pytest.raises(ValueError, match=r"'price' is 'number'; expected one of"):
        detect_column_roles(X, base_dir=folder, price="number")


def test_bad_inputs_are_refused():
    with pytest.raises(TypeError, match="pandas DataFrame"):
        detect_column_roles(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="Column names must be strings"):
        detect_column_roles(pd.DataFrame(np.zeros((3, 2))))
    with pytest.raises(ValueError, match="no rows"):
        detect_column_roles(pd.DataFrame({"a": []}))
    with pytest.raises(ValueError, match="max_categories must be >= 2"):
        detect_column_roles(pd.DataFrame({"a": [1, 2]}), max_categories=1)


def test_column_roles_repr_and_lookup():
    roles = ColumnRoles({"a": "numeric", "long name": "ignore"}, {"a": "float64"})
    assert repr(roles) == "ColumnRoles(\n  a          numeric  float64\n  long name  ignore\n)"
    assert roles.columns("ignore") == ["long name"]
    with pytest.raises(ValueError, match="Unknown roles"):
        ColumnRoles({"a": "audio"})


def test_pipeline_steps_follow_the_roles(mixed):
    X, y, folder = mixed
    pipe = make_multimodal_pipeline(X, y, base_dir=folder, random_state=3)
    prep = pipe.named_steps["prep"]
    assert isinstance(prep, MultiInputTransformer)
    assert [(name, columns) for name, _, columns in prep.transformers] == [
        ("image", "photo"),
        ("text", "review"),
        ("text_tfidf", "review"),
        ("text_chars", "review"),
        ("text_scores", "review"),
        ("numeric", ["price"]),
        ("categorical", ["stars", "color", "in_stock"]),
        ("ignored", ["id", "sku", "shop", "empty", "when", "mixed"]),
    ]
    steps = {name: trans for name, trans, _ in prep.transformers}
    assert steps["text_scores"].get_params()["task"] == "classification"
    assert steps["text_scores"].random_state == 3
    assert isinstance(steps["image"], ImageLoader)
    # 12x6 (width x height) images: their own size, below the 64-pixel cap.
    assert steps["image"].target_size == (6, 12)
    assert steps["image"].base_dir == str(folder)
    # The longest review has 5 words.
    assert isinstance(steps["text"], TextTokenizer) and steps["text"].max_len == 5
    assert isinstance(steps["text_tfidf"], TextTfidfVectorizer)
    assert steps["text_tfidf"].get_params()["ngram_range"] == (1, 2)
    assert steps["text_tfidf"].max_features == 20_000
    chars = steps["text_chars"].get_params()
    assert (chars["analyzer"], chars["ngram_range"], chars["sublinear_tf"]) == (
        "char_wb",
        (2, 5),
        True,
    )
    assert chars["max_features"] == 20_000
    without = make_multimodal_pipeline(X, y, base_dir=folder, char_ngrams=None)
    assert "text_chars" not in [name for name, _, _ in without.named_steps["prep"].transformers]
    assert [type(s) for _, s in steps["numeric"].steps] == [SimpleImputer, StandardScaler]
    assert isinstance(steps["categorical"], OneHotEncoder)
    assert steps["categorical"].handle_unknown == "ignore"
    assert steps["ignored"] == "drop"
    clf = pipe.named_steps["clf"]
    assert isinstance(clf, MultiInputKerasClassifier)
    assert clf.random_state == 3
    # 6-pixel-high images leave room for one convolution block only.
    expected = {**DEFAULT_MODEL_PARAMS, "image_filters": (16,)}
    assert {k: clf.get_params()[k] for k in DEFAULT_MODEL_PARAMS} == expected
    assert describe_roles(pipe) == {k: v for k, v in EXPECTED_MIXED.items()}


def test_large_images_are_scaled_to_64_pixels(tmp_path):
    Image.new("RGB", (200, 100)).save(tmp_path / "big.png")
    Image.new("RGB", (200, 100)).save(tmp_path / "big2.png")
    X = pd.DataFrame({"img": ["big.png", "big2.png"], "x": [0.5, 1.5]})
    pipe = make_multimodal_pipeline(X, base_dir=tmp_path)
    assert pipe.named_steps["prep"].transformers[0][1].target_size == (32, 64)
    assert pipe.named_steps["clf"].image_filters == (16, 32)
    pipe = make_multimodal_pipeline(X, base_dir=tmp_path, image_size=(10, 10))
    assert pipe.named_steps["prep"].transformers[0][1].target_size == (10, 10)
    pipe = make_multimodal_pipeline(X, base_dir=tmp_path, image_size=(3, 30))
    assert pipe.named_steps["clf"].image_filters == ()
    params = {"image_filters": (4, 4, 4)}
    pipe = make_multimodal_pipeline(X, base_dir=tmp_path, image_size=(3, 30), model_params=params)
    assert pipe.named_steps["clf"].image_filters == (4, 4, 4)


def test_several_text_columns_get_one_input_each():
    X = pd.DataFrame(
        {
            "title": ["a good one", "bad one here", "so so item", "fine thing ok"],
            "body text": ["long text a b", "c d e f g", "h i j", "k l m n o p"],
        }
    )
    pipe = make_multimodal_pipeline(X)
    names = [name for name, _, _ in pipe.named_steps["prep"].transformers]
    assert names == [
        "text_title",
        "text_title_tfidf",
        "text_title_chars",
        "text_body_text",
        "text_body_text_tfidf",
        "text_body_text_chars",
    ]
    assert describe_roles(pipe) == {"title": "text", "body text": "text"}


@pytest.mark.parametrize(
    ("y", "task", "expected"),
    [
        ([0, 1, 0, 1], "auto", MultiInputKerasClassifier),
        (["a", "b", "c", "a"], "auto", MultiInputKerasClassifier),
        ([0.5, 1.25, 3.0, 2.0], "auto", MultiInputKerasRegressor),
        ([1, 5, 2, 7], "regression", MultiInputKerasRegressor),
        (None, "auto", MultiInputKerasClassifier),
        (None, "regression", MultiInputKerasRegressor),
    ],
)
def test_estimator_follows_the_target(y, task, expected):
    X = pd.DataFrame({"x": [0.1, 0.7, 0.3, 0.9]})
    pipe = make_multimodal_pipeline(X, y, task=task, model_params={"epochs": 3})
    clf = pipe.named_steps["clf"]
    assert type(clf) is expected
    assert clf.epochs == 3


@pytest.mark.parametrize(("y", "expected_epochs"), [([0, 1, 0, 1], 3), ([0.5, 1.25, 3.0, 2.0], 4)])
def test_deprecated_estimator_params_still_work_with_a_future_warning(y, expected_epochs):
    X = pd.DataFrame({"x": [0.1, 0.7, 0.3, 0.9]})
    with pytest.warns(FutureWarning, match=r"classifier_params, regressor_params.*model_params="):
        pipe = make_multimodal_pipeline(
            X, y, classifier_params={"epochs": 3}, regressor_params={"epochs": 4}
        )
    assert pipe.named_steps["clf"].epochs == expected_epochs
    with pytest.warns(FutureWarning), pytest.raises(ValueError, match="model_params only"):
        make_multimodal_pipeline(X, y, model_params={"epochs": 2}, classifier_params={})


def test_deprecated_role_keywords_and_overrides_still_work_with_a_future_warning():
    X = pd.DataFrame({"id": [1, 2, 3, 4], "x": [0.1, 0.7, 0.3, 0.9]})
    with pytest.warns(FutureWarning, match=r"make_multimodal_pipeline\(id=\.\.\.\).*roles="):
        pipe = make_multimodal_pipeline(X, id="ignore")
    assert describe_roles(pipe)["id"] == "ignore"
    with pytest.warns(FutureWarning, match=r"overrides=\) is deprecated"):
        pipe = make_multimodal_pipeline(X, overrides={"id": "ignore"})
    assert describe_roles(pipe)["id"] == "ignore"
    with pytest.warns(FutureWarning), pytest.raises(ValueError, match="roles= only"):
        make_multimodal_pipeline(X, roles={"x": "numeric"}, id="ignore")


def test_roles_set_some_columns_and_the_others_are_detected():
    X = pd.DataFrame({"id": [1, 2, 3, 4], "x": [0.1, 0.7, 0.3, 0.9]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pipe = make_multimodal_pipeline(X, roles={"id": "ignore"})
    assert describe_roles(pipe) == {"id": "ignore", "x": "numeric"}
    with pytest.raises(ValueError, match=r"Override for column 'nope', which is not in X"):
        make_multimodal_pipeline(X, roles={"nope": "text"})
    with pytest.raises(ValueError, match=r"Unknown roles \{'x': 'number'\}"):
        make_multimodal_pipeline(X, roles={"id": "ignore", "x": "number"})


def test_pipeline_refuses_unusable_settings():
    X = pd.DataFrame({"id": [1, 2, 3], "x": ["u", "v", "w"]})
    with pytest.raises(ValueError, match="Every column is ignored"):
        make_multimodal_pipeline(X)
    with pytest.raises(ValueError, match=r"'x' has the role 'numeric' but dtype str"):
        make_multimodal_pipeline(X, roles={"x": "numeric"})
    with pytest.raises(ValueError, match="task must be"):
        make_multimodal_pipeline(X, roles={"x": "text"}, task="ranking")
    with pytest.raises(TypeError, match="MultiInputTransformer"):
        describe_roles(Pipeline([("scale", StandardScaler())]))


def test_fit_with_missing_values(mixed):
    X, y, folder = mixed
    pipe = make_multimodal_pipeline(X, y, base_dir=folder, model_params=SMALLEST, random_state=0)
    pipe.fit(X, y)
    prep = pipe.named_steps["prep"]
    inputs = prep.transform(X)
    assert list(inputs) == [
        "image",
        "text",
        "text_tfidf",
        "text_chars",
        "text_scores",
        "numeric",
        "categorical",
    ]
    # The missing review is an empty row of the (sparse) TF-IDF weights too.
    assert sparse.issparse(inputs["text_tfidf"]) and inputs["text_tfidf"].dtype == np.float32
    assert inputs["text_tfidf"][2].nnz == 0 and inputs["text_tfidf"][0].nnz > 0
    assert inputs["text_chars"][2].nnz == 0 and inputs["text_chars"][0].nnz > 0
    assert inputs["image"].shape == (8, 6, 12, 3)
    # The missing price is imputed with the median of the others (11.0), then scaled.
    numeric = prep.named_transformers_["numeric"]
    assert numeric.named_steps["simpleimputer"].statistics_.tolist() == [11.0]
    assert numeric.named_steps["standardscaler"].mean_.tolist() == [104.25 / 8]
    assert not np.isnan(inputs["numeric"]).any()
    # The missing color is a category of its own.
    color_categories = prep.named_transformers_["categorical"].categories_[1]
    assert color_categories[:2].tolist() == ["blue", "red"] and pd.isna(color_categories[2])
    # The missing review is an all-padding row.
    assert inputs["text"][2].tolist() == [0, 0, 0, 0, 0]
    assert pipe.predict_proba(X).shape == (8, 2)
    # Cloning or fitting keeps the roles readable.
    assert describe_roles(clone(pipe)) == describe_roles(pipe) == EXPECTED_MIXED


def test_html_repr_of_the_whole_pipeline(builtin):
    X, y = builtin
    pipe = make_multimodal_pipeline(X, y, model_params=SMALLEST, random_state=0)
    html = estimator_html_repr(pipe)
    for name in (
        "MultiInputTransformer",
        "ImageLoader",
        "TextTokenizer",
        "StandardScaler",
        "OneHotEncoder",
        "MultiInputKerasClassifier",
    ):
        assert name in html
    assert "<div" in html and "image" in html and "categorical" in html
    assert "MultiInputKerasClassifier" in pipe._repr_html_()


def test_set_output_pandas_is_refused_clearly_through_a_pipeline(builtin):
    X, y = builtin
    pipe = make_multimodal_pipeline(X, y, model_params=SMALLEST)
    with pytest.raises(ValueError, match="returns a dict of NumPy arrays.*cannot be a 'pandas'"):
        pipe.set_output(transform="pandas")
    # The global setting reaches the steps that make tables; the dict stays NumPy.
    with config_context(transform_output="pandas"):
        pipe.fit(X, y)
        inputs = pipe.named_steps["prep"].transform(X)
    assert sparse.issparse(inputs.pop("text_tfidf")) and sparse.issparse(inputs.pop("text_chars"))
    assert all(isinstance(v, np.ndarray) for v in inputs.values())
    assert inputs["numeric"].shape == (30, 3)


# ---------------------------------------------------------------------------------------
# Columns of arrays, roles forced on the wrong values, missing image paths


def _array_table(n=8):
    rng = np.random.RandomState(0)
    return pd.DataFrame(
        {
            "emb": [rng.rand(4) for _ in range(n)],
            "raw": [rng.rand(3, 2).tolist() for _ in range(n)],
            "price": rng.rand(n),
        }
    )


def test_array_cells_get_the_vector_and_sequence_roles():
    X = _array_table()
    roles = detect_column_roles(X)
    assert dict(roles) == {"emb": "vector", "raw": "sequence", "price": "numeric"}
    assert roles.reasons["emb"] == "arrays of 4 numbers"
    assert roles.reasons["raw"] == "series of 3 time steps of 2 features"
    X.loc[2, "emb"] = None
    assert detect_column_roles(X).reasons["emb"] == "arrays of 4 numbers; 1 missing"
    mixed = X.assign(emb=[[1.0, 2.0], "x", *[[1.0, 2.0]] * 6])
    assert detect_column_roles(mixed)["emb"] == "ignore"


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        (
            [np.zeros((2, 2)), np.zeros((2, 3)), np.zeros((2, 2))],
            r"'col' holds arrays of different shapes: \(2, 2\) \(first at row 0",
        ),
        ([[1, 2], [[1, 2]], [1, 2]], r"'col' holds arrays of different shapes: \(2,\) \(first"),
        ([[1, 2], ["a", "b"], [1, 2]], r"'col' holds arrays, but row 1 is not a rectangular"),
        ([np.zeros((1, 1, 1))] * 3, r"arrays of shape \(1, 1, 1\) \(first at row 0\)"),
    ],
)
def test_unusable_array_cells_are_refused_naming_the_column(cells, message):
    X = pd.DataFrame({"col": pd.Series(cells, dtype=object), "x": [1.0, 2.0, 3.0]})
    with pytest.raises(ValueError, match=message + ".*--role col=ignore"):
        detect_column_roles(X)
    assert detect_column_roles(X, col="ignore")["col"] == "ignore"


def test_pipeline_for_array_columns_fits_and_predicts():
    X = _array_table()
    y = np.array([0, 1] * 4)
    pipe = make_multimodal_pipeline(X, y, model_params=SMALLEST, random_state=0)
    steps = pipe.named_steps["prep"].transformers
    assert [(name, columns) for name, _, columns in steps] == [
        ("vector", "emb"),
        ("sequence", "raw"),
        ("sequence_scores", "raw"),
        ("numeric", ["price"]),
    ]
    pipe.fit(X, y)
    inputs = pipe.named_steps["prep"].transform(X)
    assert inputs["vector"].shape == (8, 4) and inputs["sequence"].shape == (8, 3, 2)
    padder = pipe.named_steps["prep"].named_transformers_["sequence"]
    expected = (np.asarray(X["raw"][1]) - padder.mean_) / padder.scale_  # standardised
    np.testing.assert_allclose(inputs["sequence"][1], expected, rtol=1e-5)
    assert pipe.predict_proba(X).shape == (8, 2)
    assert describe_roles(clone(pipe)) == {"emb": "vector", "raw": "sequence", "price": "numeric"}


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"price": "image"}, r"'price' has the role 'image', but row 0 holds .*image file paths"),
        ({"emb": "text"}, r"'emb' has the role 'text', but row 0 holds array.*'vector' or"),
        ({"raw": "categorical"}, r"'raw' has the role 'categorical', but row 0 holds \[\["),
        ({"price": "vector"}, r"'price' has the role 'vector'.*1-D arrays"),
        ({"emb": "sequence", "raw": "vector"}, r"'raw' has the role 'vector'.*1-D arrays"),
    ],
)
def test_a_role_forced_on_unfit_values_is_refused(override, message):
    with pytest.raises(ValueError, match=message + r".*--role \w+=ROLE"):
        make_multimodal_pipeline(_array_table(), roles=override)


def test_missing_image_path_needs_an_explicit_opt_in(mixed):
    X, y, folder = mixed
    X = X.copy()
    X.loc[3, "photo"] = None
    with pytest.raises(ValueError, match=r"'photo' has 1 missing paths \(first at row 3, index 3"):
        make_multimodal_pipeline(X, y, base_dir=folder)
    with pytest.raises(ValueError, match="image_on_error must be"):
        make_multimodal_pipeline(X, y, base_dir=folder, image_on_error="skip")
    pipe = make_multimodal_pipeline(
        X, y, base_dir=folder, model_params=SMALLEST, image_on_error="zeros"
    )
    loader = pipe.named_steps["prep"].transformers[0][1]
    assert isinstance(loader, ImageLoader) and loader.on_error == "zeros"
    with pytest.warns(UserWarning, match="1 of 8 images could not be loaded"):
        pipe.fit(X, y)


def test_complete_image_column_keeps_raising_at_predict(mixed):
    X, y, folder = mixed
    pipe = make_multimodal_pipeline(X, y, base_dir=folder, model_params=SMALLEST)
    assert pipe.named_steps["prep"].transformers[0][1].on_error == "raise"
    pipe.fit(X, y)
    new = X.head(3).copy()
    new.loc[1, "photo"] = None
    with pytest.raises(ValueError, match="row 1"):
        pipe.predict(new)
    new.loc[1, "photo"] = "pics/gone.JPG"
    with pytest.raises(FileNotFoundError, match="gone.JPG"):
        pipe.predict(new)


def test_image_role_forced_on_strings_that_are_not_files(mixed):
    X, _, folder = mixed
    with pytest.raises(FileNotFoundError, match=r"'color' has the role 'image', but row 0: 'red'"):
        make_multimodal_pipeline(X, base_dir=folder, roles={"color": "image"})
