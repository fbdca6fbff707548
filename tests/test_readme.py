"""README promises: CI runs README's test command, and the quickstart runs as written."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()

# The quickstart with smaller numbers, for the default run: 12 fits of 200 rows and 5 epochs
# become 5 fits of 40 rows and 1 epoch (cross_val_score on 2 folds, one grid candidate on 2
# folds, the refit). Every import, step, parameter name and call is still README's own; the
# code exactly as written runs in test_quickstart_runs_as_written (marked slow).
SMALLER_NUMBERS = [
    ("n_samples=200", "n_samples=40"),
    ("epochs=5", "epochs=1"),
    ("cv=3", "cv=2"),
    ('"prep__text__max_words": [10, 50]', '"prep__text__max_words": [10]'),
    ('"clf__head_units": [(), (16,)]', '"clf__head_units": [(16,)]'),
]


def quickstart_code():
    quickstart = README.split("## Quickstart", 1)[1]
    return re.search(r"```python\n(.*?)```", quickstart, re.S).group(1)


def run_quickstart(code):
    namespace = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert set(namespace["search"].best_params_) == {"prep__text__max_words", "clf__head_units"}
    assert namespace["proba"].shape == (1, 2)


def test_ci_runs_readmes_test_command():
    ci_command = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert "pytest" in ci_command
    assert f"```bash\n{ci_command}\n```" in README


@pytest.mark.slow
def test_quickstart_runs_as_written():
    run_quickstart(quickstart_code())


def test_quickstart_runs_with_smaller_numbers():
    code = quickstart_code()
    for written, smaller in SMALLER_NUMBERS:
        assert code.count(written) == 1, f"the quickstart changed: update {written!r} here"
        code = code.replace(written, smaller)
    run_quickstart(code)
