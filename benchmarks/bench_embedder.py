"""Benchmark ImageEmbedder's disk cache in a grid search over a head's parameters.

Writes ``--n-images`` generated PNGs (``make_multimodal_classification``, ``--size``
pixels square), then runs ``GridSearchCV(make_pipeline(ImageEmbedder(...),
LogisticRegression()), {"C": 4 values}, cv=5)`` (4 candidates x 5 folds + the refit)
with a small backbone (``MobileNetV3Small``, random weights drawn with a fixed seed,
``--size`` input), twice per round:

- no cache (the baseline): every fit and transform of every fold runs the backbone;
- cache: ``cache_dir`` set to a new empty folder each round, so each round pays for
  filling the cache once.

It counts backbone forward passes (one per image, from
``skmultimodal.embedding.backbone_images_seen``) and wall time (best of ``--repeats``
interleaved rounds; the machine may be shared, so the ratio is what to read), and checks
that both searches choose the same C with the same best score.

Run: python benchmarks/bench_embedder.py --n-images 300 --repeats 2
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import _harness as harness  # noqa: E402
import numpy as np  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-images", type=int, default=300)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--backbone", default="MobileNetV3Small")
    harness.add_results_options(parser)
    args = parser.parse_args(argv)

    import keras
    import sklearn
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline

    from skmultimodal import ImageEmbedder
    from skmultimodal.datasets import make_multimodal_classification
    from skmultimodal.embedding import backbone_images_seen

    work = Path(tempfile.mkdtemp(prefix="bench_embedder_"))
    X, y = make_multimodal_classification(
        args.n_images, image_dir=work / "images", image_size=(args.size, args.size), random_state=0
    )
    paths = X["image"].to_numpy()
    grid = {"logisticregression__C": [0.01, 0.1, 1.0, 10.0]}

    def search(cache_dir):
        embedder = ImageEmbedder(
            args.backbone, weights=None, target_size=(args.size, args.size), cache_dir=cache_dir
        )
        pipe = make_pipeline(embedder, LogisticRegression(max_iter=2000))
        start_passes, start = backbone_images_seen(), time.perf_counter()
        fitted = GridSearchCV(pipe, grid, cv=5).fit(paths, y)
        seconds = time.perf_counter() - start
        return seconds, backbone_images_seen() - start_passes, fitted

    results = {"no cache": [], "cache": []}
    for round_ in range(args.repeats):
        for name in ("no cache", "cache") if round_ % 2 == 0 else ("cache", "no cache"):
            cache_dir = None if name == "no cache" else work / f"cache_{round_}"
            results[name].append(search(cache_dir))

    baseline = min(seconds for seconds, _, _ in results["no cache"])
    rows = []
    for name, runs in results.items():
        best = min(seconds for seconds, _, _ in runs)
        passes = runs[-1][1]
        fitted = runs[-1][2]
        rows.append(
            [
                name,
                passes,
                f"{passes / args.n_images:.1f}",
                f"{best:.1f}",
                f"{best / baseline:.2f}",
                fitted.best_params_["logisticregression__C"],
                f"{fitted.best_score_:.4f}",
            ]
        )
    n_fits = len(grid["logisticregression__C"]) * 5 + 1
    body = [
        harness.environment(np, sklearn, keras, shared=True),
        "",
        f"{args.n_images} PNG images of {args.size}x{args.size} pixels, backbone "
        f"{args.backbone} (weights=None, fixed seed), GridSearchCV 4 candidates x 5 folds "
        f"+ refit ({n_fits} pipeline fits); best of {args.repeats} interleaved rounds, "
        "each cached round starting from an empty cache folder.",
        "",
        *harness.table(
            [
                "run",
                "backbone passes",
                "passes per image",
                "wall s (best)",
                "ratio to no cache",
                "best C",
                "best score",
            ],
            rows,
            "lrrrrrr",
        ),
    ]
    harness.print_lines(body)
    harness.record(args, __file__, argv, "ImageEmbedder cache in a grid search", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
