"""Benchmark ImageLoader's on-disk decode cache (``cache_dir``) in a GridSearchCV.

A 4-candidate x 5-fold ``GridSearchCV(n_jobs=1)`` over model parameters (``dropout`` x
``head_units``) of an image-only ``MultiInputKerasClassifier`` (one 4-filter convolution,
1 epoch: tiny, so that decoding is a visible share) on ``--n-samples`` PNG images of the
built-in data set (``make_multimodal_classification``, written at ``--source-size``) loaded
at ``--target-size``. Without the cache every fold decodes every image again (20 fits x
(train + test) + the refit); with ``ImageLoader(cache_dir=...)`` each image is decoded once
in the whole search. Three runs: no cache, cache starting empty ("cold": its decodes are
counted), and the same search again on the filled cache ("warm"). Counts the images decoded
(``skmultimodal._image_cache.DECODES``), checks that every run finds the same
``cv_results_`` scores, and appends a section to ``benchmarks/RESULTS.md``.

Usage::

    python benchmarks/bench_cache.py --n-samples 2000
"""

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import _harness as harness  # noqa: E402
import numpy as np  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=2000)
    parser.add_argument("--source-size", type=int, default=256)
    parser.add_argument("--target-size", type=int, default=64)
    parser.add_argument("--cv", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--random-state", type=int, default=0)
    harness.add_results_options(parser)
    args = parser.parse_args(argv)

    import keras
    import sklearn
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import Pipeline

    from skmultimodal import ImageLoader, MultiInputKerasClassifier, MultiInputTransformer
    from skmultimodal._image_cache import DECODES
    from skmultimodal.datasets import make_multimodal_classification
    from skmultimodal.image import _n_threads

    work = Path(tempfile.mkdtemp(prefix="bench_cache_"))
    start = time.perf_counter()
    X, y = make_multimodal_classification(
        args.n_samples,
        image_dir=work / "images",
        image_size=(args.source_size, args.source_size),
        random_state=args.random_state,
    )
    write_seconds = time.perf_counter() - start
    X = X[["image"]]
    target = (args.target_size, args.target_size)

    def pipeline(cache_dir):
        return Pipeline(
            [
                (
                    "prep",
                    MultiInputTransformer(
                        [("image", ImageLoader(target_size=target, cache_dir=cache_dir), "image")]
                    ),
                ),
                (
                    "clf",
                    MultiInputKerasClassifier(
                        image_filters=(4,),
                        epochs=args.epochs,
                        batch_size=64,
                        random_state=args.random_state,
                    ),
                ),
            ]
        )

    grid = {"clf__dropout": [0.0, 0.2], "clf__head_units": [(), (8,)]}

    def search(cache_dir):
        gs = GridSearchCV(pipeline(cache_dir), grid, cv=args.cv, n_jobs=1)
        decodes = DECODES.value
        wall, cpu = time.perf_counter(), time.process_time()
        gs.fit(X, y)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        fit_seconds = float(
            np.sum(gs.cv_results_["mean_fit_time"] + gs.cv_results_["mean_score_time"]) * args.cv
        )
        return {
            "wall": wall,
            "cpu": cpu,
            "decodes": DECODES.value - decodes,
            "scores": gs.cv_results_["mean_test_score"],
            "fit+score": fit_seconds,
            "refit": gs.refit_time_,
        }

    # Warm-up: TensorFlow's start-up and first traces are not counted.
    pipeline(None).fit(X.iloc[:64], y[:64])
    cache = work / "cache"
    load_before = os.getloadavg()
    runs = {
        "no cache": search(None),
        "cache_dir, cold (empty at start)": search(cache),
        "cache_dir, warm (filled by the cold run)": search(cache),
    }
    load_after = os.getloadavg()
    cache_bytes = sum(p.stat().st_size for p in cache.iterdir())
    shutil.rmtree(work, ignore_errors=True)

    base = runs["no cache"]
    same = all(np.array_equal(run["scores"], base["scores"]) for run in runs.values())
    n_fits = len(list(sklearn.model_selection.ParameterGrid(grid))) * args.cv
    lines = harness.table(
        [
            "run",
            "wall s",
            "speed-up (wall)",
            "CPU s",
            "images decoded",
            "decodes per image",
            "fit+score s (cv_results_)",
        ],
        [
            [
                name,
                f"{run['wall']:.1f}",
                f"{base['wall'] / run['wall']:.2f}x",
                f"{run['cpu']:.1f}",
                run["decodes"],
                f"{run['decodes'] / args.n_samples:.2f}",
                f"{run['fit+score']:.1f}",
            ]
            for name, run in runs.items()
        ],
        "lrrrrrr",
    )
    summary = [
        f"GridSearchCV(n_jobs=1), 4 candidates x {args.cv} folds ({n_fits} fits) + refit; "
        f"{args.n_samples} PNG images {args.source_size}x{args.source_size} -> "
        f"{args.target_size}x{args.target_size} RGB, ImageLoader() defaults "
        f"({_n_threads(None)} decoding threads here); image-only model: one Conv(4), "
        f"{args.epochs} epoch(s), batch 64",
        "goal: each image decoded once in the whole search (incl. refit), wall >= 1.5x lower",
        f"identical mean_test_score in every run: {same}",
        f"cache folder after the runs: {cache_bytes / 2**20:.1f} MiB "
        f"({args.n_samples} entries of {3 * args.target_size**2} bytes)",
        f"writing the PNGs took {write_seconds:.1f} s (not timed); one run each, in this "
        f"order; load average before {load_before[0]:.2f}, after {load_after[0]:.2f} "
        "(2 shared cores)",
    ]
    harness.print_lines(lines, summary)
    harness.record(
        args,
        __file__,
        argv,
        "ImageLoader decode cache in a GridSearchCV (bench_cache.py)",
        [
            f"Environment: {harness.environment(sklearn, keras)}.",
            "",
            *lines,
            "",
            *harness.bullets(summary),
        ],
    )


if __name__ == "__main__":
    main()
