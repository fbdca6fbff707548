"""The command line and the demo."""

import io
import shutil
import subprocess
import sys

import numpy as np
import pytest

from skmultimodal import cli


def test_demo_pipeline_steps_and_unknown_modality():
    pipe = cli.make_demo_pipeline(["series", "text"], series_columns=["t0", "t1"])
    prep = pipe.named_steps["prep"]
    assert [name for name, _, _ in prep.transformers] == ["series", "text"]
    assert prep.transformers[0][1].steps[-1][1].timesteps == 2
    with pytest.raises(ValueError, match=r"Unknown modalities \['audio'\]"):
        cli.make_demo_pipeline(["audio"])


def test_table_is_aligned():
    table = cli._format_table([{"a": "x", "b": "long value"}], ["a", "b"]).splitlines()
    assert table == ["a  b         ", "-  ----------", "x  long value"]


def test_main_passes_quick_defaults(monkeypatch):
    seen = {}
    monkeypatch.setattr(cli, "run_demo", lambda **kwargs: seen.update(kwargs))
    assert cli.main(["demo", "--quick"]) == 0
    assert seen == {"n_samples": 120, "epochs": 5, "cv": 3, "random_state": 0}


@pytest.mark.slow
def test_run_demo_prints_every_model_and_the_grid(monkeypatch):
    out = io.StringIO()
    rows = cli.run_demo(n_samples=40, epochs=1, cv=2, out=out)
    assert [row["model"] for row in rows][1:] == [
        "image only",
        "text only",
        "series only",
        "category only",
    ]
    text = out.getvalue()
    assert "GridSearchCV" in text and "prep__text__max_words" in text


