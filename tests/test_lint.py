"""The code follows the project's lint and format rules (ruff, configured in pyproject.toml).

Run here so that CI, which runs README's test command, also runs the linter.
"""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PATHS = ["src", "tests", "benchmarks", "examples"]


@pytest.mark.parametrize(
    "command", [["check"], ["format", "--check"]], ids=["ruff check", "ruff format --check"]
)
def test_ruff(command):
    result = subprocess.run(
        [sys.executable, "-m", "ruff", *command, *PATHS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, (
        f"ruff {' '.join(command)} failed:\n{result.stdout}{result.stderr}"
    )


def _top_level_names(path: Path) -> set:
    import ast

    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def test_benchmarks_import_names_their_siblings_define():
    """A benchmark script imports helpers from its siblings (``from bench_quality import
    ...``); a helper moved elsewhere must not leave a script that fails at its first line
    (read, not imported: the scripts start TensorFlow)."""
    import ast

    folder = ROOT / "benchmarks"
    scripts = {path.stem: path for path in folder.glob("*.py")}
    missing = []
    for path in scripts.values():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module in scripts:
                defined = _top_level_names(scripts[node.module])
                missing += [
                    f"{path.name}: {node.module}.{alias.name}"
                    for alias in node.names
                    if alias.name not in defined
                ]
    assert missing == []
