"""Cost of MultimodalEnsembleClassifier against one fused network at the same epochs.

On ``make_multimodal_classification`` (``--n-samples`` rows: image, text, time steps,
category), fits, interleaved over ``--repeats`` rounds:

- the baseline: ``make_multimodal_pipeline(X, y)`` with ``--epochs`` epochs (one fused
  network on every row);
- the ensemble with its default members (the fused network bagged over 3 folds plus the
  classical members), the networks with the same parameters;
- with ``--modality-networks``, the ensemble with one network per modality as well.

Prints the best wall time of each fit and its ratio to the baseline, and the latency of
``predict_proba`` on one row and on 256 rows (best of 20 calls), with the ratio to the
baseline pipeline's. ``--n-jobs`` fits the ensemble's member folds in parallel.

Run: python benchmarks/bench_ensemble.py --n-samples 600 --epochs 10 --repeats 2
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import _harness as harness  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=600)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--n-jobs", type=int, default=None)
    parser.add_argument("--modality-networks", action="store_true")
    parser.add_argument("--record", action="store_true", help="append the table to RESULTS.md")
    args = parser.parse_args(argv)

    import numpy as np

    from skmultimodal.auto import make_multimodal_pipeline
    from skmultimodal.datasets import make_multimodal_classification
    from skmultimodal.ensemble import MultimodalEnsembleClassifier

    folder = Path(tempfile.mkdtemp(prefix="bench_ensemble_"))
    X, y = make_multimodal_classification(args.n_samples, image_dir=folder, random_state=0)
    params = {"epochs": args.epochs}

    def ensemble(members):
        return MultimodalEnsembleClassifier(
            members=members, model_params=params, n_jobs=args.n_jobs, random_state=0
        )

    factories = {
        "fused network (make_multimodal_pipeline)": lambda: make_multimodal_pipeline(
            X, y, model_params=params, random_state=0
        ),
        "ensemble, default members": lambda: ensemble(("network", "classical")),
    }
    if args.modality_networks:
        factories["ensemble + one network per modality"] = lambda: ensemble(
            ("network", "modality_networks", "classical")
        )
    fitted = {}

    def fit(name):
        def run():
            fitted[name] = factories[name]().fit(X, y)

        return run

    times = harness.interleaved({name: fit(name) for name in factories}, args.repeats)
    wall = {name: min(times[name][0]) for name in factories}

    def latency(model, rows):
        batch = X.head(rows)
        model.predict_proba(batch)  # warm-up
        best = float("inf")
        for _ in range(20):
            start = time.perf_counter()
            model.predict_proba(batch)
            best = min(best, time.perf_counter() - start)
        return best

    baseline = next(iter(factories))
    one = {name: latency(model, 1) for name, model in fitted.items()}
    many = {name: latency(model, 256) for name, model in fitted.items()}
    rows = [
        [
            name,
            f"{wall[name]:.1f}",
            f"{wall[name] / wall[baseline]:.2f}x",
            f"{one[name] * 1000:.1f} ms ({one[name] / one[baseline]:.1f}x)",
            f"{many[name] * 1000:.0f} ms ({many[name] / many[baseline]:.1f}x)",
            ", ".join(f"{k} {v:.2f}" for k, v in getattr(fitted[name], "weights_", {}).items())
            or "-",
        ]
        for name in factories
    ]
    lines = harness.table(
        ["model", "fit s (best)", "fit vs fused", "predict 1 row", "predict 256 rows", "weights"],
        rows,
    )
    notes = [
        f"{args.n_samples} rows of make_multimodal_classification, {args.epochs} epochs for "
        f"every network, best of {args.repeats} interleaved fits, n_jobs={args.n_jobs}; "
        f"{harness.environment(np, shared=True)}."
    ]
    harness.print_lines(notes, lines)
    if args.record:
        harness.append_section(
            harness.RESULTS,
            "Ensemble cost (bench_ensemble.py)",
            harness.command_line(__file__, argv, env="TF_CPP_MIN_LOG_LEVEL=3"),
            [*harness.bullets(notes), "", *lines],
        )


if __name__ == "__main__":
    main()
