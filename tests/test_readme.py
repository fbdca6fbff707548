"""README promises: CI runs README's test command, and the quickstart runs as written."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_ci_runs_readmes_test_command():
    ci_command = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert "pytest" in ci_command
    assert f"```bash\n{ci_command}\n```" in README


def test_quickstart_runs_as_written():
    quickstart = README.split("## Quickstart", 1)[1]
    code = re.search(r"```python\n(.*?)```", quickstart, re.S).group(1)
    namespace = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert set(namespace["search"].best_params_) == {"prep__text__max_words", "clf__head_units"}
    assert namespace["proba"].shape == (1, 2)
