"""How far a row's prediction moves with the other rows of the call (float32 kernels).

scikit-learn's ``check_methods_sample_order_invariance`` compares ``predict(X)[idx]`` with
``predict(X[idx])`` at ``rtol=1e-7, atol=1e-9`` and ``check_methods_subset_invariance``
compares the whole batch with one-row calls at ``rtol=1e-7, atol=1e-7``. A Keras model in
float32 computes a row with kernels (matrix products, vectorised ``exp``/``tanh``) whose
order of operations depends on the batch's shape and on where the row sits in it, so both
differences are a few units in the last place, not zero.

This script fits each estimator on the checks' own data (``3 * uniform(20, 3)``, the
check's labels) and measures, over ``--repeats`` random permutations and over one-row calls:

- the largest absolute and relative difference, and the share of calls that differ at all;
- the share of calls that the two checks' tolerances would reject;
- the same for two fixed row layouts of the compiled predict step, to see whether a layout
  makes the difference vanish: every call padded to 32 rows, and one row placed at every
  position of a fixed 32-row batch of other rows.

Usage::

    python benchmarks/bench_invariance.py --repeats 200
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import _harness as harness  # noqa: E402
import numpy as np  # noqa: E402

from skmultimodal.estimators import (  # noqa: E402
    MultiInputKerasClassifier,
    MultiInputKerasRegressor,
)


def check_data():
    """The data of scikit-learn's invariance checks."""
    X = 3 * np.random.RandomState(0).uniform(size=(20, 3))
    return X, X[:, 0].astype(np.int64)


def outputs(estimator):
    return estimator.predict_proba if hasattr(estimator, "predict_proba") else estimator.predict


def differences(reference, other):
    reference, other = np.ravel(reference), np.ravel(other)
    absolute = np.abs(reference - other)
    relative = absolute / np.maximum(np.abs(reference), np.finfo(np.float32).tiny)
    return absolute.max(), relative.max(), bool((absolute > 0).any())


def fails(reference, other, rtol, atol):
    return not np.allclose(other, reference, rtol=rtol, atol=atol)


def measure_permutations(estimator, X, repeats, rng):
    predict = outputs(estimator)
    full = predict(X)
    worst_abs = worst_rel = 0.0
    n_differ = n_rejected = 0
    for _ in range(repeats):
        idx = rng.permutation(len(X))
        absolute, relative, differ = differences(full[idx], predict(X[idx]))
        worst_abs, worst_rel = max(worst_abs, absolute), max(worst_rel, relative)
        n_differ += differ
        n_rejected += fails(full[idx], predict(X[idx]), rtol=1e-7, atol=1e-9)
    return worst_abs, worst_rel, n_differ / repeats, n_rejected / repeats


def measure_one_row_calls(estimator, X):
    predict = outputs(estimator)
    full = predict(X)
    by_row = np.concatenate([predict(X[i : i + 1]) for i in range(len(X))])
    absolute, relative, differ = differences(full, by_row)
    return absolute, relative, differ, fails(full, by_row, rtol=1e-7, atol=1e-7)


def measure_fixed_layouts(estimator, X, rng, batch=32):
    """Distinct outputs of row 0 (a) padded to ``batch`` rows at its own position, among
    permutations, and (b) placed at every position of a fixed batch of other rows."""
    model = estimator.model_
    X32 = X.astype(np.float32)
    padded = set()
    for _ in range(50):
        idx = rng.permutation(len(X))
        rows = np.concatenate([idx, np.full(batch - len(idx), idx[-1])])
        position = int(np.flatnonzero(idx == 0)[0])
        padded.add(np.asarray(model.predict_on_batch(X32[rows]))[position].tobytes())
    others = X32[rng.randint(0, len(X), batch)]
    positions = set()
    for position in range(batch):
        rows = others.copy()
        rows[position] = X32[0]
        positions.add(np.asarray(model.predict_on_batch(rows))[position].tobytes())
    return len(padded), len(positions)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args(argv)
    X, y = check_data()
    header = [
        "estimator",
        "permutations: max abs / max rel diff",
        "share differing",
        "share rejected (rtol 1e-7, atol 1e-9)",
        "one-row calls: max abs / max rel",
        "rejected (rtol 1e-7, atol 1e-7)",
        "distinct outputs of one row: padded to 32 / over 32 positions",
    ]
    harness.print_lines(harness.table(header, []))
    for estimator in (
        MultiInputKerasClassifier(random_state=1),
        MultiInputKerasRegressor(random_state=1),
    ):
        estimator.fit(X, y)
        rng = np.random.RandomState(0)
        p_abs, p_rel, p_differ, p_rejected = measure_permutations(estimator, X, args.repeats, rng)
        r_abs, r_rel, _, r_rejected = measure_one_row_calls(estimator, X)
        padded, positions = measure_fixed_layouts(estimator, X, rng)
        print(
            f"| {type(estimator).__name__} | {p_abs:.2e} / {p_rel:.2e} | {p_differ:.2f} | "
            f"{p_rejected:.2f} | {r_abs:.2e} / {r_rel:.2e} | {'yes' if r_rejected else 'no'} | "
            f"{padded} / {positions} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
