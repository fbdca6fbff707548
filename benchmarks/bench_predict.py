"""Benchmark small- and large-batch prediction of MultiInputKerasClassifier.

A classifier is fitted on a synthetic image + text + tabular dict (uint8 images, int32 token
ids, float32 table). Its ``predict_proba`` is then timed on 1 row, 32 rows and a large batch
against the same fitted Keras model (``clf.model_``) called three ways by hand:

- ``model.predict`` (what SciKeras calls, and what a Keras user writes);
- ``model.predict_on_batch`` (the compiled predict step, no per-call setup);
- a cached ``tf.function`` around ``model(x, training=False)`` (reduce_retracing).

Small batches are timed interleaved (one call of each method per round, many rounds, after a
warm-up), so that load from other processes on the shared machine hits every method alike;
the table shows medians of wall time and of process CPU time. The large batch is timed best of
``--large-repeats``. Outputs are compared with ``model.predict`` (max absolute difference).
Appends a section to ``benchmarks/RESULTS.md``.

Usage::

    python benchmarks/bench_predict.py --image-size 32 --large-rows 10000
"""

import argparse
import os
import statistics

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import _harness as harness  # noqa: E402
import numpy as np  # noqa: E402
from _data import add_data_options, make_data_from  # noqa: E402


def rows(X, start, stop):
    return {key: array[start:stop] for key, array in X.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_options(parser, n_samples=512, help="training rows")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=300, help="rounds for 1 and 32 rows")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--large-rows", type=int, default=10_000)
    parser.add_argument("--large-repeats", type=int, default=5)
    parser.add_argument("--random-state", type=int, default=0)
    harness.add_results_options(parser)
    args = parser.parse_args(argv)

    import keras
    import tensorflow as tf

    from skmultimodal.estimators import MultiInputKerasClassifier

    load_before = os.getloadavg()
    X, y = make_data_from(args, max(args.n_samples, args.large_rows))
    X_train, y_train = rows(X, 0, args.n_samples), y[: args.n_samples]
    clf = MultiInputKerasClassifier(
        image_filters=(8, 16),
        text_embedding_dim=16,
        text_units=16,
        tabular_units=8,
        head_units=(16,),
        epochs=args.epochs,
        random_state=args.random_state,
    ).fit(X_train, y_train)
    model = clf.model_
    compiled = tf.function(lambda x: model(x, training=False), reduce_retracing=True)

    def as_tensors(batch):
        # What a serving loop would hold: the inputs already in the model's dtypes.
        return {key: tf.convert_to_tensor(value) for key, value in batch.items()}

    print(f"load average before: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}")
    results = []  # (rows, method, wall median ms, cpu median ms)
    max_diff = {}
    for n_rows in (1, 32):
        batch = rows(X, 0, n_rows)
        methods = {
            "clf.predict_proba": lambda b=batch: clf.predict_proba(b),
            "clf.predict": lambda b=batch: clf.predict(b),
            "model.predict": lambda b=batch: model.predict(b, verbose=0),
            "model.predict_on_batch": lambda b=batch: model.predict_on_batch(b),
            "tf.function(model)": lambda b=batch: compiled(b).numpy(),
        }
        times = harness.interleaved(methods, args.repeats, args.warmup)
        for name, (wall, cpu) in times.items():
            results.append(
                (n_rows, name, 1e3 * statistics.median(wall), 1e3 * statistics.median(cpu))
            )
        reference = model.predict(batch, verbose=0)[:, -1]
        max_diff[(n_rows, "clf.predict_proba")] = np.abs(
            clf.predict_proba(batch)[:, 1] - reference
        ).max()
        max_diff[(n_rows, "model.predict_on_batch")] = np.abs(
            np.asarray(model.predict_on_batch(batch))[:, -1] - reference
        ).max()
        max_diff[(n_rows, "tf.function(model)")] = np.abs(
            compiled(as_tensors(batch)).numpy()[:, -1] - reference
        ).max()

    large = rows(X, 0, args.large_rows)
    large_methods = {
        "clf.predict_proba": lambda: clf.predict_proba(large),
        "model.predict": lambda: model.predict(large, verbose=0),
    }
    large_times = harness.interleaved(large_methods, args.large_repeats, warmup=1)
    for name, (wall, cpu) in large_times.items():
        results.append((args.large_rows, name, 1e3 * min(wall), 1e3 * min(cpu)))
    reference = model.predict(large, verbose=0)[:, -1]
    max_diff[(args.large_rows, "clf.predict_proba")] = np.abs(
        clf.predict_proba(large)[:, 1] - reference
    ).max()
    load_after = os.getloadavg()

    baselines = {1: "model.predict_on_batch", 32: "model.predict_on_batch"}
    baselines[args.large_rows] = "model.predict"
    wall_of = {(n, name): wall for n, name, wall, _ in results}
    cpu_of = {(n, name): cpu for n, name, _, cpu in results}
    lines = []
    for n_rows, name, wall, cpu in results:
        compiled_wall = wall_of.get((n_rows, "model.predict_on_batch"))
        vs_compiled = f"{wall / compiled_wall:.2f}x" if compiled_wall else "-"
        diff = max_diff.get((n_rows, name))
        diff_text = (
            "0 (reference)"
            if name == "model.predict"
            else (f"{diff:.1e}" if diff is not None else "-")
        )
        lines.append(
            [
                n_rows,
                name,
                f"{wall:.2f}",
                f"{cpu:.2f}",
                f"{wall / wall_of[(n_rows, 'model.predict')]:.2f}x",
                vs_compiled,
                diff_text,
            ]
        )
    latency_table = harness.table(
        [
            "rows",
            "method",
            "wall ms",
            "CPU ms",
            "wall vs model.predict",
            "wall vs compiled call",
            "max abs diff vs model.predict",
        ],
        lines,
        "rlrrrrr",
    )
    one = wall_of[(1, "clf.predict_proba")] / wall_of[(1, "model.predict_on_batch")]
    one_tf = wall_of[(1, "clf.predict_proba")] / wall_of[(1, "tf.function(model)")]
    big = (
        wall_of[(args.large_rows, "clf.predict_proba")]
        / wall_of[(args.large_rows, "model.predict")]
    )
    big_cpu = (
        cpu_of[(args.large_rows, "clf.predict_proba")] / cpu_of[(args.large_rows, "model.predict")]
    )
    summary = [
        f"1-row predict_proba / model.predict_on_batch: {one:.2f}x wall (goal <= 2x); "
        f"/ cached tf.function: {one_tf:.2f}x",
        f"{args.large_rows}-row predict_proba / model.predict: {big:.2f}x wall, "
        f"{big_cpu:.2f}x CPU (goal <= 1x, i.e. no slower)",
        f"medians of {args.repeats} interleaved rounds after {args.warmup} warm-up rounds for 1 "
        f"and 32 rows; best of {args.large_repeats} for {args.large_rows} rows; CPU = process "
        "CPU time (all threads)",
        f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (2 shared cores)",
    ]
    harness.print_lines(latency_table, summary)
    for (n_rows, name), diff in max_diff.items():
        print(f"max abs diff vs model.predict, {n_rows} rows, {name}: {diff:.3g}")

    harness.record(
        args,
        __file__,
        argv,
        "Prediction latency: MultiInputKerasClassifier vs the Keras model",
        [
            f"Environment: {harness.environment(np, keras, tf)}. Data: dict of uint8 images "
            f"{args.image_size}x{args.image_size}x3, int32 ids (length {args.text_length}, "
            f"vocabulary {args.vocabulary}), float32 table ({args.n_tabular} columns); "
            "model image_filters=(8, 16), text Embedding(16)+LSTM(16), tabular Dense(8), "
            f"head (16,); fitted on {args.n_samples} rows, {args.epochs} epoch(s).",
            "",
            *latency_table,
            "",
            *harness.bullets(summary),
        ],
    )
    return one, big


if __name__ == "__main__":
    main()
