"""The command line and the demo."""

import io
import subprocess
import sys

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