@pytest.mark.slow
def test_module_entry_point_quick_demo():
    result = subprocess.run(
        [sys.executable, "-m", "skmultimodal", "demo", "--quick"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "fused: image + text + series + category" in result.stdout


# ---------------------------------------------------------------------------------------
# cv / fit / predict on a CSV file


@pytest.fixture(scope="module")
def csv_data(tmp_path_factory):
    """data.csv with image paths relative to its folder, and new.csv in another folder whose
    image paths exist only relative to that other folder."""
    from skmultimodal.datasets import make_multimodal_classification

    root = tmp_path_factory.mktemp("csv")
    X, y = make_multimodal_classification(
        40, image_dir=root / "images", n_timesteps=2, image_size=(8, 8), random_state=0
    )
    X["image"] = ["images/" + path.rsplit("/", 1)[-1] for path in X["image"]]
    X.insert(0, "id", np.arange(1000, 1040))
    X["label"] = np.where(y == 1, "good", "bad")
    X.to_csv(root / "data.csv", index=False)

    other = root / "other"
    (other / "pics").mkdir(parents=True)
    new = X.drop(columns="label").head(6).copy()
    for i, name in enumerate(new["image"]):
        (other / "pics" / f"new_{i}.png").write_bytes((root / name).read_bytes())
    new["image"] = [f"pics/new_{i}.png" for i in range(6)]
    new.to_csv(other / "new.csv", index=False)
    return root


ONE_EPOCH = ["--epochs", "1"]


def test_cv_prints_roles_folds_and_mean(csv_data, capsys):
    assert (
        cli.main(["cv", str(csv_data / "data.csv"), "--target", "label", "--cv", "2", *ONE_EPOCH])
        == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (
        f"Read {csv_data / 'data.csv'}: 40 rows, 6 feature columns; "
        "target 'label' (2 distinct values)."
    )
    assert "  id        ignore       unique integer per row (an id)" in lines
    assert "  image     image        40 paths to existing .png files" in lines
    assert "  category  categorical  4 categories" in lines
    folds = [line for line in lines if line.startswith("  fold ")]
    assert [line.split(":")[0] for line in folds] == ["  fold 1/2", "  fold 2/2"]
    assert "(20 train / 20 test rows," in folds[0]
    scores = [float(line.split("accuracy ")[1].split()[0]) for line in folds]
    assert lines[-1] == (
        f"accuracy: {sum(scores) / 2:.3f} +/- {abs(scores[0] - scores[1]) / 2:.3f} "
        "(mean +/- std over 2 folds)"
    )


def test_fit_then_predict_from_another_folder(csv_data, tmp_path, capsys):
    import pandas as pd
    import skops.io as sio

    from skmultimodal.auto import describe_roles
    from skmultimodal.persistence import trusted_types

    model = tmp_path / "model.skops"
    args = ["fit", str(csv_data / "data.csv"), "--target", "label", "-o", str(model), *ONE_EPOCH]
    assert cli.main([*args, "--role", "category=text"]) == 0
    assert f"saved to {model}." in capsys.readouterr().out
    pipe = sio.load(model, trusted=trusted_types())
    assert describe_roles(pipe)["category"] == "text"
    assert pipe.named_steps["clf"].epochs == 1

    predictions = tmp_path / "predictions.csv"
    new_csv = csv_data / "other" / "new.csv"
    assert cli.main(["predict", str(model), str(new_csv), "-o", str(predictions)]) == 0
    assert capsys.readouterr().out == f"Wrote 6 predictions to {predictions}.\n"
    result = pd.read_csv(predictions)
    assert result.columns.tolist() == ["prediction", "proba_bad", "proba_good"]
    np.testing.assert_allclose(result[["proba_bad", "proba_good"]].sum(axis=1), 1.0, rtol=1e-6)
    expected = np.where(result["proba_good"] > 0.5, "good", "bad")
    assert result["prediction"].tolist() == expected.tolist()
    # The same rows, read with paths relative to the training file, give the same output.
    same_rows = pd.read_csv(csv_data / "data.csv").head(6)
    pipe.named_steps["prep"].transformers_[0][1].base_dir = str(csv_data)
    np.testing.assert_allclose(pipe.predict_proba(same_rows)[:, 1], result["proba_good"], rtol=1e-5)

    # Without -o the predictions go to stdout.
    assert cli.main(["predict", str(model), str(new_csv)]) == 0
    assert capsys.readouterr().out.replace("\r\n", "\n") == predictions.read_text()

    # --id copies key columns first, so the rows can be joined back by key.
    keyed = tmp_path / "keyed.csv"
    args = ["predict", str(model), str(new_csv), "-o", str(keyed), "--id", "category"]
    assert cli.main(args) == 0
    capsys.readouterr()
    with_ids = pd.read_csv(keyed)
    assert with_ids.columns.tolist() == ["category", "prediction", "proba_bad", "proba_good"]
    assert with_ids["category"].tolist() == pd.read_csv(new_csv)["category"].tolist()
    pd.testing.assert_frame_equal(with_ids.drop(columns="category"), result)
    assert cli.main(["predict", str(model), str(new_csv), "--id", "nope"]) == 2
    assert "--id 'nope':" in capsys.readouterr().err
    assert cli.main(["predict", str(model), str(new_csv), "--id", "prediction"]) == 2


def test_fit_writes_plots(csv_data, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    from PIL import Image

    plots = tmp_path / "plots"
    args = ["fit", str(csv_data / "data.csv"), "--target", "label", "--epochs", "2"]
    args += ["-o", str(tmp_path / "m.skops"), "--validation-split", "0.25", "--plots", str(plots)]
    assert cli.main(args) == 0
    with Image.open(plots / "history.png") as image:
        assert image.format == "PNG" and image.size[0] > 400 and image.size[1] > 200
    if (plots / "model.png").exists():
        with Image.open(plots / "model.png") as image:
            assert image.size[0] > 400 and image.size[1] > 400
    else:
        assert "Total params" in (plots / "model.txt").read_text(encoding="utf-8")


def _write(path, content: bytes):
    path.write_bytes(content)
    return str(path)


@pytest.mark.parametrize(
    ("make_args", "message"),
    [
        (
            lambda d, t: ["cv", str(t / "nope.csv"), "--target", "label"],
            "nope.csv' does not exist.",
        ),
        (
            lambda d, t: ["cv", _write(t / "bin.csv", b"\xff\xfe\x00\x81abc"), "--target", "x"],
            "Cannot read",
        ),
        (
            lambda d, t: ["fit", _write(t / "ragged.csv", b"a,b\n1,2\n3,4,5,6\n"), "--target", "a"],
            "Expected 2 fields in line 3, saw 4",
        ),
        (lambda d, t: ["cv", _write(t / "e.csv", b""), "--target", "a"], "e.csv' is empty."),
        (lambda d, t: ["cv", _write(t / "h.csv", b"a,b\n"), "--target", "a"], "no rows"),
        (
            lambda d, t: ["cv", str(d / "data.csv"), "--target", "lbl"],
            "Target column 'lbl' is not in",
        ),
        (
            lambda d, t: ["cv", str(d / "data.csv"), "--target", "label", "--role", "x=text"],
            "Override for column 'x', which is not in X",
        ),
        (
            lambda d, t: ["cv", str(d / "data.csv"), "--target", "label", "--cv", "1"],
            "--cv must be at least 2",
        ),
        (
            lambda d, t: ["predict", str(d / "data.csv"), str(d / "data.csv")],
            "is not a model file written by 'fit'",
        ),
        (
            lambda d, t: ["cv", str(d / "data.csv"), "--target", "label", "--role", "text"],
            "--role expects COLUMN=ROLE",
        ),
        (
            lambda d, t: ["cv", str(d / "data.csv"), "--target", "label", "--role", "t0=blob"],
            "Override for column 't0' is 'blob'; expected one of ['image', 'text', 'vector',",
        ),
        (
            lambda d, t: ["fit", str(d / "data.csv"), "--target", "label", "--role", "t0=image"],
            "Column 't0' has the role 'image', but row 0 holds",
        ),
        (
            lambda d, t: ["cv", str(d / "data.csv"), "--target", "label", "--role", "text=image"],
            "Column 'text' has the role 'image', but row 0: 'arrived useless product",
        ),
        (
            lambda d, t: ["fit", str(d / "data.csv"), "--target", "label", "-o", str(t)],
            "is a folder; give a file name.",
        ),
        (
            lambda d, t: ["fit", str(d / "data.csv"), "--target", "label", "-o", "/no/dir/m"],
            "The folder of the output file '/no/dir/m' does not exist.",
        ),
        (
            lambda d, t: ["fit", str(d / "data.csv"), "--target", "label", "--plots", __file__],
            "--plots folder",
        ),
        (
            lambda d, t: ["predict", str(d / "data.csv"), str(d / "data.csv"), "-o", "/no/x.csv"],
            "The folder of the output file '/no/x.csv' does not exist.",
        ),
        (
            lambda d, t: ["cv", str(d / "data.csv"), "--target", "label", "--image-formats", "EX"],
            "--image-formats: unknown image formats ['EX']",
        ),
    ],
)
def test_input_errors_are_one_line_with_status_2(csv_data, tmp_path, capsys, make_args, message):
    assert cli.main(make_args(csv_data, tmp_path)) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert captured.err.startswith("skmultimodal ")
    assert message in captured.err
    assert "Fitting" not in captured.out


def test_missing_image_in_the_csv_is_reported(csv_data, tmp_path, capsys):
    text = (csv_data / "data.csv").read_text().replace("images/image_05.png", "images/gone.png")
    (tmp_path / "images").symlink_to(csv_data / "images")
    (tmp_path / "data.csv").write_text(text)
    assert cli.main(["cv", str(tmp_path / "data.csv"), "--target", "label"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("skmultimodal cv: error: Column 'image' looks like image paths")
    assert "row 5: 'images/gone.png' is not an existing file" in err
    assert "--role image=ignore" in err


def test_predict_refuses_untrusted_types(tmp_path, capsys):
    from pathlib import PurePosixPath

    import skops.io as sio

    sio.dump({"path": PurePosixPath("x")}, tmp_path / "odd.skops")
    (tmp_path / "x.csv").write_text("a\n1\n")
    assert cli.main(["predict", str(tmp_path / "odd.skops"), str(tmp_path / "x.csv")]) == 2
    err = capsys.readouterr().err
    assert "holds types that skmultimodal does not trust: ['pathlib.PurePosixPath']" in err


def test_main_passes_plots_to_the_demo(monkeypatch, tmp_path):
    pytest.importorskip("matplotlib")
    seen = {}
    monkeypatch.setattr(cli, "run_demo", lambda **kwargs: seen.update(kwargs))
    assert cli.main(["demo", "--quick", "--plots", str(tmp_path)]) == 0
    assert seen["plots"] == str(tmp_path)


def test_missing_image_path_needs_image_errors_zeros(csv_data, tmp_path, capsys):
    text = (csv_data / "data.csv").read_text().replace("images/image_05.png", "")
    shutil.copytree(csv_data / "images", tmp_path / "images")
    (tmp_path / "data.csv").write_text(text)
    assert cli.main(["cv", str(tmp_path / "data.csv"), "--target", "label"]) == 2
    err = capsys.readouterr().err
    assert "Image column 'image' has 1 missing paths (first at row 5" in err
    assert "--image-errors zeros" in err
    assert "--missing mask" in err


def test_missing_mask_cross_validates_rows_without_an_image_or_text(csv_data, tmp_path, capsys):
    import pandas as pd

    frame = pd.read_csv(csv_data / "data.csv")
    frame.loc[::5, "image"] = None
    frame.loc[1::5, "text"] = None
    shutil.copytree(csv_data / "images", tmp_path / "images")
    frame.to_csv(tmp_path / "data.csv", index=False)
    args = ["cv", str(tmp_path / "data.csv"), "--target", "label", "--cv", "2", *ONE_EPOCH]
    assert cli.main([*args, "--missing", "mask"]) == 0
    assert "fold 2" in capsys.readouterr().out


def test_image_paths_outside_the_csv_folder_are_refused_before_training(csv_data, capsys):
    # new.csv's folder holds pics/; paths into the training folder's images/ leave it.
    import pandas as pd

    frame = pd.read_csv(csv_data / "data.csv")
    frame["image"] = "../" + frame["image"]
    (csv_data / "other" / "outside.csv").write_text(frame.to_csv(index=False))
    args = ["fit", str(csv_data / "other" / "outside.csv"), "--target", "label", *ONE_EPOCH]
    assert cli.main(args) == 2
    captured = capsys.readouterr()
    assert "Column 'image', row 0: image path '../images/image_00.png' resolves to" in captured.err
    assert "outside the folder of the CSV file" in captured.err
    assert "--allow-any-path" in captured.err and "Fitting" not in captured.out


def test_fit_and_predict_confine_image_loaders(csv_data, tmp_path, capsys):
    import pandas as pd

    model = tmp_path / "model.skops"
    args = ["fit", str(csv_data / "data.csv"), "--target", "label", "-o", str(model), *ONE_EPOCH]
    pipe = cli.run_fit(
        csv_data / "data.csv", "label", model, epochs=1, image_formats="png", out=io.StringIO()
    )
    loader = pipe.named_steps["prep"].named_transformers_["image"]
    assert (loader.restrict_to_base_dir, loader.formats) == (True, ["PNG"])
    assert loader.base_dir == str(csv_data)
    assert cli.main(args) == 0
    loader = next(cli._image_loaders(cli._load_model(model)))
    assert loader.formats == list(cli.SAFE_IMAGE_FORMATS)

    # A CSV file naming absolute paths outside its folder: refused at predict unless allowed.
    frame = pd.read_csv(csv_data / "other" / "new.csv")
    frame["image"] = [str(csv_data / "other" / path) for path in frame["image"]]
    (tmp_path / "sub").mkdir()
    outside = tmp_path / "sub" / "outside.csv"
    frame.to_csv(outside, index=False)
    capsys.readouterr()
    assert cli.main(["predict", str(model), str(outside)]) == 2
    err = capsys.readouterr().err
    assert "outside base_dir" in err and "(pass --allow-any-path if you trust" in err
    assert cli.main(["predict", str(model), str(outside), "--allow-any-path"]) == 0
    capsys.readouterr()
    args = ["predict", str(model), str(outside), "--allow-any-path", "--image-formats", "GIF"]
    assert cli.main(args) == 2
    assert "(widen them with --image-formats)" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cv", "1"], "--cv must be at least 2, got 1."),
        (["--epochs", "-1"], "--epochs must be at least 1, got -1."),
        (["--n-samples", "4"], "--n-samples must be at least 10 per fold (30 for --cv 3), got 4."),
    ],
)
def test_demo_arguments_are_checked_before_the_demo(monkeypatch, capsys, args, message):
    monkeypatch.setattr(cli, "run_demo", lambda **kwargs: pytest.fail("demo ran"))
    assert cli.main(["demo", "--quick", *args]) == 2
    assert capsys.readouterr().err == f"skmultimodal demo: error: {message}\n"


def test_missing_image_at_predict_points_to_image_errors():
    error = ValueError(
        "ImageLoader: row 2: the image path is missing (None); expected a file "
        "path (on_error='zeros' loads a blank image instead)"
    )
    assert cli._one_line(error).endswith(
        "(on the command line: fit with --missing mask or --image-errors zeros)"
    )
    error = PermissionError(13, "Permission denied", "/x/model.skops")
    assert cli._one_line(error) == "[Errno 13] Permission denied: '/x/model.skops'"


def test_unreadable_csv_is_one_line(monkeypatch, tmp_path, capsys):
    import pandas as pd

    def refuse(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(pd, "read_csv", refuse)
    csv = _write(tmp_path / "locked.csv", b"a,b\n1,2\n")
    assert cli.main(["cv", csv, "--target", "a"]) == 2
    assert capsys.readouterr().err == (
        f"skmultimodal cv: error: Cannot read CSV file {csv!r}: permission denied.\n"
    )


def test_predict_refuses_a_crafted_model_of_trusted_types(tmp_path, capsys):
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from skmultimodal.persistence import save
    from skmultimodal.text import TextTokenizer

    tokenizer = TextTokenizer(max_len=5).fit(["a b c", "d e"])
    tokenizer.max_len_ = 10**11
    save(Pipeline([("text", tokenizer), ("scale", StandardScaler())]), tmp_path / "m.skops")
    (tmp_path / "new.csv").write_text("text\nhello there\n")
    status = cli.main(["predict", str(tmp_path / "m.skops"), str(tmp_path / "new.csv")])
    err = capsys.readouterr().err
    assert status == 2
    assert "m.skops' is refused: " in err and "max_len_" in err
    assert len(err.strip().splitlines()) == 1


def test_fit_ensemble_reports_members_confines_loaders_and_predicts_elsewhere(
    csv_data, tmp_path, capsys
):
    model = tmp_path / "ensemble.skops"
    args = ["fit", str(csv_data / "data.csv"), "--target", "label", "-o", str(model)]
    assert cli.main([*args, *ONE_EPOCH, "--ensemble"]) == 0
    printed = capsys.readouterr().out
    assert "Task: classification with MultimodalEnsembleClassifier" in printed
    assert "Fitting MultimodalEnsembleClassifier" in printed
    for member in ("network", "tfidf_linear[text]", "pixels_linear[image]", "ensemble"):
        assert member in printed
    loaded = cli._load_model(model)
    loaders = list(cli._image_loaders(loaded))
    assert loaders and all(loader.restrict_to_base_dir for loader in loaders)
    # new.csv: other folder, no label column, image paths relative to that folder.
    assert cli.main(["predict", str(model), str(csv_data / "other" / "new.csv")]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "prediction,proba_bad,proba_good" and len(lines) == 7
    # The training CSV itself (with its label column) predicts too: extra columns ignored.
    assert cli.main(["predict", str(model), str(csv_data / "data.csv")]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 41
    assert cli.main([*args, "--ensemble", "--plots", str(tmp_path / "p")]) == 2
    assert "--plots draws one network's training history" in capsys.readouterr().err


def test_set_reads_literals_text_and_routed_parameters():
    settings = cli.parse_settings(
        ["dropout=0.3", "image_pooling=avg", "head_units=(32,)", "optimizer__learning_rate=3e-3"]
    )
    assert settings == {
        "dropout": 0.3,
        "image_pooling": "avg",
        "head_units": (32,),
        "optimizer__learning_rate": 0.003,
    }
    with pytest.raises(cli.CommandError, match=r"'dropuot' is not a parameter.*mean dropout\?"):
        cli.parse_settings(["dropuot=0.3"])
    with pytest.raises(cli.CommandError, match="expected NAME=VALUE"):
        cli.parse_settings(["dropout"])


def test_cv_passes_set_to_the_network(csv_data, monkeypatch, capsys):
    from skmultimodal import auto

    seen = {}

    original = auto.make_multimodal_pipeline

    def spy(*args, **kwargs):
        seen.update(kwargs["model_params"])
        return original(*args, **kwargs)

    monkeypatch.setattr(auto, "make_multimodal_pipeline", spy)  # cli imports it per call
    argv = ["cv", str(csv_data / "data.csv"), "--target", "label", "--cv", "2", *ONE_EPOCH]
    assert cli.main([*argv, "--set", "tabular_units=3", "--set", "head_units=()"]) == 0
    assert seen["tabular_units"] == 3 and seen["head_units"] == ()
    assert cli.main([*argv, "--set", "tabular_unit=3"]) == 2
    assert "Did you mean tabular_units?" in capsys.readouterr().err
