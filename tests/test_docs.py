"""The documentation holds together: links resolve, the index is complete, README stays short.

Reads files only (no skmultimodal, no TensorFlow import), so it runs in well under a second.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
MARKDOWN_FILES = [README, *sorted(DOCS.rglob("*.md"))]
README_MAX_LINES = 150

# What the repository is made of, for the checks on names that must not appear.
SCANNED = ["src", "tests", "benchmarks", "docs", "examples", ".ci", "README.md", "pyproject.toml"]
BINARY_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".pyc"}
# Built from parts, so that this file does not mention them itself.
RETIRED_DOCS = ["DESIGN" + ".md", "STYLE" + ".md"]
SHARED_FOLDER = "shared" + "/"

FENCE = re.compile(r"^(```|~~~)")
# [text](target) and ![alt](target); the target ends at whitespace or ")".
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def prose_lines(path: Path):
    """(line number, line) of a Markdown file, outside fenced code blocks."""
    in_fence = False
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if FENCE.match(line.lstrip()):
            in_fence = not in_fence
            continue
        if not in_fence:
            yield number, line


def links(path: Path):
    """(line number, target) of every Markdown link in a file, code blocks excluded."""
    lines = path.read_text().splitlines()
    prose = dict(prose_lines(path))
    # Code blocks become empty lines: a link's text may still run over a line break.
    text = "\n".join(prose.get(number, "") for number in range(1, len(lines) + 1))
    for match in LINK.finditer(text):
        yield text.count("\n", 0, match.start()) + 1, match.group(1)


def is_external(target: str) -> bool:
    return re.match(r"^[a-z][a-z0-9+.-]*:", target) is not None


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lowercase, punctuation dropped, spaces to '-'."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set:
    found, seen = set(), {}
    for _, line in prose_lines(path):
        match = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not match:
            continue
        anchor = github_anchor(match.group(1))
        count = seen.get(anchor, 0)
        seen[anchor] = count + 1
        found.add(anchor if count == 0 else f"{anchor}-{count}")
    return found


def relative_links():
    for path in MARKDOWN_FILES:
        for number, target in links(path):
            if not is_external(target):
                yield pytest.param(path, number, target, id=f"{relative(path)}:{number}:{target}")


@pytest.mark.parametrize(("path", "number", "target"), list(relative_links()))
def test_relative_link_resolves(path, number, target):
    where = f"{relative(path)}:{number}: link {target!r}"
    file_part, _, anchor = target.partition("#")
    linked = (path.parent / file_part).resolve() if file_part else path
    assert linked.exists(), f"{where}: {file_part!r} does not exist"
    assert linked.is_relative_to(ROOT), f"{where} leaves the repository"
    if anchor and linked.suffix == ".md":
        assert anchor in anchors(linked), (
            f"{where}: {relative(linked)} has no heading with the anchor #{anchor}"
        )


def test_the_docs_have_links_to_check():
    # A broken link pattern would make the test above vacuous.
    assert len(list(relative_links())) > 30


def test_index_lists_every_docs_page():
    index = DOCS / "index.md"
    listed = {(index.parent / target.partition("#")[0]).resolve() for _, target in links(index)}
    pages = {page.resolve() for page in DOCS.rglob("*.md") if page != index}
    missing = sorted(relative(page) for page in pages - listed)
    assert not missing, f"docs/index.md does not link {missing}"


def test_readme_is_a_short_front_page():
    n_lines = len(README.read_text().splitlines())
    assert n_lines <= README_MAX_LINES, (
        f"README.md has {n_lines} lines, more than {README_MAX_LINES}: move the details to "
        "docs/user_guide/ and link them"
    )


def repository_files():
    for name in SCANNED:
        path = ROOT / name
        candidates = [path] if path.is_file() else sorted(path.rglob("*"))
        for candidate in candidates:
            if (
                candidate.is_file()
                and candidate.suffix not in BINARY_SUFFIXES
                and "__pycache__" not in candidate.parts
            ):
                yield candidate


def mentions(text: str, word: str):
    """Line numbers of ``text`` that mention ``word``."""
    return [n for n, line in enumerate(text.splitlines(), start=1) if word in line]


def test_no_file_mentions_retired_documents():
    offending = []
    for path in repository_files():
        text = path.read_text(errors="replace")
        for name in RETIRED_DOCS:
            offending += [f"{relative(path)}:{n} mentions {name}" for n in mentions(text, name)]
    assert not offending, "retired documents are still mentioned: " + "; ".join(offending)


def test_only_benchmarks_mention_the_shared_folder():
    offending = []
    for path in repository_files():
        if relative(path).startswith("benchmarks/"):
            continue
        lines = mentions(path.read_text(errors="replace"), SHARED_FOLDER)
        offending += [f"{relative(path)}:{n}" for n in lines]
    assert not offending, (
        f"only benchmarks/ may name the {SHARED_FOLDER!r} folder outside the repository: "
        + "; ".join(offending)
    )
