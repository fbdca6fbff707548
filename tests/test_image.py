"""Tests for skmultimodal.image: exact pixels on tiny hand-made files."""

import io
import os
import pickle
import re
import struct
import sys
import time
import types
import warnings
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image, ImageFile
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmultimodal.image import (
    DEFAULT_MAX_PIXELS,
    ImageLoader,
    ImageLoadWarning,
    _probe_size,
    load_image,
)

RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)
# 4x4 blocks of 4x4 pixels each: a nearest resize to 4x4 must pick each block's colour.
BLOCK_COLORS = np.arange(16 * 3, dtype=np.uint8).reshape(4, 4, 3) * 5


def blocks_image() -> Image.Image:
    return Image.fromarray(np.repeat(np.repeat(BLOCK_COLORS, 4, axis=0), 4, axis=1))


def save(image: Image.Image, folder: Path, name: str, **kwargs) -> str:
    image.save(folder / name, **kwargs)
    return name


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """A folder of tiny images shared by read-only tests."""
    folder = tmp_path_factory.mktemp("images")
    save(Image.new("RGB", (16, 8), RED), folder, "red_16x8.png")
    save(Image.new("RGB", (8, 8), BLUE), folder, "blue_8x8.png")
    save(blocks_image(), folder, "blocks_16x16.png")
    rng = np.random.default_rng(0)
    for i in range(24):
        noise = rng.integers(0, 256, size=(12 + i % 5, 10 + i % 7, 3), dtype=np.uint8)
        save(Image.fromarray(noise), folder, f"noise_{i:02d}.png")
    return folder


def noise_paths(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("noise_*.png"))


# ---------------------------------------------------------------- basic contract


def test_exact_pixels_without_resize(folder):
    loader = ImageLoader(target_size=(16, 16), base_dir=folder, interpolation="nearest")
    images = loader.fit_transform(["blocks_16x16.png"])
    assert images.dtype == np.uint8
    np.testing.assert_array_equal(images[0], np.asarray(blocks_image()))


def test_nearest_downscale_picks_block_colours(folder):
    loader = ImageLoader(target_size=(4, 4), base_dir=folder, interpolation="nearest")
    np.testing.assert_array_equal(loader.fit_transform(["blocks_16x16.png"])[0], BLOCK_COLORS)


def test_target_size_is_height_width_and_uniform_colour_survives_bilinear(folder):
    images = ImageLoader(target_size=(3, 5), base_dir=folder).fit_transform(["red_16x8.png"])
    assert images.shape == (1, 3, 5, 3)
    assert (images.reshape(-1, 3) == RED).all()


@pytest.mark.parametrize(
    ("color_mode", "expected"),
    [("rgb", [255, 0, 0]), ("grayscale", [76]), ("rgba", [255, 0, 0, 255])],
)
def test_color_modes_channels_and_values(folder, color_mode, expected):
    # Red's ITU-R 601-2 luma is (255 * 19595 + 2**15) >> 16 = 76.
    images = ImageLoader(target_size=(2, 2), color_mode=color_mode, base_dir=folder).fit_transform(
        ["red_16x8.png"]
    )
    assert images.shape == (1, 2, 2, len(expected))
    assert (images.reshape(-1, len(expected)) == expected).all()


@pytest.mark.parametrize(
    "make_input",
    [
        lambda names: pd.DataFrame({"photo": names}),
        lambda names: pd.Series(names, name="photo"),
        lambda names: pd.Series(names, dtype=object),
        lambda names: list(names),
        lambda names: tuple(names),
        lambda names: np.array(names),
        lambda names: np.array(names, dtype=object).reshape(-1, 1),
        lambda names: [[name] for name in names],
        lambda names: [Path(name) for name in names],
    ],
    ids=[
        "dataframe",
        "series",
        "object_series",
        "list",
        "tuple",
        "array_1d",
        "array_2d",
        "list_of_lists",
        "pathlib",
    ],
)
def test_every_container_gives_the_same_images(folder, make_input):
    names = ["red_16x8.png", "blue_8x8.png"]
    images = ImageLoader(target_size=(2, 2), base_dir=folder).fit_transform(make_input(names))
    assert images.shape == (2, 2, 2, 3)
    assert (images[0].reshape(-1, 3) == RED).all()
    assert (images[1].reshape(-1, 3) == BLUE).all()


