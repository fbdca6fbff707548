"""Robustness, round 3: only regular files are opened, training data is never overwritten,
non-finite training is an error."""

import os
import signal

import numpy as np
import pandas as pd
import pytest

from skmultimodal.image import ImageLoader


@pytest.fixture
def alarm():
    """Fail, instead of hanging the suite, if a call blocks for 60 s."""

    def expired(*_):
        raise TimeoutError("blocked for 60 s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def _special_files(folder):
    """(path, what the message must say) for files that are not regular files."""
    fifo = folder / "photo.png"
    os.mkfifo(fifo)
    link = folder / "link_to_pipe.jpg"
    link.symlink_to(fifo)
    (folder / "a_folder.png").mkdir()
    return [
        (str(fifo), "FIFO"),
        (str(link), "FIFO"),
        ("/dev/zero", "character device"),
        (str(folder / "a_folder.png"), "directory"),
    ]


def _real_image(folder):
    from PIL import Image

    path = folder / "ok.png"
    Image.new("RGB", (6, 6), (200, 10, 10)).save(path)
    return str(path)


@pytest.mark.parametrize("lazy", [False, True])
def test_image_loader_refuses_pipes_and_devices_naming_the_row(tmp_path, alarm, lazy):
    ok = _real_image(tmp_path)
    for path, kind in _special_files(tmp_path):
        loader = ImageLoader(target_size=(4, 4), lazy=lazy, n_jobs=1)
        column = pd.Series([ok, path], name="photo")
        with pytest.raises(ValueError, match=rf"row 1.*{kind}.*not a regular file"):
            np.asarray(loader.fit_transform(column))


def test_image_loader_with_zeros_skips_a_pipe_with_a_warning(tmp_path, alarm):
    ok = _real_image(tmp_path)
    fifo = _special_files(tmp_path)[0][0]
    loader = ImageLoader(target_size=(4, 4), on_error="zeros")
    with pytest.warns(UserWarning, match="row 1"):
        images = loader.fit_transform(pd.Series([ok, fifo]))
    assert images[1].max() == 0 and images[0].max() > 0


def test_auto_pipeline_and_embedder_refuse_pipes_without_blocking(tmp_path, alarm):
    from skmultimodal.auto import make_multimodal_pipeline
    from skmultimodal.embedding import _file_digest

    ok = _real_image(tmp_path)
    special = _special_files(tmp_path)
    for path, kind in special:
        with pytest.raises(ValueError, match=kind):
            _file_digest(path)
    # Image size detection reads headers: a pipe among the sampled paths must not block.
    X = pd.DataFrame({"photo": [ok] * 5 + [special[0][0]], "n": np.arange(6.0)})
    with pytest.raises((FileNotFoundError, ValueError), match="photo|row 5"):
        make_multimodal_pipeline(X, [0, 1] * 3, roles={"photo": "image"})
