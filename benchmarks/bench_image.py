"""Benchmark ImageLoader against Keras' load_img loop and a tf.data pipeline.

Builds ``--n-images`` 640x480 JPEG photos from random crops of scikit-learn's two
sample photos (no download), then loads them at 224x224 with:

- keras: ``np.array([img_to_array(load_img(p, target_size=(224, 224))) for p in paths])``
  (float32, nearest-neighbour resize: Keras' defaults);
- tf.data: ``read_file -> decode_jpeg -> resize(bilinear) -> round -> uint8`` with
  ``num_parallel_calls=AUTOTUNE``, batched and prefetched;
- ``ImageLoader(target_size=(224, 224))``: default arguments (``n_jobs=None``, which
  decodes on every available core outside a joblib worker);
- the same with ``lazy=True``: one epoch of ``LazyBatches`` of 32 rows (what ``fit``
  decodes per epoch), built from the ``LazyImages`` that ``transform`` returned;
- ImageLoader with n_jobs=1 (one thread, the default before 2026-12-02);
- ``ImageLoader(interpolation="nearest")``: Keras' own default kernel, the fast choice;
- tf.data with ``antialias=True``: the tf.data pipeline at ImageLoader's fidelity.

Each method's fidelity is its PSNR (dB, higher is closer) against a reference made of a
full-size decode and a Lanczos resize of the same files: it tells a faster pipeline that
only does less work from one that does the same work faster.

Prints images per second, the speed ratios, the mean absolute pixel difference against
the Keras output, and the peak memory of loading ``--n-memory`` paths (the files reused
cyclically), measured with tracemalloc (numpy registers its buffers with it), next to
the output arrays' nbytes. Also prints how far draft-mode JPEG decoding (what ImageLoader
does) is from a full-size decode followed by the same resize. Appends the results and the
command to RESULTS.md.

Run: python benchmarks/bench_image.py --n-images 400 --n-memory 5000
"""

import argparse
import os
import platform
import tempfile
import tracemalloc
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import _harness as harness  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from sklearn.datasets import load_sample_images  # noqa: E402

from skmultimodal.image import ImageLoader, _n_threads  # noqa: E402
from skmultimodal.lazy_dataset import LazyBatches  # noqa: E402

TARGET = (224, 224)


