"""Benchmark the overhead of MultiInputKerasClassifier.fit over a hand-written Keras fit.

Ours: ``MultiInputKerasClassifier(...).fit(X, y)`` on a synthetic image + text + tabular dict
(uint8 images, int32 token ids, float32 table). Baseline: the identical functional model built
by hand with ``skmultimodal.architecture.build_multi_input_model`` (the same builder a user can
call), ``model.compile(optimizer="adam", loss="binary_crossentropy")`` and
``model.fit(X, y, epochs=..., batch_size=...)``. Both sides build, compile and trace a fresh
model inside the timed region. Runs are interleaved (ours and baseline once per round, in a
random order) and the table shows median wall and process CPU time.

The script also checks that the arrays reaching ``keras.Model.fit`` are the caller's arrays
(no copy, same dtype), splits one fit into its parts (validation, model build, Model.fit,
the rest) and prints a cProfile of the wrapper's own functions (everything outside
``keras.Model.fit`` and the model build). Appends a section to ``benchmarks/RESULTS.md``.

With ``--by-cause`` it measures instead the overhead of a seeded fit and of a one-row
predict, split by cause: ``MultiInputKerasClassifier(random_state=0).fit`` against a bare
``Model.fit`` of a fresh ``keras.models.clone_model`` of the same fitted model, compiled
from its compile config and given the very arrays Keras got from us; the same bare fit
inside our seeding context with and without op determinism (the price of
``random_state``); our fit with ``random_state=None``; the wrapper's parts (validation,
build + compile, ``Model.fit``, the rest); and ``predict`` on one row against
``model.predict_on_batch`` on one row and on the two rows we pad it to, with the
validation, parameter routing and target decoding timed apart. Interleaved, best of
``--repeats`` (2 by default in this mode).

Usage::

    python benchmarks/bench_wrapper.py --n-samples 2000 --epochs 3
    python benchmarks/bench_wrapper.py --by-cause --n-samples 2000 --epochs 5
"""

import argparse
import cProfile
import io
import os
import pstats
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import _harness as harness  # noqa: E402
import numpy as np  # noqa: E402
from _data import add_data_options, make_data_from  # noqa: E402

MODEL_PARAMS = dict(
    image_filters=(8, 16),
    text_embedding_dim=16,
    text_units=16,
    text_bidirectional=False,
    sequence_units=8,
    tabular_units=8,
    head_units=(16,),
    dropout=0.0,
    recurrent_dropout=0.0,
    batch_norm=False,
)


class FitSpy:
    """Wrap ``keras.Model.fit`` to time it and to keep what it was given."""

    def __init__(self, keras):
        self.model_class = keras.Model
        self.original = keras.Model.fit
        self.seconds = 0.0
        self.x = None
        self.y = None

    def __enter__(self):
        spy = self

        def fit(model, x=None, y=None, **kwargs):
            spy.x, spy.y, spy.kwargs = x, y, kwargs
            start = time.perf_counter()
            try:
                return spy.original(model, x, y, **kwargs)
            finally:
                spy.seconds += time.perf_counter() - start

        self.model_class.fit = fit
        return self

    def __exit__(self, *exc):
        self.model_class.fit = self.original


def best_of(times):
    return {name: min(wall) for name, (wall, _) in times.items()}


