"""Benchmark the size bound of ImageLoader's decode cache during a lazy epoch.

A lazy fit decodes batch by batch, and each batch that stores new entries checks
``cache_max_bytes``. Checking means scanning the cache folder, 0.1 s per 20,000 entries. The
cache scans only when this process's running total for the folder passes the bound or is
older than ``_RESCAN_SECONDS``; the baseline, measured in the same run, sets
``_RESCAN_SECONDS = 0``, which scans after every such batch (the behaviour before
2026-12-02).

Writes ``--n-images`` new PNGs (96x96) and a cache folder already holding
``--n-entries`` entries (of other images), then times one lazy epoch
(``LazyBatches`` of 32 rows, as ``fit`` decodes them, 64x64 output) into a fresh copy of
that folder with each setting, interleaved, best of ``--repeats``. Prints the ratio, checks
that both give the same pixels and keep the folder within the bound, and appends a section
to ``benchmarks/RESULTS.md``.

Usage::

    python benchmarks/bench_cache_bound.py --n-images 640 --n-entries 20000
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
from PIL import Image  # noqa: E402

from skmultimodal import _image_cache  # noqa: E402
from skmultimodal.image import ImageLoader  # noqa: E402
from skmultimodal.lazy_dataset import LazyBatches  # noqa: E402

TARGET = (64, 64)


def write_inputs(work: Path, n_images: int, n_entries: int, random_state: int):
    """New PNG files, and a cache folder of ``n_entries`` entries of other images."""
    rng = np.random.default_rng(random_state)
    paths = []
    for i in range(n_images):
        paths.append(str(work / f"image_{i:05d}.png"))
        Image.fromarray(rng.integers(0, 256, (96, 96, 3), dtype=np.uint8)).save(paths[-1])
    filled = work / "filled"
    filled.mkdir()
    entry = bytes(TARGET[0] * TARGET[1] * 3)
    for i in range(n_entries):
        (filled / f"{i:064x}{_image_cache._SUFFIX}").write_bytes(entry)
    return paths, filled


def lazy_epoch(paths, cache: Path, rescan_seconds: float) -> tuple[float, np.ndarray]:
    """Seconds for one lazy epoch into ``cache`` with the given rescan interval."""
    _image_cache._SCANS.clear()  # each run starts as a fresh process would
    _image_cache._RESCAN_SECONDS = rescan_seconds
    images = ImageLoader(TARGET, lazy=True, cache_dir=cache).fit(paths).transform(paths)
    batches = LazyBatches({"image": images}, batch_size=32)
    start = time.perf_counter()
    out = np.concatenate([batches[i][0]["image"] for i in range(len(batches))])
    return time.perf_counter() - start, out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-images", type=int, default=640)
    parser.add_argument("--n-entries", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--random-state", type=int, default=0)
    harness.add_results_options(parser)
    args = parser.parse_args(argv)

    default_rescan = _image_cache._RESCAN_SECONDS
    settings = {
        "scan after every batch that stores (before)": 0.0,
        f"running total, rescan after {default_rescan:.0f} s (now)": default_rescan,
    }
    work = Path(tempfile.mkdtemp(prefix="bench_cache_bound_"))
    try:
        paths, filled = write_inputs(work, args.n_images, args.n_entries, args.random_state)
        bound = ImageLoader().get_params()["cache_max_bytes"]
        best = dict.fromkeys(settings, float("inf"))
        outputs = {}
        for repeat in range(args.repeats):
            for name, rescan in settings.items():
                cache = work / f"cache_{repeat}_{rescan:g}"
                shutil.copytree(filled, cache)
                seconds, outputs[name] = lazy_epoch(paths, cache, rescan)
                best[name] = min(best[name], seconds)
                size = sum(entry.stat().st_size for entry in cache.iterdir())
                assert size <= bound, (name, size, bound)
                shutil.rmtree(cache)
    finally:
        _image_cache._RESCAN_SECONDS = default_rescan
        shutil.rmtree(work, ignore_errors=True)
    before, now = (outputs[name] for name in settings)
    assert np.array_equal(before, now)
    baseline = best[next(iter(settings))]
    lines = [
        f"One lazy epoch (batches of 32) of {args.n_images} new 96x96 PNGs -> 64x64 into a "
        f"cache folder already holding {args.n_entries} entries, default cache_max_bytes; "
        f"best of {args.repeats}, interleaved. Same pixels: True.",
        "",
        *harness.table(
            ["bound check", "epoch s", "speed vs before"],
            [[name, f"{s:.2f}", f"{baseline / s:.2f}x"] for name, s in best.items()],
            "lrr",
        ),
    ]
    print("\n".join(lines))
    harness.record(args, __file__, argv, "Decode cache bound during a lazy epoch", lines)


if __name__ == "__main__":
    main()
