"""The figures in README.md and docs/ are those of recorded runs (benchmarks/RESULTS.md).

Every three-decimal figure (an accuracy, an R², a ratio) of the prose and tables must occur
in ``benchmarks/RESULTS.md``. A table or paragraph may name its runs in a comment before
it, ``<!-- figures: "Heading", "Other heading" -->``: each figure of that block must then
occur in one of those sections. A whole heading (``"Model quality: fused
(2026-12-07 12:01 UTC)"``) names that run; the start of one, up to its date or colon
(``"Model quality: fused"``, ``"Fusion suite, round 3"``), names the latest run of that
title, so that a newer run of the same command, with other figures, fails here until the
page follows it. Reads files only.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RESULTS = (ROOT / "benchmarks" / "RESULTS.md").read_text()
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FIGURE = re.compile(r"(?<![\w.])\d\.\d{3}(?!\d)")
SOURCES = re.compile(r"<!--\s*figures:\s*(.*?)\s*-->")
CODE = re.compile(r"^```.*?^```", re.S | re.M)


def sections() -> list:
    """``(heading, text)`` of every ``##`` section of RESULTS.md, in file order."""
    parts = re.split(r"^## ", RESULTS, flags=re.M)[1:]
    return [(part.split("\n", 1)[0].strip(), part) for part in parts]


def named_section(name: str) -> str:
    """The section headed ``name``, or the latest whose title starts with ``name``
    followed by its date or a colon (``"Fusion suite, round 3"``)."""
    found = [text for heading, text in sections() if heading == name]
    if not found:
        found = [
            text for heading, text in sections() if heading.startswith((name + " (", name + ":"))
        ]
    assert found, f"benchmarks/RESULTS.md has no section {name!r}"
    return found[-1]


def blocks_with_sources(path: Path):
    """(line number, names, block text) for each ``<!-- figures: ... -->`` comment: the
    block is what follows it up to the next blank line after some text."""
    lines = path.read_text().splitlines()
    for number, line in enumerate(lines):
        match = SOURCES.search(line)
        if not match:
            continue
        names = re.findall(r'"([^"]+)"', match.group(1))
        block, started = [], False
        for following in lines[number + 1 :]:
            if not following.strip():
                if started:
                    break
                continue
            started = True
            block.append(following)
        yield number + 1, names, "\n".join(block)


def figures(text: str) -> set:
    return set(FIGURE.findall(CODE.sub("", text)))


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_figure_is_recorded(path):
    assert sorted(f for f in figures(path.read_text()) if f not in RESULTS) == []


CITED = [
    (path, number, names, block)
    for path in PAGES
    for number, names, block in blocks_with_sources(path)
]


@pytest.mark.parametrize(
    "path, number, names, block",
    CITED,
    ids=[f"{p.relative_to(ROOT).as_posix()}:{n}" for p, n, _, _ in CITED],
)
def test_a_cited_block_holds_the_figures_of_its_runs(path, number, names, block):
    assert names, f"{path.name}:{number}: name the runs in double quotes"
    recorded = "\n".join(named_section(name) for name in names)
    assert figures(block), f"{path.name}:{number}: the comment cites no figure"
    assert sorted(f for f in figures(block) if f not in recorded) == []


def test_the_results_page_cites_its_runs():
    assert len([c for c in CITED if c[0].name == "results.md"]) >= 3
