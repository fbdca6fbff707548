"""Benchmark TextTokenizer against keras.layers.TextVectorization.

Both learn a vocabulary capped at ``--max-words`` ids (padding and OOV included) from the same
synthetic corpus and turn it into int sequences of the same length: ``fit`` + ``transform``
for ours, ``adapt`` + call for Keras. The corpus has ``--n-samples`` texts of 5-30 words drawn
from a Zipf-distributed vocabulary. Ours uses ``padding="post", truncating="post"`` so that the
outputs can be compared id by id with TextVectorization's (which pads and truncates at the
end). The script prints one line per measurement and appends a section to
``benchmarks/RESULTS.md``.

Usage::

    python benchmarks/bench_text.py --n-samples 100000
"""

import argparse
import os
import time
from collections import Counter
from itertools import chain

import _harness as harness
import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def make_corpus(n_samples, vocabulary_size, zipf_a, random_state):
    """Return ``n_samples`` sentences of 5-30 Zipf-distributed words, capitalized, with commas
    and a full stop (punctuation both tokenizers strip)."""
    rng = np.random.default_rng(random_state)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    words = set()
    while len(words) < vocabulary_size:
        words.add("".join(rng.choice(letters, rng.integers(3, 10))))
    words = np.array(sorted(words), dtype=object)
    rng.shuffle(words)
    probabilities = 1.0 / np.arange(1, vocabulary_size + 1) ** zipf_a
    probabilities /= probabilities.sum()
    lengths = rng.integers(5, 31, n_samples)
    tokens = words[rng.choice(vocabulary_size, size=lengths.sum(), p=probabilities)]
    commas = rng.random(lengths.sum()) < 0.05
    tokens[commas] = tokens[commas] + ","
    ends = np.cumsum(lengths)
    return [
        " ".join(tokens[end - n : end]).capitalize() + "."
        for n, end in zip(lengths, ends, strict=True)
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=100_000)
    parser.add_argument("--vocabulary-size", type=int, default=20_000)
    parser.add_argument("--max-words", type=int, default=10_000)
    parser.add_argument("--zipf-a", type=float, default=1.1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--random-state", type=int, default=0)
    harness.add_results_options(parser)
    args = parser.parse_args(argv)

    import keras
    import tensorflow as tf

    from skmultimodal.text import KERAS_FILTERS, TextTokenizer

    texts = make_corpus(args.n_samples, args.vocabulary_size, args.zipf_a, args.random_state)
    texts_array = np.array(texts)
    n_tokens = sum(len(text.split()) for text in texts)
    print(f"corpus: {len(texts)} texts, {n_tokens} tokens, max_words={args.max_words}")

    def ours_fit_then_transform():
        tokenizer = TextTokenizer(max_words=args.max_words, padding="post", truncating="post")
        start = time.perf_counter()
        tokenizer.fit(texts)
        fitted = time.perf_counter()
        sequences = tokenizer.transform(texts)
        ours_split.append((fitted - start, time.perf_counter() - fitted))
        return tokenizer, sequences

    def ours_fit_transform():
        tokenizer = TextTokenizer(max_words=args.max_words, padding="post", truncating="post")
        return tokenizer.fit_transform(texts)

    ours_split = []
    ours_times, (tokenizer, ours) = harness.time_runs(ours_fit_then_transform, args.repeats)
    ours_ft_times, ours_ft = harness.time_runs(ours_fit_transform, args.repeats)
    max_len = tokenizer.max_len_

    def keras_adapt_then_call():
        layer = keras.layers.TextVectorization(
            max_tokens=args.max_words, output_mode="int", output_sequence_length=max_len
        )
        start = time.perf_counter()
        layer.adapt(texts_array)
        adapted = time.perf_counter()
        sequences = np.asarray(layer(texts_array))
        keras_split.append((adapted - start, time.perf_counter() - adapted))
        return layer, sequences

    keras_split = []
    keras_times, (layer, theirs) = harness.time_runs(keras_adapt_then_call, args.repeats)

    ours_vocabulary = sorted(tokenizer.vocabulary_, key=tokenizer.vocabulary_.get)
    keras_vocabulary = layer.get_vocabulary()[2:]
    # Both rank by descending frequency; ties are broken by first appearance (ours, like the
    # Keras 2 Tokenizer) or by descending string (TextVectorization), so compare the
    # frequency at each rank, and the words themselves where their frequency is unique.
    filters = str.maketrans(KERAS_FILTERS, " " * len(KERAS_FILTERS))
    frequency = Counter(chain.from_iterable(t.lower().translate(filters).split() for t in texts))
    n_ranks = min(len(ours_vocabulary), len(keras_vocabulary))
    ours_freq = np.array([frequency[w] for w in ours_vocabulary[:n_ranks]])
    keras_freq = np.array([frequency[w] for w in keras_vocabulary[:n_ranks]])
    same_word = np.array(ours_vocabulary[:n_ranks]) == np.array(keras_vocabulary[:n_ranks])
    unique_freq = np.isin(ours_freq, [f for f, n in Counter(ours_freq).items() if n == 1])
    agreement = {k: same_word[: min(k, n_ranks)].mean() for k in (10, 100, 1000, n_ranks)}
    same_ids = float(np.mean(ours == theirs)) if ours.shape == theirs.shape else float("nan")

    best_ours, best_keras = min(ours_times), min(keras_times)
    fit_s, transform_s = min(ours_split)
    adapt_s, call_s = min(keras_split)
    rows = [
        ("TextTokenizer fit", fit_s),
        ("TextTokenizer transform", transform_s),
        ("TextTokenizer fit + transform", best_ours),
        ("TextTokenizer fit_transform", min(ours_ft_times)),
        ("TextVectorization adapt", adapt_s),
        ("TextVectorization call", call_s),
        ("TextVectorization adapt + call", best_keras),
    ]
    lines = harness.table(
        ["measurement", "seconds"], [[name, f"{seconds:.3f}"] for name, seconds in rows]
    )
    ratio = best_keras / best_ours
    summary = [
        f"speed-up (TextVectorization adapt + call / TextTokenizer fit + transform): "
        f"{ratio:.2f}x (best of {args.repeats}; all runs ours "
        f"{[round(t, 3) for t in ours_times]}, Keras {[round(t, 3) for t in keras_times]})",
        "vocabulary agreement with TextVectorization: same word at rank (top k) "
        + ", ".join(f"top {k}: {v:.3f}" for k, v in agreement.items())
        + f"; same frequency at rank: {np.mean(ours_freq == keras_freq):.4f} of {n_ranks} ranks"
        + f"; same word where the frequency is unique: {same_word[unique_freq].mean():.4f} "
        f"of {int(unique_freq.sum())} words (the rest differ only in tie order)",
        f"identical output ids: {same_ids:.4f} of {ours.size} entries; "
        f"shapes ours {ours.shape} {ours.dtype}, Keras {theirs.shape} {theirs.dtype}; "
        f"fit_transform == fit + transform: {bool(np.array_equal(ours_ft, ours))}",
    ]
    harness.print_lines(lines, summary)

    harness.record(
        args,
        __file__,
        argv,
        "TextTokenizer vs keras.layers.TextVectorization",
        [
            f"Environment: {harness.environment(np, keras, tf)}, load average at the end "
            f"{os.getloadavg()[0]:.1f}.",
            f"Corpus: {len(texts)} texts of 5-30 words, {n_tokens} tokens, "
            f"Zipf(a={args.zipf_a}) over {args.vocabulary_size} words; max_words = "
            f"max_tokens = {args.max_words}, sequence length {max_len}.",
            "",
            *lines,
            "",
            *harness.bullets(summary),
        ],
    )
    return ratio


if __name__ == "__main__":
    main()