def test_base_dir_resolution_absolute_paths_and_pathlike(folder, monkeypatch):
    absolute = str(folder / "blue_8x8.png")
    loader = ImageLoader(target_size=(1, 1), base_dir=Path(folder))
    images = loader.fit_transform(["red_16x8.png", absolute, Path("blue_8x8.png")])
    assert images[:, 0, 0].tolist() == [list(RED), list(BLUE), list(BLUE)]
    # Without base_dir, relative paths are relative to the working directory.
    monkeypatch.chdir(folder)
    images = ImageLoader(target_size=(1, 1)).fit_transform([Path("red_16x8.png")])
    assert images[0, 0, 0].tolist() == list(RED)


def test_fit_records_column_and_output_shape(folder):
    X = pd.DataFrame({"photo": ["red_16x8.png"]})
    loader = ImageLoader(target_size=(3, 4), color_mode="grayscale", base_dir=folder).fit(X)
    assert loader.output_shape_ == (3, 4, 1)
    assert loader.n_features_in_ == 1
    assert loader.feature_names_in_.tolist() == ["photo"]
    assert not hasattr(ImageLoader().fit(["a.png"]), "n_features_in_")


def test_fit_reads_no_file():
    loader = ImageLoader().fit(["does/not/exist.png"])
    assert loader.output_shape_ == (224, 224, 3)


def test_more_than_one_column_is_refused_naming_columns():
    X = pd.DataFrame({"photo": ["a.png"], "caption": ["b"]})
    with pytest.raises(ValueError, match=r"2 columns: \['photo', 'caption'\]"):
        ImageLoader().fit(X)
    with pytest.raises(ValueError, match="2 columns"):
        ImageLoader().fit(np.array([["a.png", "b.png"]]))


def test_transform_checks_the_column_count_and_name(folder):
    loader = ImageLoader(target_size=(1, 1), base_dir=folder).fit(
        pd.DataFrame({"photo": ["red_16x8.png"]})
    )
    with pytest.raises(ValueError, match="2 columns"):
        loader.transform(pd.DataFrame({"photo": ["red_16x8.png"], "b": [1]}))
    with pytest.raises(ValueError, match="photo"):
        loader.transform(pd.DataFrame({"other": ["red_16x8.png"]}))
    # A 1-D input is one column by construction.
    assert loader.transform(["red_16x8.png"]).shape == (1, 1, 1, 3)


def test_single_string_is_refused():
    with pytest.raises(TypeError, match="wrap it in a list"):
        ImageLoader().fit("photo.png")


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"target_size": (224,)}, "target_size"),
        ({"target_size": (0, 3)}, "target_size"),
        ({"target_size": "224"}, "target_size"),
        ({"color_mode": "bgr"}, "color_mode"),
        ({"interpolation": "cubic"}, "interpolation"),
        ({"on_error": "skip"}, "on_error"),
        ({"max_pixels": 0}, "max_pixels"),
        ({"n_jobs": 0}, "n_jobs"),
        ({"restrict_to_base_dir": True}, "requires base_dir"),
    ],
)
def test_invalid_parameters_are_refused_in_fit(params, match):
    loader = ImageLoader(**params)  # __init__ validates nothing
    with pytest.raises(ValueError, match=match):
        loader.fit(["a.png"])


def test_transform_before_fit_raises():
    with pytest.raises(NotFittedError):
        ImageLoader().transform(["a.png"])


def test_fit_transform_equals_fit_then_transform(folder):
    names = noise_paths(folder)
    loader = ImageLoader(target_size=(9, 7), base_dir=folder)
    np.testing.assert_array_equal(
        loader.fit_transform(names), clone(loader).fit(names).transform(names)
    )


def test_clone_and_pickle(folder):
    loader = ImageLoader(
        target_size=(5, 6),
        color_mode="rgba",
        base_dir=folder,
        n_jobs=2,
        on_error="zeros",
        max_pixels=10_000,
    )
    assert clone(loader).get_params() == loader.get_params()
    names = noise_paths(folder)[:4]
    expected = loader.fit_transform(names)
    restored = pickle.loads(pickle.dumps(loader))
    assert restored.output_shape_ == (5, 6, 4)
    np.testing.assert_array_equal(restored.transform(names), expected)


