"""Every Python snippet of README.md and docs/ runs, so that a stale snippet fails CI.

Each ```python block is one test. It runs in a fresh namespace, in a temporary folder, after
a few lines of set-up that make the names the page's prose supplies (``X``, ``y``, a fitted
``pipe``...). Numbers are made smaller where a snippet trains (rows, epochs, folds), by
literal replacements that must each match the snippet, so an edited snippet fails here until
this file follows it. The only changes of substance: ImageNet weights become random weights
(no download), and a Dask or Ray snippet runs only where that package is installed (both are
optional extras; the slow suite runs them). Shell blocks are covered by tests/test_cli.py
and tests/test_readme.py.
"""

import os
import re
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def python_blocks(path: Path) -> list:
    return [match.group(1) for match in BLOCK.finditer(path.read_text())]


def key(path: Path, index: int) -> str:
    return f"{path.relative_to(ROOT).as_posix()}#{index}"


SNIPPETS = {key(path, i): code for path in PAGES for i, code in enumerate(python_blocks(path))}

# -- what the prose around a snippet supplies ------------------------------------------------
_TABLE = """
from skmultimodal.datasets import make_multimodal_classification
X, y = make_multimodal_classification(60, image_size=(8, 8), random_state=0)
"""
_FITTED = (
    _TABLE
    + """
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from skmultimodal import (ImageLoader, MultiInputKerasClassifier, MultiInputTransformer,
                          TextTokenizer)
pipe = Pipeline([
    ("prep", MultiInputTransformer([
        ("image", ImageLoader(target_size=(8, 8)), "image"),
        ("text", TextTokenizer(max_words=20, max_len=6), "text"),
        ("series", StandardScaler(), [f"t{i}" for i in range(8)]),
        ("meta", OneHotEncoder(sparse_output=False, handle_unknown="ignore"), ["category"]),
    ])),
    ("clf", MultiInputKerasClassifier(image_filters=(2,), text_embedding_dim=2, text_units=2,
                                      tabular_units=2, epochs=2, random_state=0)),
]).fit(X, y)
"""
)
_REVIEWS = """
import numpy as np
import pandas as pd
rng = np.random.RandomState(0)
X = pd.DataFrame({
    "review": [" ".join(rng.choice(["good", "bad", "fine", "cheap"], 4)) for _ in range(24)],
    "brand": rng.choice(["a", "b", "c"], 24),
    "price": rng.rand(24),
})
y = np.arange(24) % 2
"""
_DISTRIBUTED_PIPELINE = (
    _REVIEWS
    + """
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from skmultimodal import MultiInputKerasClassifier, MultiInputTransformer, TextTokenizer
pipeline = Pipeline([
    ("prep", MultiInputTransformer([
        ("text", TextTokenizer(max_len=4), "review"),
        ("brand", OneHotEncoder(sparse_output=False), ["brand"]),
        ("price", StandardScaler(), ["price"]),
    ])),
    ("model", MultiInputKerasClassifier(text_embedding_dim=4, text_cell="pool",
                                        epochs=2, batch_size=8, random_state=0)),
])
search = GridSearchCV(pipeline, {"model__tabular_units": [2]}, cv=StratifiedKFold(n_splits=2))
"""
)
_IMAGES = """
import numpy as np
from PIL import Image
def write_images(folder, n, size=(12, 12), suffix=".png", seed=0):
    import os
    os.makedirs(folder, exist_ok=True)
    rng = np.random.RandomState(seed)
    paths = []
    for i in range(n):
        path = f"{folder}/{i}{suffix}"
        Image.fromarray(rng.randint(0, 256, size=(*size, 3)).astype("uint8")).save(path)
        paths.append(path)
    return paths
"""

