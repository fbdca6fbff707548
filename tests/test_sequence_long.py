"""series_from_long: a long table (one row per id and time step) into one series per id."""

import numpy as np
import pandas as pd
import pytest

from skmultimodal.sequence import SequencePadder, series_from_long


def _long(seed=0):
    """Three ids with 2-4 steps, two measurements, rows shuffled."""
    rows = []
    for key, steps in (("u1", 3), ("u2", 2), ("u3", 4)):
        for t in range(steps):
            rows.append({"user": key, "t": 10 * t, "temp": float(t), "load": 100.0 + t})
    frame = pd.DataFrame(rows)
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def test_each_id_gets_its_steps_in_time_order():
    frame = _long()
    series = series_from_long(frame, "user", "t", ["temp", "load"])
    assert sorted(series.index) == ["u1", "u2", "u3"] and series.index.name == "user"
    for key, steps in (("u1", 3), ("u2", 2), ("u3", 4)):
        expected = np.column_stack([np.arange(steps), 100.0 + np.arange(steps)])
        np.testing.assert_array_equal(series[key], expected)
        assert series[key].dtype == np.float64


def test_every_other_column_is_a_value_by_default_and_order_follows_index():
    frame = _long()
    series = series_from_long(frame, "user", "t", index=["u3", "u1", "u2"])
    assert list(series.index) == ["u3", "u1", "u2"]
    assert series["u3"].shape == (4, 2)
    # Without index: the ids in order of first appearance.
    assert list(series_from_long(frame, "user", "t").index) == list(pd.unique(frame["user"]))


def test_timestamps_order_the_steps():
    frame = pd.DataFrame(
        {
            "id": [1, 1, 1],
            "when": pd.to_datetime(["2026-01-03", "2026-01-01", "2026-01-02"]),
            "x": [3.0, 1.0, 2.0],
        }
    )
    np.testing.assert_array_equal(series_from_long(frame, "id", "when")[1].ravel(), [1, 2, 3])


def test_the_series_feed_the_padder():
    series = series_from_long(_long(), "user", "t", index=["u1", "u2", "u3"])
    X = pd.DataFrame({"sensor": series.to_numpy()})
    padded = SequencePadder(standardize=False).fit_transform(X)
    assert padded.shape == (3, 4, 2)
    assert np.isnan(padded[1, 2:]).all() and not np.isnan(padded[2]).any()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda f: f.drop(columns="t"), r"no column \['t'\]"),
        (lambda f: f.assign(temp=f["temp"].astype(str)), r"column 'temp' holds (object|str)"),
        (lambda f: f.assign(temp=f["temp"].mask(f.index == 4)), r"'temp' is nan for id .* at time"),
        (lambda f: f.assign(t=f["t"].mask(f.index == 2)), r"column 't' is missing at row 2"),
        (lambda f: f.assign(user=f["user"].mask(f.index == 1)), r"'user' is missing at row 1"),
        (lambda f: pd.concat([f, f.iloc[[0]]]), r"id 'u\d' has several rows at time \d+"),
    ],
)
def test_bad_long_tables_are_refused_naming_the_place(damage, message):
    with pytest.raises(ValueError, match=message):
        series_from_long(damage(_long()), "user", "t")


def test_an_id_without_rows_is_named():
    with pytest.raises(ValueError, match=r"1 id\(s\) have no row .*\['u9'\]"):
        series_from_long(_long(), "user", "t", index=["u1", "u9"])


def test_a_table_of_ids_and_times_only_is_refused():
    with pytest.raises(ValueError, match="no value column"):
        series_from_long(_long()[["user", "t"]], "user", "t")
    with pytest.raises(TypeError, match="DataFrame"):
        series_from_long(_long().to_numpy(), "user", "t")