@pytest.mark.parametrize("color_mode", ["rgb", "grayscale", "rgba"])
def test_threads_give_identical_output(folder, color_mode):
    names = noise_paths(folder)
    serial = ImageLoader(target_size=(7, 9), color_mode=color_mode, base_dir=folder, n_jobs=1)
    parallel = clone(serial).set_params(n_jobs=3)
    all_cores = clone(serial).set_params(n_jobs=-1)
    expected = serial.fit_transform(names)
    np.testing.assert_array_equal(parallel.fit_transform(names), expected)
    np.testing.assert_array_equal(all_cores.fit_transform(names), expected)


def test_threads_report_the_first_failing_row(folder):
    names = noise_paths(folder)
    names[5] = "missing_a.png"
    names[17] = "missing_b.png"
    with pytest.raises(FileNotFoundError, match=r"row 5: .*missing_a\.png"):
        ImageLoader(target_size=(2, 2), base_dir=folder, n_jobs=4).fit_transform(names)


def test_threads_report_the_first_failing_row_whatever_the_timing(folder, monkeypatch):
    import skmultimodal.image as image_module

    decode = image_module._decode

    def slow_on_row_3(path, spec):
        if path.endswith(names[3]):
            time.sleep(0.3)  # row 7 fails in the other thread meanwhile
        return decode(path, spec)

    monkeypatch.setattr(image_module, "_decode", slow_on_row_3)
    names = noise_paths(folder)  # 24 rows: chunks of 3 rows for 2 threads
    names[4], names[7] = "missing_a.png", "missing_b.png"
    with pytest.raises(FileNotFoundError, match=r"row 4: .*missing_a\.png"):
        ImageLoader(target_size=(2, 2), base_dir=folder, n_jobs=2).fit_transform(names)


def test_formats_restricts_what_is_opened(folder):
    loader = ImageLoader((2, 2), base_dir=folder, formats=["jpeg"])
    with pytest.raises(ValueError, match=r"row 0: .*red_16x8\.png.* allowed formats \['JPEG'\]"):
        loader.fit_transform(["red_16x8.png"])
    loader.set_params(formats=("PNG", "JPEG"))
    assert (loader.fit_transform(["red_16x8.png"]).reshape(-1, 3) == RED).all()
    with pytest.raises(ValueError, match="unknown: \\['PNGG'\\]"):
        loader.set_params(formats=["PNGG"]).fit(["a.png"])


def test_keep_aspect_ratio_centre_crops(tmp_path):
    # 16 wide x 8 high: red | green (middle 8 columns) | blue.
    pixels = np.zeros((8, 16, 3), dtype=np.uint8)
    pixels[:, :4], pixels[:, 4:12], pixels[:, 12:] = RED, GREEN, BLUE
    save(Image.fromarray(pixels), tmp_path, "wide.png")
    cropped = ImageLoader(
        (4, 4), base_dir=tmp_path, keep_aspect_ratio=True, interpolation="nearest"
    ).fit_transform(["wide.png"])
    assert (cropped.reshape(-1, 3) == GREEN).all()
    stretched = ImageLoader((4, 4), base_dir=tmp_path, interpolation="nearest").fit_transform(
        ["wide.png"]
    )
    assert stretched[0, 0, 0].tolist() == list(RED) and stretched[0, 0, 3].tolist() == list(BLUE)


def test_load_image_matches_the_transformer(folder):
    image = load_image(folder / "blocks_16x16.png", (4, 4), interpolation="nearest")
    np.testing.assert_array_equal(image, BLOCK_COLORS)
    assert load_image(folder / "red_16x8.png", (2, 3), "grayscale").shape == (2, 3, 1)


# ---------------------------------------------------------------- Pillow modes