SETUP = {
    "docs/user_guide/cli.md#0": _TABLE + "X['notes'] = 'see attached'\n",
    "docs/user_guide/cli.md#1": _FITTED,
    "docs/user_guide/distributed.md#0": _REVIEWS,
    "docs/user_guide/distributed.md#1": _DISTRIBUTED_PIPELINE,
    "docs/user_guide/distributed.md#2": _DISTRIBUTED_PIPELINE,
    "docs/user_guide/lazy_images.md#0": "from skmultimodal import ImageLoader\n",
    "docs/user_guide/performance.md#0": _FITTED
    + "from sklearn.model_selection import GridSearchCV\n"
    + "grid = {'clf__head_units': [(8,)]}\n",
    "docs/user_guide/performance.md#1": "from skmultimodal import ImageLoader\n",
    "docs/user_guide/persistence.md#0": _FITTED,
    "docs/user_guide/regression.md#0": _IMAGES
    + """
import pandas as pd
rng = np.random.RandomState(0)
photos = {f"photo_{k}": [p.split("/", 1)[1] for p in write_images(f"photos/{k}", 24, seed=k)]
          for k in range(4)}
houses = pd.DataFrame({**photos, "bedrooms": rng.randint(1, 5, 24),
                       "bathrooms": rng.randint(1, 3, 24), "area": rng.randint(50, 300, 24),
                       "zipcode": rng.choice(["92000", "93000", "94000"], 24)})
price = 1000 * houses["area"].to_numpy() + rng.randint(0, 50000, 24)
""",
    "docs/user_guide/sequences.md#0": """
import pandas as pd
import numpy as np
import pandas as pd
rng = np.random.RandomState(0)
list_of_arrays = [rng.rand(rng.randint(5, 15), 2) for _ in range(30)]
prices = rng.rand(30)
y = np.arange(30) % 2
""",
    "docs/user_guide/sequences.md#2": _TABLE
    + "import re\nfrom skmultimodal.auto import make_multimodal_pipeline\n",
    "docs/user_guide/transfer_learning.md#1": _IMAGES
    + "paths = write_images('pictures', 12)\nlabels = [0, 1] * 6\n",
    "docs/user_guide/transfer_learning.md#2": _REVIEWS
    + """
from sklearn.pipeline import Pipeline
from skmultimodal import MultiInputKerasClassifier, MultiInputTransformer, TextTokenizer
with open("vectors.txt", "w") as f:
    f.write("good 0.1 0.2 0.3\\nbad -0.1 0.0 0.4\\ncheap 0.5 0.5 0.1\\n")
""",
    "docs/user_guide/transfer_learning.md#3": _IMAGES
    + """
import pandas as pd
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from skmultimodal import (ImageLoader, MultiInputKerasClassifier, MultiInputTransformer,
                          TextTokenizer, export)
rng = np.random.RandomState(0)
table = pd.DataFrame({"image": write_images("shop", 12, suffix=".jpg"),
                      "review": ["great value", "arrived late", "broken"] * 4,
                      "price": rng.rand(12) * 20, "category": ["c1", "c2", "c3"] * 4})
pipe = Pipeline([
    ("prep", MultiInputTransformer([
        ("image", ImageLoader(target_size=(8, 8)), "image"),
        ("review", TextTokenizer(max_len=4), "review"),
        ("price", StandardScaler(), ["price"]),
        ("category", OneHotEncoder(sparse_output=False, handle_unknown="ignore"), ["category"]),
    ])),
    ("clf", MultiInputKerasClassifier(image_filters=(2,), epochs=1, random_state=0)),
]).fit(table, np.arange(12) % 2)
export(pipe, "served")
Image.open(table["image"][0]).save("a.jpg")
""",
    "docs/user_guide/text_backbones.md#0": _REVIEWS,
    # The preset that the page's first snippet saved.
    "docs/user_guide/text_backbones.md#1": _REVIEWS
    + """
import keras_hub
words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "good", "bad", "fine", "cheap"]
keras_hub.models.BertBackbone(vocabulary_size=len(words), num_layers=1, num_heads=1,
                              hidden_dim=8, intermediate_dim=8).save_to_preset("bert_preset")
keras_hub.models.BertTokenizer(vocabulary=words).save_to_preset("bert_preset")
""",
}