def make_photos(folder: Path, n_images: int, random_state: int) -> list[str]:
    """Write ``n_images`` 640x480 JPEGs cut from the sample photos at random."""
    rng = np.random.default_rng(random_state)
    sources = [Image.fromarray(image) for image in load_sample_images().images]
    paths = []
    for i in range(n_images):
        source = sources[i % len(sources)]
        width, height = source.size
        crop_h = int(rng.integers(height // 2, height + 1))
        crop_w = min(width, crop_h * 4 // 3)
        left = int(rng.integers(0, width - crop_w + 1))
        top = int(rng.integers(0, height - crop_h + 1))
        photo = source.resize(
            (640, 480), Image.Resampling.BICUBIC, box=(left, top, left + crop_w, top + crop_h)
        )
        if rng.random() < 0.5:
            photo = photo.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        path = folder / f"photo_{i:05d}.jpg"
        photo.save(path, quality=int(rng.integers(80, 96)))
        paths.append(str(path))
    return paths


def keras_loop(paths):
    from keras.utils import img_to_array, load_img

    return np.array([img_to_array(load_img(p, target_size=TARGET)) for p in paths])


def make_tf_data(paths, antialias=False):
    import tensorflow as tf

    def decode(path):
        image = tf.io.decode_jpeg(tf.io.read_file(path), channels=3)
        image = tf.image.resize(image, TARGET, method="bilinear", antialias=antialias)
        return tf.cast(tf.round(tf.clip_by_value(image, 0.0, 255.0)), tf.uint8)

    # Built once, outside the timed call, so graph tracing of ``decode`` is not timed.
    dataset = (
        tf.data.Dataset.from_tensor_slices(paths)
        .map(decode, num_parallel_calls=tf.data.AUTOTUNE)
        .batch(64)
        .prefetch(tf.data.AUTOTUNE)
    )

    def run():
        return np.concatenate([batch.numpy() for batch in dataset])

    return run


def one_lazy_epoch(lazy_images, batch_size=32):
    """Decode every batch of one epoch as ``fit`` does (LazyBatches), in order."""
    batches = LazyBatches({"image": lazy_images}, batch_size=batch_size)
    return np.concatenate([batches[i][0]["image"] for i in range(len(batches))])


def full_decode(paths, resample=Image.Resampling.BILINEAR, dtype=np.uint8):
    """Full-size decode (no draft mode) + a ``resample`` resize, one thread. Bilinear is
    ImageLoader's resize without its draft decode; Lanczos is the fidelity reference."""
    out = np.empty((len(paths), *TARGET, 3), dtype=dtype)
    for row, path in enumerate(paths):
        with Image.open(path) as image:
            rgb = image.convert("RGB")
        out[row] = np.asarray(rgb.resize(TARGET[::-1], resample))
    return out


def psnr(images, target):
    """Peak signal-to-noise ratio in dB of ``images`` against ``target`` (0-255 scale)."""
    mse = np.mean((np.asarray(images, dtype=np.float32) - target) ** 2)
    return 10 * np.log10(255.0**2 / mse)


def traced_peak(function):
    """Peak traced bytes during ``function()`` and the nbytes of what it returns."""
    tracemalloc.start()
    try:
        nbytes = function().nbytes
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak, nbytes


def mib(n_bytes):
    return f"{n_bytes / 2**20:.0f} MiB"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-images", type=int, default=400)
    parser.add_argument("--n-memory", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--random-state", type=int, default=0)
    harness.add_results_options(parser)
    args = parser.parse_args(argv)

    load_before = " ".join(f"{load:.1f}" for load in os.getloadavg())
    with tempfile.TemporaryDirectory() as folder:
        paths = make_photos(Path(folder), args.n_images, args.random_state)
        default = ImageLoader(target_size=TARGET).fit(paths)
        serial = ImageLoader(target_size=TARGET, n_jobs=1).fit(paths)
        nearest = ImageLoader(target_size=TARGET, interpolation="nearest").fit(paths)
        tf_data_aa = make_tf_data(paths, antialias=True)
        lazy = ImageLoader(target_size=TARGET, lazy=True).fit(paths).transform(paths)
        tf_data = make_tf_data(paths)
        # Warm up: imports, TF graph tracing, file cache.
        keras_loop(paths[:8])
        make_tf_data(paths[:8])()
        make_tf_data(paths[:8], antialias=True)()
        serial.transform(paths)

        methods = {
            "keras load_img loop": lambda: keras_loop(paths),
            "tf.data AUTOTUNE": tf_data,
            "ImageLoader() (defaults)": lambda: default.transform(paths),
            "ImageLoader(lazy=True), 1 epoch": lambda: one_lazy_epoch(lazy),
            "ImageLoader(n_jobs=1)": lambda: serial.transform(paths),
            "ImageLoader(interpolation='nearest')": lambda: nearest.transform(paths),
            "tf.data AUTOTUNE, antialias=True": tf_data_aa,
        }
        timings, cpu_times, outputs = harness.best_times(methods, args.repeats)
        keras_out, tf_out = outputs["keras load_img loop"], outputs["tf.data AUTOTUNE"]
        ours = outputs["ImageLoader() (defaults)"]
        assert np.array_equal(ours, outputs["ImageLoader(n_jobs=1)"])
        assert np.array_equal(ours, outputs["ImageLoader(lazy=True), 1 epoch"])
        full = full_decode(paths).astype(np.int16)
        draft_diff = np.abs(ours.astype(np.int16) - full)

        nearest_out = outputs["ImageLoader(interpolation='nearest')"].astype(np.float32)
        target = full_decode(paths, Image.Resampling.LANCZOS, np.float32)
        keras_seconds = timings["keras load_img loop"]
        tf_seconds = timings["tf.data AUTOTUNE"]
        lines = [
            f"{args.n_images} JPEG photos 640x480 -> 224x224 RGB, best of {args.repeats}; "
            f"{os.cpu_count()} cores, ImageLoader() decodes with "
            f"{_n_threads(None)} threads here, load average before the run {load_before}, "
            f"Python {platform.python_version()}",
            "",
            *harness.table(
                [
                    "method",
                    "img/s",
                    "vs keras loop",
                    "vs tf.data",
                    "CPU ms/img",
                    "fidelity (PSNR dB)",
                    "output dtype",
                ],
                [
                    [
                        name,
                        f"{args.n_images / seconds:.0f}",
                        f"{keras_seconds / seconds:.2f}x",
                        f"{tf_seconds / seconds:.2f}x",
                        f"{1e3 * cpu_times[name] / args.n_images:.2f}",
                        f"{psnr(outputs[name], target):.1f}",
                        outputs[name].dtype,
                    ]
                    for name, seconds in timings.items()
                ],
                "lrrrrrl",
            ),
            "",
            "CPU ms/img is process CPU time (all threads) per image: unlike img/s it does not "
            "depend on other load on the machine, but it hides parallel speed-ups. Fidelity: "
            "PSNR against a full-size decode + Lanczos resize of the same files.",
            "",
            "Mean absolute pixel difference against the keras loop (0-255 scale): "
            f"ImageLoader {np.abs(ours.astype(np.float32) - keras_out).mean():.2f}, "
            f"ImageLoader interpolation='nearest' {np.abs(nearest_out - keras_out).mean():.2f}, "
            f"tf.data {np.abs(tf_out.astype(np.float32) - keras_out).mean():.2f} "
            "(Keras resizes with 'nearest' on the full-size decode; ImageLoader decodes JPEG "
            "at 1/2 scale in draft mode and resizes with 'bilinear').",
            "",
            "Draft-mode JPEG decoding against a full-size decode + the same bilinear resize: "
            f"mean absolute difference {draft_diff.mean():.2f}/255, 99th percentile "
            f"{np.percentile(draft_diff, 99):.0f}, max {draft_diff.max()} "
            "(the draft averages 2x2 blocks in the DCT domain before the resize).",
        ]

        memory_paths = [paths[i % len(paths)] for i in range(args.n_memory)]
        keras_peak, keras_nbytes = traced_peak(lambda: keras_loop(memory_paths))
        ours_peak, ours_nbytes = traced_peak(lambda: default.transform(memory_paths))
        lines += [
            "",
            f"Peak memory loading {args.n_memory} images (tracemalloc peak during the call, "
            "which counts numpy buffers; output array nbytes in brackets): "
            f"keras loop float32 {mib(keras_peak)} (output {mib(keras_nbytes)}), "
            f"ImageLoader uint8 {mib(ours_peak)} (output {mib(ours_nbytes)}); "
            f"ratio {keras_peak / ours_peak:.1f}x.",
        ]

    report = "\n".join(lines)
    print(report)
    harness.record(
        args,
        __file__,
        argv,
        "ImageLoader (bench_image.py)",
        lines,
    )


if __name__ == "__main__":
    main()