def mode_case(tmp_path, mode):
    """Write a 2x1 image in ``mode``; return its name and the expected RGBA pixels."""
    if mode == "L":
        image, rgba = Image.new("L", (2, 1), 100), [(100, 100, 100, 255)] * 2
    elif mode == "LA":
        image, rgba = Image.new("LA", (2, 1), (100, 50)), [(100, 100, 100, 50)] * 2
    elif mode == "P":
        image = Image.new("P", (2, 1), 0)
        image.putpalette([*RED, *GREEN])
        image.putpixel((1, 0), 1)
        image.info["transparency"] = 1
        rgba = [(*RED, 255), (*GREEN, 0)]
    elif mode == "RGBA":
        image, rgba = Image.new("RGBA", (2, 1), (10, 20, 30, 40)), [(10, 20, 30, 40)] * 2
    elif mode == "I;16":
        image = Image.fromarray(np.array([[0x1234, 0xFFFF]], dtype=np.uint16))
        rgba = [(0x12, 0x12, 0x12, 255), (255, 255, 255, 255)]
    elif mode == "I":
        image = Image.fromarray(np.array([[0x1234, 70000]], dtype=np.int32))
        rgba = [(0x12, 0x12, 0x12, 255), (255, 255, 255, 255)]
    elif mode == "F":
        image = Image.fromarray(np.array([[12.6, 300.0]], dtype=np.float32))
        rgba = [(13, 13, 13, 255), (255, 255, 255, 255)]
    elif mode == "CMYK":
        image = Image.new("CMYK", (2, 1), (0, 255, 0, 0))
        image.putpixel((1, 0), (0, 0, 0, 255))
        rgba = [(255, 0, 255, 255), (0, 0, 0, 255)]
    elif mode == "1":
        image = Image.new("1", (2, 1), 0)
        image.putpixel((1, 0), 1)
        rgba = [(0, 0, 0, 255), (255, 255, 255, 255)]
    suffix = ".tif" if mode in ("I", "F", "CMYK") else ".png"
    name = save(image, tmp_path, f"{mode.replace(';', '_')}{suffix}")
    assert Image.open(tmp_path / name).mode == mode  # the file really has that mode
    return name, np.array(rgba, dtype=np.uint8)


@pytest.mark.parametrize("mode", ["L", "LA", "P", "RGBA", "I;16", "I", "F", "CMYK", "1"])
def test_every_pillow_mode_converts_exactly(tmp_path, mode):
    name, rgba = mode_case(tmp_path, mode)

    def load(color_mode):
        loader = ImageLoader((1, 2), color_mode, base_dir=tmp_path, interpolation="nearest")
        return loader.fit_transform([name])[0, 0]

    np.testing.assert_array_equal(load("rgba"), rgba)
    np.testing.assert_array_equal(load("rgb"), rgba[:, :3])
    gray = load("grayscale")[:, 0]
    if mode in ("L", "LA", "I;16", "I", "F", "1"):  # already gray: values unchanged
        np.testing.assert_array_equal(gray, rgba[:, 0])
    else:
        r, g, b = (rgba[:, i].astype(np.int64) for i in range(3))
        np.testing.assert_array_equal(gray, (r * 19595 + g * 38470 + b * 7471 + 2**15) >> 16)


def test_float_and_int_images_clip_out_of_range_values(tmp_path):
    save(Image.fromarray(np.array([[-3.0, np.nan]], dtype=np.float32)), tmp_path, "f.tif")
    save(Image.fromarray(np.array([[-5, 255]], dtype=np.int32)), tmp_path, "i.tif")
    loader = ImageLoader((1, 2), "grayscale", base_dir=tmp_path, interpolation="nearest")
    assert loader.fit_transform(["f.tif", "i.tif"])[:, 0, :, 0].tolist() == [[0, 0], [0, 0]]


