"""A small search case shared by the distributed-search tests (Dask, Ray)."""

import numpy as np
import pandas as pd
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skmultimodal.compose import MultiInputTransformer
from skmultimodal.estimators import MultiInputKerasClassifier
from skmultimodal.text import TextTokenizer

WORDS_POS = ["good", "great", "fast", "nice"]
WORDS_NEG = ["bad", "slow", "broken", "poor"]


def make_table(n: int = 24) -> tuple[pd.DataFrame, np.ndarray]:
    """``n`` rows: a review, a brand and a price; the label follows the review's words."""
    rng = np.random.RandomState(0)
    y = np.array([0, 1] * (n // 2))
    reviews = [
        " ".join(rng.choice(WORDS_POS if label else WORDS_NEG, size=3)) + " phone" for label in y
    ]
    X = pd.DataFrame(
        {
            "review": reviews,
            "brand": rng.choice(["a", "b", "c"], size=n),
            "price": rng.normal(100.0, 20.0, size=n),
        }
    )
    return X, y


def make_search() -> GridSearchCV:
    prep = MultiInputTransformer(
        [
            ("text", TextTokenizer(max_len=4), "review"),
            ("brand", OneHotEncoder(sparse_output=False), ["brand"]),
            ("price", StandardScaler(), ["price"]),
        ]
    )
    model = MultiInputKerasClassifier(
        text_embedding_dim=4,
        text_cell="pool",
        epochs=2,
        batch_size=8,
        random_state=0,
    )
    return GridSearchCV(
        Pipeline([("prep", prep), ("model", model)]),
        {"model__tabular_units": [2, 3]},
        cv=StratifiedKFold(n_splits=2),
        # A continuous score: equal log-losses mean equal fitted models, not a lucky tie.
        scoring="neg_log_loss",
    )
