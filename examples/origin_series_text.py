"""Origin example 2: time-step sequence + text, binary fault prediction.

The hand-written Keras model this project started from::

    numeric columns -> StandardScaler (fitted on train only) -> reshape (n, 1, n_columns)
                    -> LSTM(64, dropout=0.3, recurrent_dropout=0.3)
    text (top 1,000 words, padded to 50) -> Embedding(1000, 8)
         -> Bidirectional(LSTM(64, dropout=0.3, recurrent_dropout=0.3))
    concatenate -> Dense(32, relu) -> BatchNormalization -> Dense(1, sigmoid)
    no shuffling (time order)

Through skmultimodal the scaler is fitted inside the pipeline, so it only ever sees training
rows, also under cross-validation. Run: ``python examples/origin_series_text.py [--quick]``.
"""

import argparse
import re
import shutil
from pathlib import Path

from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from skmultimodal import (
    MultiInputKerasClassifier,
    MultiInputTransformer,
    TextTokenizer,
    TimeStepReshaper,
)
from skmultimodal.datasets import make_multimodal_classification


def build_pipeline(numeric_columns, epochs=10, random_state=0):
    """The origin model: scaled time steps + tokenized text feeding LSTM + BiLSTM."""
    prep = MultiInputTransformer(
        [
            (
                "series",
                make_pipeline(StandardScaler(), TimeStepReshaper(timesteps=1)),
                list(numeric_columns),
            ),
            ("text", TextTokenizer(max_words=1000, max_len=50), "text"),
        ]
    )
    clf = MultiInputKerasClassifier(
        sequence_units=64,
        sequence_cell="lstm",  # the origin model's LSTM, without the summary statistics
        sequence_summary=False,
        sequence_linear=False,  # nor the linear start of the logits
        text_embedding_dim=8,
        text_units=64,
        text_bidirectional=True,
        text_cell="lstm",
        dropout=0.3,
        recurrent_dropout=0.3,
        head_units=(32,),
        batch_norm=True,
        shuffle=False,
        early_stopping=False,
        branch_norm=None,  # the origin model concatenates the raw branches
        epochs=epochs,
        random_state=random_state,
    )
    return Pipeline([("prep", prep), ("clf", clf)])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 epochs")
    parser.add_argument("--n-samples", type=int, default=600)
    args = parser.parse_args(argv)
    X, y = make_multimodal_classification(args.n_samples, random_state=0)
    shutil.rmtree(Path(X["image"].iloc[0]).parent, ignore_errors=True)  # images not used
    numeric = [column for column in X.columns if re.fullmatch(r"t\d+", column)]
    # Time order: train on the first 80 % of the rows, test on the last 20 %.
    X_train, X_test, y_train, y_test = train_test_split(
        X[numeric + ["text"]], y, test_size=0.2, shuffle=False
    )
    pipe = build_pipeline(numeric, epochs=2 if args.quick else 10).fit(X_train, y_train)
    print(f"test accuracy {pipe.score(X_test, y_test):.3f}")
    pipe.named_steps["clf"].model_.summary()


if __name__ == "__main__":
    main()
