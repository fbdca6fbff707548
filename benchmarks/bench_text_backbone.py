"""Benchmark a keras-hub text backbone: its cost per 1,000 texts, and frozen embeddings +
our head against TF-IDF + logistic regression and our from-scratch text branch.

The backbone is a BERT of BERT-Tiny's shape (``--layers 2``, ``--hidden 128``, 2 heads,
intermediate 512, ``--sequence-length`` token ids) with **random weights** (BERT's
initialisation, drawn with a fixed seed) and a whole-word vocabulary of the
``--vocabulary`` most frequent words of the subsample (plus BERT's special tokens), saved
as a local preset: nothing is downloaded.
With random weights the quality column shows that the machinery runs end to end on real
texts, not what a pretrained encoder would score; the cost column is what a pretrained
backbone of this shape costs (compute does not depend on the weights).

Measured on a stratified subsample of ``--n-samples`` reviews (women's clothing reviews,
title + text -> ``Recommended IND``), the same ``--folds`` stratified folds for every model:

- ``TF-IDF + LR`` (the baseline): word 1-2-gram TF-IDF, ``LogisticRegression``;
- ``from-scratch text branch``: ``make_multimodal_pipeline`` on the text column alone with
  only its ``TextTokenizer`` step (no TF-IDF, character or score inputs): our network's own
  embedding and text cell, ``--epochs`` epochs;
- ``frozen embeddings + our head``: ``TextEmbedder`` (cached: each text embedded once over
  all folds) then ``MultiInputKerasClassifier`` on the float embeddings, ``--epochs``
  epochs;
- ``frozen embeddings + LR``: the same cached embeddings, standardised, for a
  ``LogisticRegression`` (it reads the cache the previous row filled: no backbone pass).

The cost per 1,000 texts is the best of ``--repeats`` uncached ``TextEmbedder.transform``
calls over 1,000 texts (tokenization included), on this machine's CPUs.

Run: python benchmarks/bench_text_backbone.py --n-samples 1000 --folds 5 --record
"""

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import _harness as harness  # noqa: E402
import numpy as np  # noqa: E402
from bench_quality import REPO, load_reviews  # noqa: E402

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def save_random_bert(folder: Path, texts, args) -> None:
    """A BERT of random weights (fixed seed) and a whole-word vocabulary of ``texts``,
    saved as a keras-hub preset in ``folder``."""
    import keras_hub

    tokenizer_words = Counter()
    for text in texts:
        tokenizer_words.update(
            word.strip(".,!?;:()\"'").lower() for word in text.split() if word.strip(".,!?;:()\"'")
        )
    words = [word for word, _ in tokenizer_words.most_common(args.vocabulary)]
    vocabulary = SPECIAL_TOKENS + list(".,!?;:()\"'-") + words
    vocabulary = list(dict.fromkeys(vocabulary))
    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=len(vocabulary),
        num_layers=args.layers,
        num_heads=2,
        hidden_dim=args.hidden,
        intermediate_dim=4 * args.hidden,
        max_sequence_length=max(args.sequence_length, 128),
    )
    # BERT's initialisation, seeded here: kernels and embeddings N(0, 0.02); the layer
    # norms' scales (1) and every bias (0) keep the values keras-hub gave them.
    rng = np.random.RandomState(0)
    backbone.set_weights(
        [
            rng.normal(0, 0.02, w.shape).astype("float32") if w.ndim >= 2 else np.asarray(w)
            for w in backbone.weights
        ]
    )
    backbone.save_to_preset(str(folder))
    keras_hub.models.BertTokenizer(vocabulary=vocabulary, lowercase=True).save_to_preset(
        str(folder)
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=1000)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--sequence-length", type=int, default=128)
    parser.add_argument("--vocabulary", type=int, default=8000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=10, help="of both networks")
    parser.add_argument("--data-dir", type=Path, default=REPO / ".." / "shared" / "data")
    harness.add_results_options(parser)
    args = parser.parse_args(argv)

    import keras
    import keras_hub
    import sklearn
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_validate, train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skmultimodal import MultiInputKerasClassifier, TextEmbedder
    from skmultimodal.auto import make_multimodal_pipeline
    from skmultimodal.text_backbone import backbone_texts_seen

    X_all, raw = load_reviews(Path(args.data_dir))
    y_all = raw["Recommended IND"].to_numpy()
    X, _, y, _ = train_test_split(
        X_all[["text"]], y_all, train_size=args.n_samples, stratify=y_all, random_state=0
    )
    X = X.reset_index(drop=True)
    work = Path(tempfile.mkdtemp(prefix="bench_text_backbone_"))
    preset = work / "preset"
    save_random_bert(preset, X["text"], args)
    n_vocabulary = keras_hub.models.Tokenizer.from_preset(str(preset)).vocabulary_size()

    # Cost per 1,000 texts: uncached embedding, best of --repeats (tokenization included).
    thousand = X["text"].iloc[:1000]
    embedder = TextEmbedder(str(preset), sequence_length=args.sequence_length).fit(thousand)
    embedder.transform(thousand.iloc[:32])  # builds the model once
    costs = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        embedder.transform(thousand)
        costs.append((time.perf_counter() - start) * 1000 / len(thousand))
    per_thousand = min(costs)

    folds = StratifiedKFold(args.folds, shuffle=True, random_state=0)
    scoring = ["accuracy", "roc_auc"]
    models = {
        "TF-IDF + LR": make_pipeline(
            TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
            LogisticRegression(max_iter=2000),
        ),
        "from-scratch text branch": make_multimodal_pipeline(
            X,
            y,
            roles={"text": "text"},
            tfidf_features=None,
            char_ngrams=None,
            text_scores=False,
            model_params={"epochs": args.epochs},
            random_state=0,
        ),
        "frozen embeddings + our head": make_pipeline(
            TextEmbedder(
                str(preset), sequence_length=args.sequence_length, cache_dir=work / "cache"
            ),
            MultiInputKerasClassifier(epochs=args.epochs, random_state=0),
        ),
        # The same cached embeddings for a classical model: no backbone pass at all.
        "frozen embeddings + LR": make_pipeline(
            TextEmbedder(
                str(preset), sequence_length=args.sequence_length, cache_dir=work / "cache"
            ),
            StandardScaler(),
            LogisticRegression(max_iter=2000),
        ),
    }
    rows, baseline = [], None
    for name, model in models.items():
        column = X["text"] if name == "TF-IDF + LR" else X
        passes = backbone_texts_seen()
        start = time.perf_counter()
        scores = cross_validate(model, column, y, cv=folds, scoring=scoring)
        seconds = time.perf_counter() - start
        passes = backbone_texts_seen() - passes
        accuracy, auc = scores["test_accuracy"], scores["test_roc_auc"]
        if baseline is None:
            baseline = (accuracy.mean(), auc.mean(), seconds)
        rows.append(
            [
                name,
                f"{accuracy.mean():.4f} ± {accuracy.std():.4f}",
                f"{auc.mean():.4f} ± {auc.std():.4f}",
                f"{auc.mean() / baseline[1]:.3f}",
                f"{seconds:.1f}",
                f"{seconds / baseline[2]:.1f}",
                passes if name.startswith("frozen") else "",
            ]
        )
    body = [
        harness.environment(np, sklearn, keras, keras_hub, shared=True),
        "",
        f"Backbone: BERT, {args.layers} layers, hidden {args.hidden}, 2 heads, intermediate "
        f"{4 * args.hidden}, {args.sequence_length} token ids a text, RANDOM weights (fixed "
        f"seed), whole-word vocabulary of {n_vocabulary} "
        "tokens from the subsample: the scores show the machinery, not the quality of a "
        "pretrained encoder.",
        "",
        f"Cost per 1,000 texts on CPU (TextEmbedder, uncached, tokenization included, best "
        f"of {args.repeats}): {per_thousand:.2f} s.",
        "",
        f"Reviews -> Recommended IND, stratified subsample of {len(X)} rows, the same "
        f"{args.folds} stratified folds (shuffled, seed 0) for every model, networks trained "
        f"{args.epochs} epochs; ratios against TF-IDF + LR measured in the same run.",
        "",
        *harness.table(
            [
                "model",
                "accuracy",
                "ROC AUC",
                "AUC ratio",
                "wall s (all folds)",
                "time ratio",
                "backbone passes",
            ],
            rows,
            "lrrrrrr",
        ),
    ]
    harness.print_lines(body)
    harness.record(args, __file__, argv, "Text backbone: cost and frozen embeddings", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
