"""Unique names for steps, model inputs and output layers: one rule for the whole library."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence


def unique_names(names: Sequence[str], taken: Iterable[str] = (), sep: str = "_") -> list[str]:
    """``names`` made unique, as scikit-learn's ``make_pipeline`` names repeated steps.

    A name that occurs once and is not ``taken`` stays as it is; every occurrence of a
    repeated name, and a name that is ``taken``, gets the next free number: ``name-1``,
    ``name-2``... (with ``sep="-"``), skipping numbered names that already exist.

    Parameters
    ----------
    names : sequence of str
        The wanted names, in order.
    taken : iterable of str, default=()
        Names already used elsewhere (e.g. the model's input names).
    sep : str, default="_"
        Between the name and its number: ``"-"`` as in scikit-learn's step names,
        ``"_"`` where the names become Keras layer names.

    Returns
    -------
    list of str
        One name per input name, all different and none in ``taken``.

    Examples
    --------
    >>> unique_names(["scaler", "text", "scaler"], sep="-")
    ['scaler-1', 'text', 'scaler-2']
    >>> unique_names(["text", "label"], taken={"text"})
    ['text_1', 'label']
    """
    taken = set(taken)
    counts = Counter(names)
    kept = {name for name in names if counts[name] == 1 and name not in taken}
    used = taken | kept
    last: dict[str, int] = {}
    result = []
    for name in names:
        if name in kept:
            result.append(name)
            continue
        number = last.get(name, 0) + 1
        while f"{name}{sep}{number}" in used:
            number += 1
        last[name] = number
        used.add(f"{name}{sep}{number}")
        result.append(f"{name}{sep}{number}")
    return result