def by_cause(args):
    """Seeded fit and one-row predict overhead, split by cause (see the module docstring)."""
    import keras
    import tensorflow as tf

    from skmultimodal._seeding import tensorflow_seed
    from skmultimodal.estimators import MultiInputKerasClassifier

    load_before = os.getloadavg()
    X, y = make_data_from(args)
    fit_params = dict(MODEL_PARAMS, epochs=args.epochs, batch_size=args.batch_size)

    def ours(random_state=0, early_stopping="auto"):
        return MultiInputKerasClassifier(
            **fit_params, random_state=random_state, early_stopping=early_stopping
        ).fit(X, y)

    # Warm-up, and what Keras gets from us: the arrays, the compile config, the model;
    # with the default early_stopping="auto" (2,000 rows >= 500: a stratified 10% hold-out
    # and an EarlyStopping callback) and without.
    with FitSpy(keras) as spy:
        template = ours(early_stopping=False)
    keras_x, keras_y = spy.x, spy.y
    with FitSpy(keras) as spy:
        ours()
    held_out_x, held_out_y = spy.x, spy.y
    validation_data = spy.kwargs["validation_data"]
    stopping = [c for c in spy.kwargs.get("callbacks") or [] if type(c).__name__ == "EarlyStopping"]
    patience = stopping[0].patience if stopping else template.patience
    compile_config = template.model_.get_compile_config()

    def bare(seed=None, deterministic_ops=True, hold_out=False):
        model = keras.models.clone_model(template.model_)
        model.compile_from_config(compile_config)
        fit_args = dict(epochs=args.epochs, batch_size=args.batch_size, verbose=0)
        x, y_ = keras_x, keras_y
        if hold_out:
            x, y_ = held_out_x, held_out_y
            fit_args["validation_data"] = validation_data
            fit_args["callbacks"] = [
                keras.callbacks.EarlyStopping(
                    monitor="val_loss", patience=patience, restore_best_weights=True
                )
            ]
        if seed is None:
            model.fit(x, y_, **fit_args)
        else:
            with tensorflow_seed(seed, deterministic_ops=deterministic_ops):
                model.fit(x, y_, **fit_args)
        return model

    bare()
    bare(hold_out=True)
    fit_methods = {
        "ours, random_state=0 (defaults: early_stopping='auto')": ours,
        "ours, random_state=0, early_stopping=False": lambda: ours(0, False),
        "ours, random_state=None, early_stopping=False": lambda: ours(None, False),
        "bare clone + Model.fit (no seed)": bare,
        "bare, inside tensorflow_seed(0) (seeds + op determinism)": lambda: bare(0),
        "bare, inside tensorflow_seed(0, deterministic_ops=False)": lambda: bare(0, False),
        "bare + our 10% hold-out + EarlyStopping (no seed)": lambda: bare(hold_out=True),
        "bare + hold-out + EarlyStopping, inside tensorflow_seed(0)": lambda: bare(0, True, True),
    }
    fit_best = best_of(harness.interleaved(fit_methods, args.repeats, args.random_state))

    # One seeded fit of ours split into parts.
    parts = {}

    def timed(owner, name, label):
        original = owner.__dict__.get(name)
        inherited = getattr(owner, name)

        def wrapper(*a, **k):
            start = time.perf_counter()
            try:
                return inherited(*a, **k)
            finally:
                parts[label] = parts.get(label, 0.0) + time.perf_counter() - start

        setattr(owner, name, wrapper)
        return original

    cls = MultiInputKerasClassifier
    originals = {
        "_validate_data": timed(cls, "_validate_data", "validation (X and y)"),
        "_build_keras_model": timed(cls, "_build_keras_model", "build + compile"),
    }
    try:
        with FitSpy(keras) as spy:
            start = time.perf_counter()
            clf = ours()
            total = time.perf_counter() - start
    finally:
        for name, original in originals.items():
            if original is None:
                delattr(cls, name)  # inherited: remove the wrapper, do not pin the method
            else:
                setattr(cls, name, original)
    parts["keras Model.fit (inside our seeding context)"] = spy.seconds
    parts["rest (seeding context, target encoding, SciKeras glue)"] = total - sum(parts.values())

    # One-row predict.
    one = {key: value[:1] for key, value in X.items()}
    two = {key: value[[0, 0]] for key, value in X.items()}
    model = clf.model_
    predict_methods = {
        "ours: predict (1 row)": lambda: clf.predict(one),
        "model.predict_on_batch (1 row)": lambda: model.predict_on_batch(one),
        "model.predict_on_batch (the 2 padded rows)": lambda: model.predict_on_batch(two),
        "ours: _validate_data (1 row)": lambda: clf._validate_data(X=one, y=None),
        "ours: get_params + routing": lambda: clf.get_params(),
        "ours: predict_proba (1 row)": lambda: clf.predict_proba(one),
    }
    for function in predict_methods.values():
        function()
    predict_times = harness.interleaved(predict_methods, 50, random_state=args.random_state)
    predict_best = {name: min(wall) for name, (wall, _) in predict_times.items()}
    predict_median = {name: statistics.median(wall) for name, (wall, _) in predict_times.items()}
    same = np.array_equal(ours().predict_proba(X), clf.predict_proba(X))
    load_after = os.getloadavg()

    base = fit_best["bare clone + Model.fit (no seed)"]
    fit_table = harness.table(
        ["fit (best of interleaved rounds)", "wall s", "vs bare clone fit"],
        [[name, f"{s_:.2f}", f"{s_ / base:.3f}x"] for name, s_ in fit_best.items()],
        "lrr",
    )
    part_table = harness.table(
        ["one seeded fit of ours, by part", "s", "share"],
        [[name, f"{s_:.3f}", f"{s_ / total:.1%}"] for name, s_ in parts.items()]
        + [["total", f"{total:.3f}", "100%"]],
        "lrr",
    )
    one_row = predict_best["model.predict_on_batch (1 row)"]
    predict_table = harness.table(
        ["1-row predict (50 interleaved calls)", "best ms", "median ms", "best vs 1-row batch"],
        [
            [
                name,
                f"{1e3 * predict_best[name]:.2f}",
                f"{1e3 * predict_median[name]:.2f}",
                f"{predict_best[name] / one_row:.2f}x",
            ]
            for name in predict_methods
        ],
        "lrrr",
    )
    summary = [
        f"{args.n_samples} rows, {args.epochs} epochs, batch {args.batch_size}, image "
        f"{args.image_size}x{args.image_size} + text + table, model as in the default mode; "
        f"best of {args.repeats} interleaved rounds",
        "goals: seeded fit <= 1.10x the bare clone fit, 1-row predict <= 2x predict_on_batch",
        "same work, same seeding: ours (defaults) / bare + hold-out + EarlyStopping in "
        "tensorflow_seed(0): "
        f"{fit_best[next(iter(fit_best))] / fit_best[list(fit_best)[-1]]:.3f}x; "
        "ours early_stopping=False / bare in tensorflow_seed(0): "
        f"{fit_best[list(fit_best)[1]] / fit_best[list(fit_best)[4]]:.3f}x",
        "price of random_state (op determinism + seeds) on the bare fit: "
        f"{fit_best['bare, inside tensorflow_seed(0) (seeds + op determinism)'] / base:.3f}x; "
        "seeds alone: "
        f"{fit_best['bare, inside tensorflow_seed(0, deterministic_ops=False)'] / base:.3f}x",
        f"two seeded fits give bit-identical predict_proba on all rows: {same}",
        f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (2 shared cores)",
    ]
    harness.print_lines(fit_table, part_table, predict_table, summary)
    harness.record(
        args,
        __file__,
        None,
        "Wrapper overhead by cause: seeded fit and 1-row predict (bench_wrapper.py --by-cause)",
        [
            f"Environment: {harness.environment(np, keras, tf)}.",
            "",
            *fit_table,
            "",
            *part_table,
            "",
            *predict_table,
            "",
            *harness.bullets(summary),
        ],
    )
    return fit_best[next(iter(fit_best))] / base


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_options(parser, n_samples=2000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=None, help="interleaved rounds")
    parser.add_argument("--random-state", type=int, default=0, help="data and run order")
    parser.add_argument("--by-cause", action="store_true", help="seeded fit/predict split")
    harness.add_results_options(parser)
    args = parser.parse_args(argv)
    if args.by_cause:
        args.repeats = args.repeats or 2
        return by_cause(args)
    args.repeats = args.repeats or 5

    import keras
    import tensorflow as tf

    from skmultimodal import estimators
    from skmultimodal.architecture import InputSpec, build_multi_input_model
    from skmultimodal.estimators import MultiInputKerasClassifier

    load_before = os.getloadavg()
    X, y = make_data_from(args)
    specs = {
        "image": InputSpec(X["image"].shape[1:], "uint8", "image"),
        "text": InputSpec(X["text"].shape[1:], "int32", "tokens", int(X["text"].max()) + 1),
        "table": InputSpec(X["table"].shape[1:], "float32", "tabular"),
    }

    def ours():
        return MultiInputKerasClassifier(
            **MODEL_PARAMS, epochs=args.epochs, batch_size=args.batch_size
        ).fit(X, y)

    # The same model as ours: every architecture parameter as the estimator resolves it
    # (its defaults included, e.g. the classifier's branch_norm="batch").
    reference = MultiInputKerasClassifier(**MODEL_PARAMS)
    build_params = {name: getattr(reference, name) for name in reference._model_param_names}

    def baseline():
        model = build_multi_input_model(specs, 1, "sigmoid", build_params)
        model.compile(optimizer="adam", loss="binary_crossentropy")
        model.fit(X, y, epochs=args.epochs, batch_size=args.batch_size, verbose=0)
        return model

    # Warm-up: the first fit in a process pays TensorFlow's one-off start-up.
    clf = ours()
    hand = baseline()
    same_layers = [type(layer).__name__ for layer in clf.model_.layers] == [
        type(layer).__name__ for layer in hand.layers
    ]
    same_compile = (
        clf.model_.get_compile_config()["loss"] == hand.get_compile_config()["loss"]
        and type(clf.model_.optimizer) is type(hand.optimizer)
        and clf.model_.optimizer.get_config()["learning_rate"]
        == hand.optimizer.get_config()["learning_rate"]
    )
    same_params = clf.model_.count_params() == hand.count_params()

    methods = {"MultiInputKerasClassifier.fit": ours, "build + compile + model.fit": baseline}
    times = harness.interleaved(methods, args.repeats, random_state=args.random_state)

    # One more fit of ours, split into its parts, and the arrays that reach Model.fit.
    build_seconds = []
    original_build = estimators.MultiInputKerasClassifier._build_keras_model

    def timed_build(self):
        start = time.perf_counter()
        try:
            return original_build(self)
        finally:
            build_seconds.append(time.perf_counter() - start)

    estimators.MultiInputKerasClassifier._build_keras_model = timed_build
    try:
        with FitSpy(keras) as spy:
            start = time.perf_counter()
            ours()
            total = time.perf_counter() - start
    finally:
        estimators.MultiInputKerasClassifier._build_keras_model = original_build
    shared = {key: bool(np.shares_memory(spy.x[key], X[key])) for key in X}
    dtypes = {key: str(spy.x[key].dtype) for key in X}
    y_seen = f"{spy.y.dtype} {spy.y.shape}"

    # The wrapper's own code: profile one fit and report functions outside Keras.
    profiler = cProfile.Profile()
    profiler.enable()
    ours()
    profiler.disable()
    stats = pstats.Stats(profiler)
    watched = {
        "fit (MultiInputKerasClassifier)": ("_scikeras_adapter.py", "fit"),
        "_validate_data (X and y)": ("_validation.py", "_validate_data"),
        "_validate_input_array": ("_validation.py", "_validate_input_array"),
        "_first_non_finite_row": ("_validation.py", "_first_non_finite_row"),
        "_record_inputs (token min/max)": ("_validation.py", "_record_inputs"),
        "_validate_target (SciKeras + type_of_target)": ("estimators.py", "_validate_target"),
        "ClassifierLabelEncoder.fit": ("transformers.py", "fit"),
        "target_encoder_.transform": ("_set_output.py", "wrapped"),
        "_build_keras_model (build + compile)": ("_building.py", "_build_keras_model"),
        "tensorflow_seed": ("_seeding.py", "tensorflow_seed"),
        "BaseEstimator.get_params": ("base.py", "get_params"),
        "keras Model.fit": ("trainer.py", "fit"),
    }
    profile_rows = []
    for label, (file_suffix, function) in watched.items():
        best = None
        for (filename, _, name), (_, calls, _, cumulative, _) in stats.stats.items():
            if name == function and filename.endswith(file_suffix):
                if best is None or cumulative > best[1]:
                    best = (calls, cumulative)
        if best is not None:
            profile_rows.append((label, best[0], 1e3 * best[1]))
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).sort_stats("cumulative").print_stats(
        r"skmultimodal|scikeras|sklearn", 15
    )
    load_after = os.getloadavg()

    baseline_name = "build + compile + model.fit"
    base_wall = statistics.median(times[baseline_name][0])
    base_cpu = statistics.median(times[baseline_name][1])
    method_table = harness.table(
        [
            "method",
            "median wall s",
            "min wall s",
            "median CPU s",
            "wall vs baseline",
            "CPU vs baseline",
        ],
        [
            [
                name,
                f"{statistics.median(wall):.3f}",
                f"{min(wall):.3f}",
                f"{statistics.median(cpu):.3f}",
                f"{statistics.median(wall) / base_wall:.3f}x",
                f"{statistics.median(cpu) / base_cpu:.3f}x",
            ]
            for name, (wall, cpu) in times.items()
        ],
        "lrrrrr",
    )
    ours_wall = statistics.median(times["MultiInputKerasClassifier.fit"][0])
    outside = total - spy.seconds - sum(build_seconds)
    summary = [
        f"ratio ours / baseline: {ours_wall / base_wall:.3f}x wall, "
        f"{statistics.median(times['MultiInputKerasClassifier.fit'][1]) / base_cpu:.3f}x CPU "
        f"(goal <= 1.10x); medians of {args.repeats} interleaved rounds after one warm-up fit "
        "each; all runs ours "
        f"{[round(t, 2) for t in times['MultiInputKerasClassifier.fit'][0]]}, baseline "
        f"{[round(t, 2) for t in times[baseline_name][0]]}",
        f"same model: layer types {same_layers}, parameter count {same_params}, loss and "
        f"optimizer {same_compile}",
        f"one fit of ours split up: total {total:.3f} s = keras Model.fit {spy.seconds:.3f} s "
        f"+ build and compile {sum(build_seconds):.3f} s + wrapper rest {outside * 1e3:.1f} ms",
        f"arrays reaching Model.fit share memory with the caller's: {shared}; dtypes {dtypes}; "
        f"y given to Keras: {y_seen} (SciKeras' ordinal target encoding)",
        f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (2 shared cores)",
    ]
    profile_table = harness.table(
        ["function (cProfile of one fit)", "calls", "cumulative ms"],
        [[label, calls, f"{ms:.1f}"] for label, calls, ms in profile_rows],
        "lrr",
    )
    harness.print_lines(method_table, summary, profile_table)
    print(stream.getvalue())

    harness.record(
        args,
        __file__,
        argv,
        "Wrapper overhead: MultiInputKerasClassifier.fit vs a hand-written Keras fit",
        [
            f"Environment: {harness.environment(np, keras, tf)}. Data: {args.n_samples} "
            f"rows, dict of uint8 images {args.image_size}x{args.image_size}x3, int32 ids "
            f"(length {args.text_length}), float32 table ({args.n_tabular} columns); "
            f"{args.epochs} epochs, batch size {args.batch_size}; model image_filters=(8, 16), "
            "Embedding(16)+LSTM(16), Dense(8), head (16,). Baseline: "
            "`build_multi_input_model` + `compile(optimizer='adam', "
            "loss='binary_crossentropy')` + `model.fit`, a fresh model each run.",
            "",
            *method_table,
            "",
            *harness.bullets(summary),
            "",
            *profile_table,
        ],
    )
    return ours_wall / base_wall


if __name__ == "__main__":
    main()
