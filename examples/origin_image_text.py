"""Origin example 1: image + text, binary target, through skmultimodal's API only.

The hand-written Keras model this project started from::

    image (224x224 RGB) -> Conv2D(32, 3, relu) -> MaxPool(2) -> Conv2D(64, 3, relu)
                        -> MaxPool(2) -> Flatten
    text (padded to the longest text) -> Embedding(vocab, 100) -> LSTM(256)
    concatenate -> Dense(1, sigmoid); adam, binary cross-entropy, batch 32, 10 epochs,
    validation_split 0.2

Here the preprocessing is a ``MultiInputTransformer`` and the model is the default builder
of ``MultiInputKerasClassifier`` with the origin's choices spelled out (``text_cell="lstm"``,
no dropout, no early stopping; the estimator's defaults are the measured better ``"conv"``
text branch, ``dropout=0.5`` and early stopping on large data), so the whole thing is one
scikit-learn estimator. Run: ``python examples/origin_image_text.py [--quick]``.
"""

import argparse
import shutil
from pathlib import Path

from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from skmultimodal import (
    ImageLoader,
    MultiInputKerasClassifier,
    MultiInputTransformer,
    TextTokenizer,
)
from skmultimodal.datasets import make_multimodal_classification


def build_pipeline(target_size=(224, 224), epochs=10, random_state=0):
    """The origin model: ImageLoader + TextTokenizer feeding the default CNN + LSTM."""
    prep = MultiInputTransformer(
        [
            ("image", ImageLoader(target_size=target_size), "image"),
            ("text", TextTokenizer(max_len=None), "text"),
        ]
    )
    clf = MultiInputKerasClassifier(
        image_filters=(32, 64),
        text_embedding_dim=100,
        text_units=256,
        text_cell="lstm",
        dropout=0.0,
        early_stopping=False,
        branch_norm=None,  # the origin model concatenates the raw branches
        optimizer="adam",
        batch_size=32,
        epochs=epochs,
        validation_split=0.2,
        random_state=random_state,
    )
    return Pipeline([("prep", prep), ("clf", clf)])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="64x64 images, 2 epochs")
    parser.add_argument("--n-samples", type=int, default=400)
    args = parser.parse_args(argv)
    target_size = (64, 64) if args.quick else (224, 224)
    X, y = make_multimodal_classification(args.n_samples, random_state=0)
    try:
        X_train, X_test, y_train, y_test = train_test_split(
            X[["image", "text"]], y, test_size=0.25, stratify=y, random_state=0
        )
        pipe = build_pipeline(target_size, epochs=2 if args.quick else 10)
        pipe.fit(X_train, y_train)
        history = pipe.named_steps["clf"].history_
        print(f"final train loss {history['loss'][-1]:.3f}, val loss {history['val_loss'][-1]:.3f}")
        print(f"test accuracy {pipe.score(X_test, y_test):.3f}")
        pipe.named_steps["clf"].model_.summary()
    finally:
        shutil.rmtree(Path(X["image"].iloc[0]).parent, ignore_errors=True)


if __name__ == "__main__":
    main()