# -- smaller numbers (each must match the snippet) -----------------------------------------
SMALLER = {
    "docs/user_guide/cli.md#0": [('"epochs": 30', '"epochs": 1')],
    "docs/user_guide/ensemble.md#0": [
        ("rng.rand(200)", "rng.rand(40)"),
        ('{"epochs": 5}', '{"epochs": 1}'),
    ],
    "docs/user_guide/inspection.md#0": [
        ("make_multimodal_classification(300,", "make_multimodal_classification(80,"),
        ('"epochs": 20', '"epochs": 1'),
        ("X[:200], y[:200]", "X[:50], y[:50]"),
        ("X[200:], y[200:]", "X[50:], y[50:]"),
        ("n_repeats=5", "n_repeats=2"),
        ("StratifiedKFold(5,", "StratifiedKFold(2,"),
    ],
    "docs/user_guide/missing_modalities.md#0": [
        ("n_samples=200", "n_samples=60"),
        ("epochs=5", "epochs=1"),
    ],
    "docs/user_guide/own_model.md#0": [
        ("n_samples=200", "n_samples=60"),
        ("epochs=30", "epochs=2"),
        ('[8, 32]}, cv=3', "[8]}, cv=2"),
    ],
    # loky workers would import TensorFlow again (20 s); the environment is the point.
    "docs/user_guide/performance.md#0": [("n_jobs=2)", "n_jobs=1, cv=2)")],
    "docs/user_guide/regression.md#0": [
        ('base_dir="photos/")', 'base_dir="photos/", model_params={"epochs": 2})')
    ],
    "docs/user_guide/transfer_learning.md#1": [
        ('weights="imagenet"', "weights=None"),  # random weights: no download
        ("target_size=(224, 224)", "target_size=(32, 32)"),
        ("[0.01, 0.1, 1, 10]", "[1]"),
        ("cv=5", "cv=2"),
    ],
    "docs/user_guide/text_backbones.md#0": [("epochs=5", "epochs=1"), ("cv=3", "cv=2")],
    "docs/user_guide/transfer_learning.md#2": [
        ('"review"), ...])', '"review")])'),  # the page's "..." stands for other columns
        ("MultiInputKerasClassifier(text_embedding_trainable=False)",
         "MultiInputKerasClassifier(text_embedding_trainable=False, epochs=1)"),
    ],
}  # fmt: skip

# -- what is checked after a snippet ran ---------------------------------------------------
CHECKS = {
    "docs/user_guide/cli.md#1": "assert Path('history.png').stat().st_size > 0",
    "docs/user_guide/distributed.md#2": "assert proba.shape == (24, 2)",
    "docs/user_guide/ensemble.md#0": "assert set(ens.weights_) and len(ens.report()) > 0",
    "docs/user_guide/own_model.md#0": "assert search.best_params_ == {'clf__model__units': 8}",
    "docs/user_guide/persistence.md#0": (
        "import numpy as np\n"
        "np.testing.assert_array_equal(restored.predict_proba(X), pipe.predict_proba(X))"
    ),
    "docs/user_guide/sequences.md#1": (
        "assert samples['temp_series'][0].ravel().tolist() == [20.0, 21.5, 23.0]"
    ),
    "docs/user_guide/sequences.md#2": "assert len(grid) == 8",
    "docs/user_guide/text_backbones.md#0": "assert scores.shape == (2,)",
    # Each distinct review embedded once, over 3 candidates x 3 folds and the refit.
    "docs/user_guide/text_backbones.md#1": (
        "assert len(list(Path('text_embeddings').rglob('*.f4'))) == X['review'].nunique()"
    ),
    "docs/user_guide/transfer_learning.md#3": "assert proba.shape == (1, 2)",
}

# -- snippets run elsewhere, or only where an optional package is ---------------------------
ELSEWHERE = {"README.md#0": "tests/test_readme.py runs the Quickstart"}
OPTIONAL = {
    "docs/user_guide/distributed.md#0": "dask.distributed",
    "docs/user_guide/distributed.md#1": "ray",
    "docs/user_guide/text_backbones.md#0": "keras_hub",
    "docs/user_guide/text_backbones.md#1": "keras_hub",
}


def test_every_table_of_this_file_names_a_snippet():
    named = {*SETUP, *SMALLER, *CHECKS, *ELSEWHERE, *OPTIONAL}
    assert sorted(named - set(SNIPPETS)) == []
    assert len(SNIPPETS) >= 20


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """The snippet's files in a temporary folder; its environment variables undone."""
    monkeypatch.chdir(tmp_path)
    saved = dict(os.environ)
    yield tmp_path
    os.environ.clear()
    os.environ.update(saved)
    try:
        import matplotlib.pyplot as plt

        plt.close("all")
    except ImportError:
        pass


@pytest.mark.parametrize("name", sorted(SNIPPETS))
def test_snippet_runs(name, isolated):
    if name in ELSEWHERE:
        pytest.skip(ELSEWHERE[name])
    if name in OPTIONAL:
        pytest.importorskip(OPTIONAL[name])
    code = SNIPPETS[name]
    for written, smaller in SMALLER.get(name, []):
        assert code.count(written) >= 1, f"{name} changed: update {written!r} in this file"
        code = code.replace(written, smaller)
    namespace = {"__name__": "__main__", "Path": Path}
    exec(compile(textwrap.dedent(SETUP.get(name, "")), f"{name} (set-up)", "exec"), namespace)
    exec(compile(code, name, "exec"), namespace)
    exec(compile(CHECKS.get(name, ""), f"{name} (check)", "exec"), namespace)
