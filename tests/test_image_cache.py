"""ImageLoader's default number of decoding threads and its on-disk decode cache."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import joblib
import numpy as np
import pytest
from PIL import Image
from sklearn.base import clone

from skmultimodal import _image_cache
from skmultimodal.image import ImageLoader, _n_threads

SIZE = (8, 8)


def write_images(folder: Path, n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(n):
        path = folder / f"img_{i}.png"
        Image.fromarray(rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)).save(path)
        paths.append(str(path))
    return paths


@pytest.fixture
def images(tmp_path) -> list[str]:
    return write_images(tmp_path, 12)


def decodes_during(function) -> int:
    before = _image_cache.DECODES.value
    function()
    return _image_cache.DECODES.value - before


def entries(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.suffix == ".u8" and not p.name.startswith(".")]


# -- default number of threads -------------------------------------------------------------
def test_default_threads_use_every_available_core_outside_joblib():
    assert _n_threads(None) == joblib.cpu_count()
    assert _n_threads(1) == 1
    assert _n_threads(-1) == joblib.cpu_count()


def test_default_threads_follow_an_enclosing_parallel_config():
    with joblib.parallel_config(n_jobs=3):
        assert _n_threads(None) == 3
        assert _n_threads(1) == 1
    with joblib.parallel_config(n_jobs=1):
        assert _n_threads(None) == 1


def test_default_threads_are_one_inside_a_joblib_worker(images):
    def inside():
        lazy = ImageLoader(SIZE, lazy=True).fit(images).transform(images)
        return _n_threads(None), lazy._n_threads, lazy[2:5]._n_threads

    results = joblib.Parallel(n_jobs=2, backend="threading")(
        joblib.delayed(inside)() for _ in range(2)
    )
    assert results == [(1, 1, 1), (1, 1, 1)]


def test_default_threads_are_one_in_a_worker_process(monkeypatch):
    # A loky, multiprocessing or Dask worker process has a parent process.
    monkeypatch.setattr("multiprocessing.parent_process", lambda: object())
    assert _n_threads(None) == 1
    assert _n_threads(2) == 2


def test_pickled_lazy_images_resolve_their_threads_again(images):
    import pickle

    lazy = ImageLoader(SIZE, lazy=True).fit(images).transform(images)
    assert lazy._n_threads == joblib.cpu_count()
    copy = pickle.loads(pickle.dumps(lazy))
    assert copy._n_threads is None
    np.testing.assert_array_equal(np.asarray(copy), np.asarray(lazy))


# -- decode cache --------------------------------------------------------------------------
def test_cache_hit_returns_identical_pixels_without_decoding(images, tmp_path):
    reference = ImageLoader(SIZE, n_jobs=1).fit_transform(images)
    loader = ImageLoader(SIZE, cache_dir=tmp_path / "cache").fit(images)
    assert decodes_during(lambda: loader.transform(images)) == len(images)
    assert len(entries(tmp_path / "cache")) == len(images)
    again = clone(loader).fit(images)
    out = []
    assert decodes_during(lambda: out.append(again.transform(images[::-1]))) == 0
    np.testing.assert_array_equal(out[0], reference[::-1])


def test_lazy_batches_use_the_cache(images, tmp_path):
    loader = ImageLoader(SIZE, cache_dir=tmp_path / "cache", lazy=True).fit(images)
    first = loader.transform(images)
    assert decodes_during(lambda: first.load()) == len(images)
    out = []
    assert decodes_during(lambda: out.append(loader.transform(images).load([3, 1]))) == 0
    np.testing.assert_array_equal(out[0], ImageLoader(SIZE).fit_transform(images)[[3, 1]])


def test_options_that_change_pixels_get_their_own_entries(images, tmp_path):
    cache = tmp_path / "cache"
    ImageLoader(SIZE, cache_dir=cache).fit_transform(images)
    nearest = ImageLoader(SIZE, cache_dir=cache, interpolation="nearest").fit(images)
    out = []
    assert decodes_during(lambda: out.append(nearest.transform(images))) == len(images)
    np.testing.assert_array_equal(
        out[0], ImageLoader(SIZE, interpolation="nearest").fit_transform(images)
    )
    gray = ImageLoader(SIZE, color_mode="grayscale", cache_dir=cache).fit(images)
    assert decodes_during(lambda: gray.transform(images)) == len(images)
    assert len(entries(cache)) == 3 * len(images)


def test_a_changed_file_is_decoded_again(images, tmp_path):
    loader = ImageLoader(SIZE, cache_dir=tmp_path / "cache").fit(images)
    before = loader.transform(images)
    stat = os.stat(images[0])
    Image.new("RGB", (30, 10), (10, 200, 30)).save(images[0])
    os.utime(images[0], ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    out = []
    assert decodes_during(lambda: out.append(loader.transform(images))) == 1
    assert out[0][0].tolist() == np.full((*SIZE, 3), (10, 200, 30)).tolist()
    np.testing.assert_array_equal(out[0][1:], before[1:])


def test_failures_are_not_cached(images, tmp_path):
    cache = tmp_path / "cache"
    missing = str(tmp_path / "missing.png")
    loader = ImageLoader(SIZE, cache_dir=cache, on_error="zeros").fit([missing])
    with pytest.warns(UserWarning, match="could not be loaded"):
        loader.transform([missing])
    assert entries(cache) == []
    Image.new("RGB", (4, 4), (1, 2, 3)).save(missing)
    assert loader.transform([missing])[0, 0, 0].tolist() == [1, 2, 3]


def test_size_bound_evicts_the_oldest_entries(images, tmp_path):
    cache = tmp_path / "cache"
    row_bytes = SIZE[0] * SIZE[1] * 3
    loader = ImageLoader(SIZE, n_jobs=1, cache_dir=cache, cache_max_bytes=5 * row_bytes)
    out = loader.fit_transform(images)
    kept = entries(cache)
    assert len(kept) == 5
    assert sum(p.stat().st_size for p in kept) <= 5 * row_bytes
    # What is left is still right, and what was evicted is decoded again.
    np.testing.assert_array_equal(loader.transform(images), out)


def test_the_bound_scans_the_folder_only_when_the_running_total_passes_it(
    images, tmp_path, monkeypatch
):
    # A scan costs 0.1 s per 20,000 entries: not something to pay after every lazy batch.
    scans = []
    scan = _image_cache.DecodeCache._scan_and_evict

    def counted(cache):
        scans.append(1)
        return scan(cache)

    monkeypatch.setattr(_image_cache.DecodeCache, "_scan_and_evict", counted)
    cache = tmp_path / "cache"
    row_bytes = SIZE[0] * SIZE[1] * 3
    roomy = ImageLoader(SIZE, n_jobs=1, cache_dir=cache, cache_max_bytes=100 * row_bytes)
    roomy.fit_transform(images[:4])
    assert len(scans) == 1  # the first store into this folder in this process
    roomy.transform(images[4:8])
    assert len(scans) == 1  # 8 entries known, well below the bound: no scan
    tight = ImageLoader(SIZE, n_jobs=1, cache_dir=cache, cache_max_bytes=10 * row_bytes)
    tight.fit_transform(images)  # 8 known + 4 stored = 12 rows > 10: scan and evict
    assert len(scans) == 2
    assert sum(p.stat().st_size for p in entries(cache)) <= 10 * row_bytes
    # Past _RESCAN_SECONDS the folder is scanned again (other processes write too).
    monkeypatch.setattr(_image_cache, "_RESCAN_SECONDS", 0.0)
    tight.transform(images)  # the two evicted images are stored again
    assert len(scans) == 3


def test_a_scan_removes_the_temporary_files_of_dead_writers_only(images, tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    # Named as tempfile.mkstemp names this cache's temporary files (8 random characters).
    dead, live = cache / ".tmp-dead_123", cache / ".tmp-live_456"
    dead.write_bytes(b"x" * 100)
    live.write_bytes(b"x" * 100)
    two_hours_ago = os.path.getmtime(dead) - 7200
    os.utime(dead, (two_hours_ago, two_hours_ago))
    ImageLoader(SIZE, n_jobs=1, cache_dir=cache).fit_transform(images)
    assert not dead.exists()
    assert live.exists()  # a writer that may still rename it


def test_cache_parameters_are_sklearn_parameters(tmp_path):
    loader = ImageLoader(SIZE, cache_dir=tmp_path, cache_max_bytes=1000)
    params = clone(loader).get_params()
    assert params["cache_dir"] == tmp_path and params["cache_max_bytes"] == 1000
    assert ImageLoader().get_params()["cache_dir"] is None
    with pytest.raises(ValueError, match="cache_max_bytes"):
        ImageLoader(SIZE, cache_max_bytes=-1).fit(["a.png"])


def test_an_unreadable_entry_is_a_miss(images, tmp_path):
    cache = tmp_path / "cache"
    loader = ImageLoader(SIZE, cache_dir=cache).fit(images)
    reference = loader.transform(images)
    for entry in entries(cache):
        entry.write_bytes(b"truncated")
    out = []
    assert decodes_during(lambda: out.append(loader.transform(images))) == len(images)
    np.testing.assert_array_equal(out[0], reference)


WRITER = textwrap.dedent(
    """
    import sys
    import numpy as np
    from skmultimodal.image import ImageLoader

    cache, expected, *paths = sys.argv[1:]
    expected = np.load(expected)
    row = int(np.prod(expected.shape[1:]))
    # A bound of a third of the images: the processes evict each other's entries.
    loader = ImageLoader((8, 8), cache_dir=cache, cache_max_bytes=4 * row, n_jobs=2).fit(paths)
    for round in range(15):
        order = np.random.default_rng(round).permutation(len(paths))
        out = loader.transform([paths[i] for i in order])
        if not np.array_equal(out, expected[order]):
            sys.exit(f"corrupt read in round {round}")
    """
)


def test_processes_sharing_a_cache_read_no_corrupt_entry(images, tmp_path):
    expected = tmp_path / "expected.npy"
    np.save(expected, ImageLoader(SIZE).fit_transform(images))
    command = [sys.executable, "-c", WRITER, str(tmp_path / "cache"), str(expected), *images]
    workers = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    for worker in workers:
        _, stderr = worker.communicate(timeout=120)
        assert worker.returncode == 0, stderr
    assert not [p for p in (tmp_path / "cache").iterdir() if p.name.startswith(".tmp-")]
