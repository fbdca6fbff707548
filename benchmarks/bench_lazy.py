"""Benchmark lazy image loading: peak memory and fit throughput, in-memory vs lazy.

Writes ``max(--sizes)`` small images (``--image-size`` pixels square, PNG or JPEG,
random noise plus a label-dependent brightness) into a temporary folder, then fits the
same pipeline on the first N of them for each N in ``--sizes``, twice:

- in-memory: ``ImageLoader(lazy=False)`` decodes every image into one uint8 array,
  which the classifier hands to ``keras.Model.fit``;
- lazy: ``ImageLoader(lazy=True)``; the classifier feeds Keras a PyDataset that decodes
  each batch while the previous one trains;
- cache: ``ImageLoader(lazy="cache")``; as lazy, but each image is decoded once, in the
  first epoch, and read back from a temporary file in later epochs.

Both fits include decoding (the in-memory mode decodes up front, the lazy mode inside
the training loop), use the same ``n_jobs`` for decoding, a tiny CNN
(``Conv2D(8) -> MaxPool -> GlobalAveragePooling``), ``--epochs`` epochs and
``--batch-size``. Each configuration runs in a fresh Python process, so its peak
resident memory (``VmHWM`` from /proc/self/status) is its own; the table shows the peak,
its growth during ``fit`` (peak minus the resident memory just before ``fit``, after
TensorFlow is loaded and warmed up on 64 images) and images/s, with lazy/in-memory
ratios. Appends the table and the command to RESULTS.md.

Run: python benchmarks/bench_lazy.py --sizes 2000,8000,32000
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import _harness as harness  # noqa: E402
import numpy as np  # noqa: E402


def write_images(folder: Path, n_images: int, size: int, fmt: str, random_state: int) -> None:
    from PIL import Image

    rng = np.random.default_rng(random_state)
    for i in range(n_images):
        noise = rng.integers(0, 156, size=(size, size, 3), dtype=np.uint8) + 100 * (i % 2)
        suffix = "jpg" if fmt == "jpeg" else "png"
        Image.fromarray(noise.astype(np.uint8)).save(folder / f"img_{i:06d}.{suffix}")


def memory_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not found in /proc/self/status")


MODES = {"memory": False, "lazy": True, "cache": "cache"}


def make_pipeline(args, lazy):
    from sklearn.pipeline import Pipeline

    from skmultimodal.compose import MultiInputTransformer
    from skmultimodal.estimators import MultiInputKerasClassifier
    from skmultimodal.image import ImageLoader

    size = args.image_size
    return Pipeline(
        [
            (
                "prep",
                MultiInputTransformer(
                    [
                        (
                            "image",
                            ImageLoader(target_size=(size, size), n_jobs=args.n_jobs, lazy=lazy),
                            "image",
                        )
                    ]
                ),
            ),
            (
                "clf",
                MultiInputKerasClassifier(
                    image_filters=(8,),
                    image_pooling="avg",
                    # Throughput only: every epoch runs, on all rows, in every mode.
                    early_stopping=False,
                    epochs=args.epochs,
                    batch_size=args.batch_size,
                    shuffle=True,
                    random_state=0,
                ),
            ),
        ]
    )


def worker(args) -> None:
    """Fit one configuration in this process; print one JSON line."""
    import pandas as pd

    suffix = "jpg" if args.format == "jpeg" else "png"
    paths = [f"{args.folder}/img_{i:06d}.{suffix}" for i in range(args.n)]
    X = pd.DataFrame({"image": paths})
    y = np.arange(args.n) % 2
    lazy = MODES[args.mode]
    # Warm-up: TensorFlow's runtime, tracing and thread pools cost the same in both modes.
    make_pipeline(args, lazy).fit(X.iloc[:64], y[:64])
    before = memory_kib("VmRSS")
    start = time.perf_counter()
    pipe = make_pipeline(args, lazy).fit(X, y)
    seconds = time.perf_counter() - start
    peak = memory_kib("VmHWM")
    accuracy = float(pipe.score(X.iloc[:512], y[:512]))
    print(
        json.dumps(
            {
                "n": args.n,
                "mode": args.mode,
                "seconds": seconds,
                "images_per_s": args.n * args.epochs / seconds,
                "peak_mib": peak / 1024,
                "growth_mib": (peak - before) / 1024,
                "accuracy": accuracy,
            }
        )
    )


def run_configuration(args, folder: str, n: int, mode: str) -> dict:
    command = [
        sys.executable,
        __file__,
        "--worker",
        "--folder",
        folder,
        "--n",
        str(n),
        "--mode",
        mode,
        "--image-size",
        str(args.image_size),
        "--format",
        args.format,
        "--epochs",
        str(args.epochs),
        "--batch-size",
        str(args.batch_size),
        "--n-jobs",
        str(args.n_jobs),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{mode} with {n} images failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,8000,32000", help="comma-separated N")
    parser.add_argument("--image-size", type=int, default=32, help="pixels, square")
    parser.add_argument("--format", choices=["png", "jpeg"], default="png")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--n-jobs", type=int, default=1, help="ImageLoader decoding threads")
    harness.add_results_options(parser)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=sorted(MODES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return

    sizes = [int(s) for s in args.sizes.split(",")]
    wall = time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        write_images(Path(folder), max(sizes), args.image_size, args.format, random_state=0)
        print(f"wrote {max(sizes)} {args.format} images in {time.perf_counter() - start:.1f} s")
        for n in sizes:
            result = {mode: run_configuration(args, folder, n, mode) for mode in MODES}
            memory = result["memory"]

            def cells(key, fmt, result=result):
                return " | ".join(format(result[mode][key], fmt) for mode in MODES)

            row = (
                f"| {n} | {cells('peak_mib', '.0f')} | {cells('growth_mib', '.0f')} | "
                f"{cells('images_per_s', '.0f')} | "
                + " | ".join(
                    f"{memory['images_per_s'] / result[mode]['images_per_s']:.2f}x"
                    for mode in ("lazy", "cache")
                )
                + f" | {cells('accuracy', '.2f')} |"
            )
            rows.append(row)
            print(row, flush=True)

    header = harness.table(
        [
            "images",
            "peak RSS MiB: memory",
            "lazy",
            "cache",
            "fit growth MiB: memory",
            "lazy",
            "cache",
            "img/s: memory",
            "lazy",
            "cache",
            "slowdown lazy",
            "slowdown cache",
            "train acc: memory",
            "lazy",
            "cache",
        ],
        [],
    )
    table_lines = [*header, *rows]
    print("\n".join(table_lines))
    print(f"wall time {time.perf_counter() - wall:.0f} s")
    if not args.record:
        return
    harness.append_section(
        args.results,
        "Lazy image mode: memory and throughput",
        harness.command_line(__file__, env="TF_CPP_MIN_LOG_LEVEL=3"),
        [
            f"{harness.environment(shared=True)}. {args.image_size}x{args.image_size} "
            f"{args.format} images, tiny CNN, {args.epochs} epoch(s), batch {args.batch_size}, "
            f"ImageLoader n_jobs={args.n_jobs}; one fresh process per cell; peak RSS = VmHWM; "
            "growth = VmHWM after fit minus VmRSS before fit; img/s = images x epochs / fit "
            "seconds (decoding included in every mode); slowdown = in-memory img/s / mode's "
            "img/s; memory = ImageLoader(lazy=False), lazy = lazy=True, cache = "
            'lazy="cache".',
            "",
            *table_lines,
        ],
    )


if __name__ == "__main__":
    main()
