"""What the benchmark scripts share (not a benchmark itself): the ``--results`` and
``--no-append`` options, timing loops, markdown tables and appending a section to
``benchmarks/RESULTS.md`` with the command that produced it."""

from __future__ import annotations

import argparse
import ast
import os
import platform
import shlex
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")


# -- options ------------------------------------------------------------------------------
def add_results_options(parser: argparse.ArgumentParser, results: bool = True) -> None:
    """``--results PATH`` (where to append; off with ``results=False``) and ``--record``:
    a run writes nothing unless asked. ``--no-append``, the former opposite, is accepted
    and changes nothing, so that the commands recorded in RESULTS.md still run."""
    if results:
        parser.add_argument("--results", type=Path, default=RESULTS, help="append here")
    add_record_option(parser)


def add_record_option(parser: argparse.ArgumentParser) -> None:
    """``--record`` (append the tables to RESULTS.md) and the no-op ``--no-append``."""
    parser.add_argument("--record", action="store_true", help="append the tables to RESULTS.md")
    parser.add_argument("--no-append", action="store_true", help=argparse.SUPPRESS)


# -- timing -------------------------------------------------------------------------------
def parse_overrides(pairs: list[str]) -> dict:
    """``["epochs=60", "sequence_cell=conv"]`` -> ``{"epochs": 60, "sequence_cell": "conv"}``.

    A value is read as a Python literal when it is one, else kept as text.
    """
    overrides = {}
    for pair in pairs:
        name, _, text = pair.partition("=")
        try:
            overrides[name] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            overrides[name] = text
    return overrides


def best_times(methods: dict, repeats: int):
    """Best wall and CPU seconds of each method; repeats interleave the methods so that load
    from other processes on the machine hits them all alike. Returns (wall, cpu, outputs)
    with the last output of each method."""
    wall = dict.fromkeys(methods, float("inf"))
    cpu = dict.fromkeys(methods, float("inf"))
    outputs = {}
    for _ in range(repeats):
        for name, function in methods.items():
            start_wall, start_cpu = time.perf_counter(), time.process_time()
            outputs[name] = function()
            wall[name] = min(wall[name], time.perf_counter() - start_wall)
            cpu[name] = min(cpu[name], time.process_time() - start_cpu)
    return wall, cpu, outputs


def interleaved(methods: dict, repeats: int, warmup: int = 0, random_state=0) -> dict:
    """Call every method once per round, in a new random order each round (so that no method
    always follows the same one), after ``warmup`` untimed rounds; return
    {name: (wall times, cpu times)}."""
    import numpy as np

    for _ in range(warmup):
        for function in methods.values():
            function()
    rng = np.random.default_rng(random_state)
    names = list(methods)
    times = {name: ([], []) for name in methods}
    for _ in range(repeats):
        for name in rng.permutation(names):
            wall, cpu = time.perf_counter(), time.process_time()
            methods[name]()
            times[name][1].append(time.process_time() - cpu)
            times[name][0].append(time.perf_counter() - wall)
    return times


def time_runs(function, repeats: int):
    """The wall times of ``repeats`` calls of ``function`` and its last result."""
    times = []
    result = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return times, result


# -- reporting ----------------------------------------------------------------------------
def table(header: list[str], rows: list[list], align: str | None = None) -> list[str]:
    """A markdown table's lines. ``align`` is one letter per column, ``l`` or ``r``
    (default: all left)."""
    align = align or "l" * len(header)
    rule = "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|"
    return [
        "| " + " | ".join(header) + " |",
        rule,
        *["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows],
    ]


def print_lines(*blocks: list[str]) -> None:
    """Print blocks of lines with an empty line between blocks."""
    for index, block in enumerate(blocks):
        if index:
            print()
        for line in block:
            print(line)


def bullets(lines: list[str]) -> list[str]:
    return [f"- {line}" for line in lines]


def environment(*modules, shared: bool = False) -> str:
    """Platform, CPU count, Python and the ``__version__`` of each given module."""
    cpus = f"{os.cpu_count()} CPUs" + (" (shared)" if shared else "")
    versions = "".join(f", {module.__name__} {module.__version__}" for module in modules)
    return f"{platform.platform()}, {cpus}, Python {platform.python_version()}{versions}"


def command_line(script: str, argv: list[str] | None = None, env: str = "") -> str:
    """How to run ``script`` (a benchmarks/ file's ``__file__``) again with these arguments
    (the process's own when ``argv`` is None)."""
    arguments = sys.argv[1:] if argv is None else argv
    prefix = f"{env} " if env else ""
    return f"{prefix}python benchmarks/{Path(script).name} {shlex.join(arguments)}".strip()


def append_section(path: Path | str, title: str, command: str, body: list[str]) -> None:
    """Append ``## title (UTC time)``, the command and ``body`` (lines) to ``path``."""
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    section = ["", f"## {title} ({stamp})", "", f"Command: `{command}`", "", *body, ""]
    with Path(path).open("a", encoding="utf-8") as results:
        results.write("\n".join(section))
    print(f"appended to {path}")


def record(args, script: str, argv: list[str] | None, title: str, body: list[str]) -> None:
    """append_section to ``args.results`` with the command that ran ``script``, when
    ``--record`` was given."""
    if args.record:
        append_section(args.results, title, command_line(script, argv), body)


# -- models -------------------------------------------------------------------------------
def quickstart_pipeline(image_size=(16, 16), epochs: int = 5, random_state=0):
    """The README Quickstart's pipeline on make_multimodal_classification's columns (a small
    image + text + series + category model), unfitted."""
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from skmultimodal.compose import MultiInputTransformer
    from skmultimodal.estimators import MultiInputKerasClassifier
    from skmultimodal.image import ImageLoader
    from skmultimodal.sequence import TimeStepReshaper
    from skmultimodal.text import TextTokenizer

    series = [f"t{i}" for i in range(8)]
    prep = MultiInputTransformer(
        [
            ("image", ImageLoader(target_size=tuple(image_size)), "image"),
            ("text", TextTokenizer(max_words=50), "text"),
            ("series", make_pipeline(StandardScaler(), TimeStepReshaper(timesteps=8)), series),
            ("meta", OneHotEncoder(sparse_output=False), ["category"]),
        ]
    )
    clf = MultiInputKerasClassifier(
        image_filters=(8,),
        text_embedding_dim=8,
        text_units=8,
        sequence_units=8,
        tabular_units=4,
        epochs=epochs,
        random_state=random_state,
    )
    return Pipeline([("prep", prep), ("clf", clf)])
