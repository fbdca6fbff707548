"""Series + text, shaped like the project's origin example: predict a failure from a real
sensor series and an operator's note, on a UCR/UEA data set's official split.

The series are real (default JapaneseVowels: 12 coefficients, 7-29 steps, 9 speakers;
``benchmarks/_ucr.py`` says where the files come from). The notes and the target are made
here, with ``random_state=0``: a row *fails* when its series belongs to the first half of
the classes (a property only the series shows) **and** its note reports a fault (one of
four fault words among filler words; half of the notes do). On 10% of the rows the note's
fault word is left out or added against the rule, so no model can be perfect. Neither
modality alone can exceed about 75%; the label needs both.

Models, each fitted on the TRAIN split and scored (accuracy) on TEST:

- ``stats+LR (series)``: ``bench_series.stats_lr`` (summary statistics + logistic
  regression, C chosen by CV);
- ``TF-IDF+LR (note)``: word TF-IDF + ``LogisticRegressionCV``;
- ``stats+TF-IDF+HGB``: both sets of features side by side (TF-IDF dense) ->
  ``HistGradientBoostingClassifier``, the classical model that can learn the AND;
- ``ours series``, ``ours note``, ``ours fused``: ``make_multimodal_pipeline`` with its
  defaults on the one-column tables and on both columns (the series as a column of
  ``(length, 12)`` arrays).

Example::

    TF_CPP_MIN_LOG_LEVEL=3 python benchmarks/bench_series_text.py [--dataset BasicMotions]
        [--record]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import _harness as harness  # noqa: E402
import _ucr  # noqa: E402
import numpy as np  # noqa: E402
from bench_series import ragged_frame, stats_lr, summary_statistics  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegressionCV  # noqa: E402
from sklearn.metrics import accuracy_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from skmultimodal.auto import make_multimodal_pipeline  # noqa: E402

FAULTS = ("leak", "overheat", "vibration", "noise")
FILLER = (
    "checked pump valve shift night morning operator logged routine inspection line unit "
    "reading normal pressure gauge sensor cleaned filter replaced belt adjusted"
).split()
NOISE = 0.10


def notes_and_failures(labels: np.ndarray, classes: list, rng) -> tuple[list, np.ndarray]:
    """A note per row and the failure label: first half of the classes AND a fault note."""
    group = np.isin(labels, classes[: len(classes) // 2])
    fault = rng.rand(len(labels)) < 0.5
    failure = group & fault
    shown = fault ^ (rng.rand(len(labels)) < NOISE)  # the note misreports 10% of rows
    notes = []
    for has_fault in shown:
        words = list(rng.choice(FILLER, size=rng.randint(4, 9)))
        if has_fault:
            words.insert(rng.randint(len(words) + 1), rng.choice(FAULTS))
        notes.append(" ".join(words))
    return notes, failure.astype(int)


def tables(name: str, source) -> tuple:
    splits = _ucr.load_ucr(name, source)
    classes = sorted(set(splits["TRAIN"].labels))
    rng = np.random.RandomState(0)
    out = {}
    for part in ("TRAIN", "TEST"):
        split = splits[part]
        notes, failure = notes_and_failures(np.asarray(split.labels), classes, rng)
        frame = ragged_frame(split.series).assign(note=notes)
        out[part] = (frame, failure)
    return out


class _Both:
    """Summary statistics of the series next to the note's TF-IDF (dense), for HGB."""

    def __init__(self):
        self.tfidf = TfidfVectorizer()

    def fit(self, frame, y=None):
        self.tfidf.fit(frame["note"])
        return self

    def transform(self, frame):
        stats = summary_statistics(list(frame["series"]))
        return np.hstack([stats, self.tfidf.transform(frame["note"]).toarray()])


def models() -> dict:
    """name -> (fit-and-predict function of (train frame, y, test frame))."""

    def on(columns, build):
        def run(train, y, test):
            model = build(train[columns], y)
            return model.fit(train[columns], y).predict(test[columns])

        return run

    def classical_series(train, y, test):
        return stats_lr(y).fit(list(train["series"]), y).predict(list(test["series"]))

    def classical_note(train, y, test):
        model = make_pipeline(TfidfVectorizer(), LogisticRegressionCV(max_iter=5000))
        return model.fit(train["note"], y).predict(test["note"])

    def classical_both(train, y, test):
        features = _Both().fit(train)
        model = HistGradientBoostingClassifier(random_state=0)
        return model.fit(features.transform(train), y).predict(features.transform(test))

    def ours(X, y):
        return make_multimodal_pipeline(X, y, random_state=0)

    return {
        "stats+LR (series)": classical_series,
        "TF-IDF+LR (note)": classical_note,
        "stats+TF-IDF+HGB": classical_both,
        "ours series": on(["series"], ours),
        "ours note": on(["note"], ours),
        "ours fused": on(["series", "note"], ours),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="JapaneseVowels")
    parser.add_argument("--source", default=None, help="folder or sktime wheel")
    parser.add_argument("--models", default=None, help="comma-separated subset")
    harness.add_results_options(parser)
    args = parser.parse_args(argv)
    data = tables(args.dataset, args.source)
    (train, y_train), (test, y_test) = data["TRAIN"], data["TEST"]
    chosen = models()
    if args.models:
        chosen = {name: chosen[name] for name in args.models.split(",")}
    rows = []
    for name, run in chosen.items():
        start = time.perf_counter()
        with threadpool_limits(1):
            predicted = run(train, y_train, test)
        seconds = time.perf_counter() - start
        rows.append([name, f"{accuracy_score(y_test, predicted):.3f}", f"{seconds:.0f}"])
        print(f"  {name}: {rows[-1][1]} ({rows[-1][2]} s)", flush=True)
    body = [
        f"{args.dataset}: {len(train)} train / {len(test)} test rows, failure rate "
        f"{y_train.mean():.2f} / {y_test.mean():.2f}; a failure is the first half of the "
        f"classes AND a fault note, {NOISE:.0%} of notes misreport.",
        "",
        *harness.table(["model", "test accuracy", "fit + predict s"], rows, "lrr"),
    ]
    print("\n".join(body))
    title = "Series + text: a failure from a sensor series and a note"
    harness.record(args, __file__, argv, title, body)


if __name__ == "__main__":
    main()