def exif_with_orientation(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif


@pytest.mark.parametrize(
    ("orientation", "expected"),
    [
        # Stored 3 wide x 2 high: [[R, G, B], [W, W, W]].
        (1, [[RED, GREEN, BLUE], [WHITE, WHITE, WHITE]]),
        (3, [[WHITE, WHITE, WHITE], [BLUE, GREEN, RED]]),
        (6, [[WHITE, RED], [WHITE, GREEN], [WHITE, BLUE]]),  # displayed rotated 90 CW
        (8, [[BLUE, WHITE], [GREEN, WHITE], [RED, WHITE]]),
    ],
)
def test_exif_orientation_is_applied(tmp_path, orientation, expected):
    pixels = np.array([[RED, GREEN, BLUE], [WHITE, WHITE, WHITE]], dtype=np.uint8)
    save(Image.fromarray(pixels), tmp_path, "o.png", exif=exif_with_orientation(orientation))
    expected = np.array(expected, dtype=np.uint8)
    loader = ImageLoader(expected.shape[:2], base_dir=tmp_path, interpolation="nearest")
    np.testing.assert_array_equal(loader.fit_transform(["o.png"])[0], expected)


def test_exif_orientation_of_a_jpeg_in_draft_mode(tmp_path):
    # Stored 64 wide x 32 high, left half red, right half blue; orientation 6 shows it
    # 32 wide x 64 high with red on top. Target (16, 8) lets draft mode decode at 1/4.
    pixels = np.zeros((32, 64, 3), dtype=np.uint8)
    pixels[:, :32], pixels[:, 32:] = RED, BLUE
    save(Image.fromarray(pixels), tmp_path, "o.jpg", quality=95, exif=exif_with_orientation(6))
    image = ImageLoader((16, 8), base_dir=tmp_path).fit_transform(["o.jpg"])[0].astype(int)
    assert image.shape == (16, 8, 3)
    assert np.abs(image[:6] - RED).max() <= 8
    assert np.abs(image[10:] - BLUE).max() <= 8


@pytest.mark.parametrize("color_mode", ["rgb", "grayscale"])
def test_jpeg_draft_mode_matches_full_decode(tmp_path, color_mode):
    rng = np.random.default_rng(0)
    smooth = np.kron(rng.integers(0, 256, size=(8, 8, 3)), np.ones((16, 16, 1))).astype(np.uint8)
    save(Image.fromarray(smooth), tmp_path, "smooth.jpg", quality=95, subsampling=0)
    loaded = ImageLoader((16, 16), color_mode, base_dir=tmp_path).fit_transform(["smooth.jpg"])
    with Image.open(tmp_path / "smooth.jpg") as full:
        mode = "RGB" if color_mode == "rgb" else "L"
        # DCT-domain downscaling is an area average, as the box filter.
        reference = np.asarray(full.convert(mode).resize((16, 16), Image.Resampling.BOX))
    difference = np.abs(loaded[0].astype(int) - reference.reshape(loaded.shape[1:]))
    assert difference.max() <= 1  # 0 with libjpeg-turbo; allow rounding elsewhere


def test_first_frame_of_animated_gif_and_multipage_tiff(tmp_path):
    frames = [Image.new("RGB", (4, 4), colour) for colour in (RED, BLUE, GREEN)]
    frames[0].save(tmp_path / "a.gif", save_all=True, append_images=frames[1:])
    frames[0].save(tmp_path / "a.tif", save_all=True, append_images=frames[1:])
    assert Image.open(tmp_path / "a.gif").n_frames == 3
    images = ImageLoader((2, 2), base_dir=tmp_path).fit_transform(["a.gif", "a.tif"])
    assert (images.reshape(-1, 3) == RED).all()


# ---------------------------------------------------------------- failures


@pytest.fixture(scope="module")
def broken(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("broken")
    save(Image.new("RGB", (8, 8), GREEN), folder, "good.png")
    (folder / "notes.png").write_text("this is not an image")
    buffer = io.BytesIO()
    noise = np.random.default_rng(0).integers(0, 256, size=(64, 64, 3), dtype=np.uint8)
    Image.fromarray(noise).save(buffer, format="JPEG")
    (folder / "truncated.jpg").write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    (folder / "a_directory.png").mkdir()
    return folder


@pytest.mark.parametrize(
    ("bad", "error", "match"),
    [
        ("missing.png", FileNotFoundError, r"row 1: image file not found: .*missing\.png"),
        ("notes.png", ValueError, r"row 1: .*notes\.png.* not an image"),
        ("truncated.jpg", ValueError, r"row 1: could not decode image .*truncated\.jpg"),
        ("a_directory.png", ValueError, r"row 1: .*a_directory\.png' is a directory, not a"),
        (None, ValueError, r"row 1: the image path is missing \(None\)"),
        (float("nan"), ValueError, r"row 1: the image path is missing \(nan\)"),
        ("", ValueError, r"row 1: the image path is missing \(''\)"),
        (42, TypeError, r"row 1: expected an image path .*int 42"),
    ],
)
def test_bad_rows_raise_naming_row_and_path(broken, bad, error, match):
    loader = ImageLoader((4, 4), base_dir=broken).fit(["good.png"])
    with pytest.raises(error, match=match):
        loader.transform(["good.png", bad])


def test_missing_values_in_pandas_are_reported_with_the_index_label(broken):
    X = pd.DataFrame({"photo": ["good.png", None]}, index=["first", "second"])
    with pytest.raises(ValueError, match=r"row 1 \(index 'second'\): the image path is missing"):
        ImageLoader((4, 4), base_dir=broken).fit_transform(X)
    # pandas' own missing marker in a string column is a missing path too.
    series = pd.Series(["good.png", pd.NA], dtype="string")
    with pytest.raises(ValueError, match=r"row 1: the image path is missing"):
        ImageLoader((4, 4), base_dir=broken).fit_transform(series)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file_raises(broken, tmp_path):
    locked = tmp_path / "locked.png"
    Image.new("RGB", (2, 2)).save(locked)
    locked.chmod(0)
    with pytest.raises(ValueError, match=r"row 0: could not read image file .*locked\.png"):
        ImageLoader((2, 2)).fit_transform([str(locked)])


def test_on_error_zeros_blanks_failed_rows_with_one_warning(broken):
    names = ["good.png", "missing.png", None, "truncated.jpg", "notes.png", "good.png"]
    loader = ImageLoader((4, 4), base_dir=broken, on_error="zeros", n_jobs=2).fit(names)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        images = loader.transform(names)
    assert len(caught) == 1
    assert "4 of 6 images could not be loaded" in str(caught[0].message)
    assert "row 1" in str(caught[0].message)  # the first failure, for a quick diagnosis
    assert isinstance(caught[0].message, ImageLoadWarning)
    assert caught[0].message.failed_paths == [
        (1, "missing.png"),
        (2, None),
        (3, "truncated.jpg"),
        (4, "notes.png"),
    ]
    assert pickle.loads(pickle.dumps(caught[0].message)).failed_paths == [
        (1, "missing.png"),
        (2, None),
        (3, "truncated.jpg"),
        (4, "notes.png"),
    ]
    assert (images[[1, 2, 3, 4]] == 0).all()
    assert (images[[0, 5]].reshape(-1, 3) == GREEN).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loader.transform(["good.png"])


@pytest.mark.parametrize("lazy", [False, True])
def test_transform_changes_no_state(broken, lazy):
    names = ["good.png", "missing.png", None]
    loader = ImageLoader((4, 4), base_dir=broken, on_error="zeros", lazy=lazy).fit(names)
    before = pickle.dumps(loader)
    with pytest.warns(ImageLoadWarning):
        images = loader.transform(names)
    if lazy:
        with pytest.warns(ImageLoadWarning):
            images.load()
    assert pickle.dumps(loader) == before


# ---------------------------------------------------------------- decompression bombs


def png_header_only(width: int, height: int) -> bytes:
    """A valid PNG of a huge, all-black bilevel image: a few KB of compressed zeros."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    compressor = zlib.compressobj(9)
    row = bytes(1 + (width + 7) // 8)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


@pytest.fixture
def no_decoding(monkeypatch):
    """Fail the test if any pixel data gets decoded."""

    def refuse(self):
        raise AssertionError("pixel data was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)


def test_bomb_above_max_pixels_is_refused_from_the_header(tmp_path, no_decoding):
    (tmp_path / "bomb.png").write_bytes(png_header_only(10_000, 10_000))
    assert (tmp_path / "bomb.png").stat().st_size < 20_000
    loader = ImageLoader((4, 4), base_dir=tmp_path).fit(["bomb.png"])
    start = time.perf_counter()
    with pytest.raises(
        ValueError,
        match=r"row 0: image .*bomb\.png.* 10000x10000 = 100000000 "
        r"pixels, more than max_pixels=89478485",
    ):
        with warnings.catch_warnings():
            # Pillow's own DecompressionBombWarning fires at open for this size.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            loader.transform(["bomb.png"])
    assert time.perf_counter() - start < 1.0


def test_huge_bomb_is_refused_even_without_max_pixels(tmp_path, no_decoding):
    (tmp_path / "bomb.png").write_bytes(png_header_only(16_000, 16_000))
    with pytest.raises(ValueError, match=r"row 0: image .*bomb\.png.*MAX_IMAGE_PIXELS"):
        ImageLoader((4, 4), base_dir=tmp_path, max_pixels=None).fit_transform(["bomb.png"])


def test_max_pixels_is_configurable(folder):
    assert DEFAULT_MAX_PIXELS == 89_478_485
    strict = ImageLoader((2, 2), base_dir=folder, max_pixels=127)
    with pytest.raises(ValueError, match=r"16x8 = 128 pixels, more than max_pixels=127"):
        strict.fit_transform(["red_16x8.png"])
    assert strict.set_params(max_pixels=128).fit_transform(["red_16x8.png"]).shape == (1, 2, 2, 3)
    blank = strict.set_params(max_pixels=10, on_error="zeros")
    with pytest.warns(UserWarning, match="1 of 1 images"):
        assert (blank.fit_transform(["red_16x8.png"]) == 0).all()


# ---------------------------------------------------------------- confinement


@pytest.fixture
def jail(tmp_path) -> Path:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    save(Image.new("RGB", (2, 2), GREEN), root / "sub", "inside.png")
    save(Image.new("RGB", (2, 2), RED), tmp_path, "outside.png")
    (root / "link_out.png").symlink_to(tmp_path / "outside.png")
    (root / "link_in.png").symlink_to(root / "sub" / "inside.png")
    return root


@pytest.mark.parametrize(
    "escape", ["../outside.png", "sub/../../outside.png", "link_out.png", "ABSOLUTE"]
)
def test_restrict_to_base_dir_refuses_escaping_paths(jail, escape):
    if escape == "ABSOLUTE":
        escape = str(jail.parent / "outside.png")
    loader = ImageLoader((2, 2), base_dir=jail, restrict_to_base_dir=True)
    with pytest.raises(ValueError, match=r"row 1: image path .*outside base_dir.*restrict_to"):
        loader.fit_transform(["sub/inside.png", escape])
    # Without the restriction the same table loads (the default trusts the table).
    images = ImageLoader((2, 2), base_dir=jail).fit_transform(["sub/inside.png", escape])
    assert images[1, 0, 0].tolist() == list(RED)


def test_restrict_to_base_dir_accepts_paths_inside(jail):
    names = ["sub/inside.png", "link_in.png", "sub/../sub/inside.png", str(jail / "link_in.png")]
    loader = ImageLoader((2, 2), base_dir=jail, restrict_to_base_dir=True, on_error="zeros")
    with pytest.warns(ImageLoadWarning, match="1 of 5 images") as caught:
        images = loader.fit_transform(names + ["link_out.png"])
    assert (images[:4].reshape(-1, 3) == GREEN).all()
    assert caught[0].message.failed_paths == [(4, "link_out.png")]


# ---------------------------------------------------------------- scikit-learn integration


def test_tags_and_no_set_output():
    tags = ImageLoader().__sklearn_tags__()
    assert tags.input_tags.string and not tags.input_tags.two_d_array
    assert tags.requires_fit
    assert not hasattr(ImageLoader(), "set_output")
    assert not hasattr(ImageLoader(), "get_feature_names_out")


def test_works_in_a_pipeline_without_warnings(folder):
    flatten = FunctionTransformer(lambda images: images.reshape(len(images), -1))
    pipeline = Pipeline([("load", ImageLoader((2, 2), base_dir=folder)), ("flat", flatten)])
    X = pd.DataFrame({"photo": ["red_16x8.png", "blue_8x8.png"]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        features = pipeline.fit(X).transform(X)
    assert features.shape == (2, 12)
    assert features[1].tolist() == list(BLUE) * 4


@parametrize_with_checks([ImageLoader()])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


# ---------------------------------------------------------------- progress bar (verbose)


def progress_counts(stderr: str) -> list[int]:
    """Every ``done`` count written by the stderr fallback bar, in order."""
    return [int(done) for done in re.findall(r"ImageLoader: (\d+)/\d+ images", stderr)]


def test_verbose_shows_a_stderr_line_when_tqdm_is_missing(folder, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    paths = ["red_16x8.png", "blue_8x8.png", "blocks_16x16.png"]
    quiet = ImageLoader(target_size=(4, 4), base_dir=folder).fit_transform(paths)
    assert capsys.readouterr().err == ""
    loud = ImageLoader(target_size=(4, 4), base_dir=folder, verbose=1).fit_transform(paths)
    err = capsys.readouterr().err
    assert "ImageLoader: 3/3 images" in err
    assert err.endswith("\n")
    np.testing.assert_array_equal(loud, quiet)


def test_verbose_counts_every_row_once_with_threads(folder, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    paths = noise_paths(folder) * 3
    ImageLoader(target_size=(4, 4), base_dir=folder, n_jobs=2, verbose=1).fit_transform(paths)
    counts = progress_counts(capsys.readouterr().err)
    assert counts[-1] == len(paths) == 72
    assert counts == sorted(counts) and max(counts) == len(paths)


def test_verbose_uses_tqdm_when_installed(folder, monkeypatch, capsys):
    calls = []

    class FakeTqdm:
        def __init__(self, total, desc, unit):
            calls.append(("init", total, desc, unit))

        def update(self, n):
            calls.append(("update", n))

        def close(self):
            calls.append(("close",))

    monkeypatch.setitem(sys.modules, "tqdm.auto", types.SimpleNamespace(tqdm=FakeTqdm))
    paths = noise_paths(folder)
    ImageLoader(target_size=(4, 4), base_dir=folder, n_jobs=2, verbose=1).fit_transform(paths)
    assert calls[0] == ("init", 24, "ImageLoader", "img")
    assert calls[-1] == ("close",)
    assert sum(call[1] for call in calls if call[0] == "update") == 24
    assert capsys.readouterr().err == ""


def test_verbose_lazy_transform_shows_nothing(folder, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    loader = ImageLoader(target_size=(4, 4), base_dir=folder, lazy=True, verbose=1)
    images = loader.fit_transform(noise_paths(folder))
    assert images.shape == (24, 4, 4, 3)
    assert capsys.readouterr().err == ""


def test_verbose_bar_is_closed_when_loading_raises(folder, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    loader = ImageLoader(target_size=(4, 4), base_dir=folder, verbose=1)
    with pytest.raises(FileNotFoundError, match="row 1"):
        loader.fit_transform(["red_16x8.png", "missing.png", "blue_8x8.png"])
    err = capsys.readouterr().err
    assert err.startswith("\rImageLoader: 0/3 images") and err.endswith("\n")


# ---------------------------------------------------------------- _probe_size


def test_probe_size_reads_the_upright_height_and_width_from_the_header(
    folder, tmp_path, no_decoding
):
    assert _probe_size(folder / "red_16x8.png") == (8, 16)
    save(Image.new("RGB", (3, 2)), tmp_path, "o.png", exif=exif_with_orientation(6))
    assert _probe_size(str(tmp_path / "o.png")) == (3, 2)  # displayed rotated


def test_probe_size_raises_our_errors_naming_the_path(broken, tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match=r"image file not found: .*missing\.png"):
        _probe_size(broken / "missing.png")
    with pytest.raises(ValueError, match=r"notes\.png.* not an image"):
        _probe_size(broken / "notes.png")
    with pytest.raises(ValueError, match=r"good\.png.* 8x8 = 64 pixels, more than max_pixels=63"):
        _probe_size(broken / "good.png", max_pixels=63)
    with pytest.raises(ValueError, match=r"not an image file .*allowed formats \['JPEG'\]"):
        _probe_size(broken / "good.png", formats=["JPEG"])
    error = NotImplementedError("this DDS variant is not supported")

    def plugin_raises(*args, **kwargs):
        raise error

    monkeypatch.setattr(Image, "open", plugin_raises)
    with pytest.raises(ValueError, match=r"could not .*good\.png.*NotImplementedError") as info:
        _probe_size(broken / "good.png")
    assert info.value.__cause__ is error
