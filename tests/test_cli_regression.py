"""The command line on a regression table: task header, target transform, metric report."""

import numpy as np
import pandas as pd
import pytest

from skmultimodal import cli


@pytest.fixture(scope="module")
def houses(tmp_path_factory):
    """houses.csv: rooms, area and an integer price in dollars, as tables hold it. No photo
    column: what is under test is the task, the target transform and the metrics, and a
    CNN branch would only slow every fit down (tests/test_cli.py runs the CLI on images)."""
    root = tmp_path_factory.mktemp("houses")
    rng = np.random.RandomState(0)
    n = 40
    area = np.exp(rng.normal(4.5, 0.4, n))
    rooms = rng.randint(1, 6, n)
    price = np.round(2500 * area * (1 + 0.1 * rooms) * np.exp(rng.normal(0, 0.1, n)), -2)
    frame = pd.DataFrame(
        {
            "rooms": rooms,
            "area": area.round(1),
            "price": price.astype(np.int64),
        }
    )
    frame.to_csv(root / "houses.csv", index=False)
    return root / "houses.csv"


def _run(capsys, *args):
    status = cli.main(["cv", *map(str, args), "--epochs", "1", "--cv", "2"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    return captured.out.splitlines()


def test_integer_prices_are_cross_validated_as_a_log_regression(houses, capsys):
    lines = _run(capsys, houses, "--target", "price")
    # The header counts values; it does not call prices "multiclass" above a regression.
    assert lines[0].endswith("target 'price' (40 distinct values).")
    task = next(line for line in lines if line.startswith("Task: "))
    assert task.startswith(
        "Task: regression with MultiInputKerasRegressor, because 40 distinct whole numbers"
    )
    assert "target transform 'log': the target is positive and right-skewed" in task
    folds = [line for line in lines if line.startswith("  fold ")]
    assert len(folds) == 2
    for line in folds:
        assert line.startswith(("  fold 1/2: r2 ", "  fold 2/2: r2 "))
        for metric in ("MAE ", "MAPE ", "RMSE ", "R2 "):
            assert metric in line.split("|")[1]
        # The primary score is R² as the report gives it.
        r2 = float(line.split(": r2 ")[1].split()[0])
        report = float(line.split("R2 ")[1].split()[0])
        assert report == pytest.approx(r2, abs=1e-3)
    summary = [line for line in lines if line.startswith("  MA") or line.startswith("  R")]
    assert [line.split(":")[0] for line in summary] == ["  MAE", "  MAPE", "  RMSE", "  R2"]
    assert "% +/- " in summary[1]
    assert lines[-1].startswith("r2: ")


def test_task_and_target_transform_can_be_chosen(houses, capsys):
    lines = _run(capsys, houses, "--target", "price", "--target-transform", "none")
    assert "target transform None: --target-transform was given" in "\n".join(lines)
    lines = _run(capsys, houses, "--target", "rooms", "--task", "regression", "--scoring", "r2")
    task = next(line for line in lines if line.startswith("Task: "))
    assert "because task='regression' was given" in task
    assert "target transform 'standard'" in task


def test_classification_reports_four_metrics(houses, capsys):
    lines = _run(capsys, houses, "--target", "rooms")
    task = next(line for line in lines if line.startswith("Task: "))
    assert task.startswith("Task: classification with MultiInputKerasClassifier, because 5")
    fold = next(line for line in lines if line.startswith("  fold 1/2"))
    for metric in ("accuracy ", "balanced_accuracy ", "roc_auc ", "log_loss "):
        assert metric in fold.split("|")[1]
    summary = [line.split(":")[0] for line in lines if line.startswith("  ") and ": " in line]
    assert summary[-4:] == ["  accuracy", "  balanced_accuracy", "  roc_auc", "  log_loss"]


def test_spreads_are_formatted_like_their_means():
    # A price spread gets thousands separators like the mean beside it; small scores
    # keep four significant digits.
    assert cli._number(7271.3, like=51936.2) == "7,271"
    assert cli._number(51936.2) == "51,936"
    assert cli._number(0.03955, like=0.8665) == "0.03955"
