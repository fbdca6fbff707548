"""The on-disk decode cache of :class:`~skmultimodal.image.ImageLoader` (``cache_dir``).

One file per decoded image, named by a hash of everything that decides its pixels:
the resolved path, the file's size, modification and status-change times (nanoseconds;
the status-change time cannot be set back, so a file rewritten in place with its size and
modification time restored still gets a new key) and inode, the
output size, colour mode, resampling filter, ``keep_aspect_ratio``, ``max_pixels``,
``formats``, Pillow's version and the version of our decoding rules. A changed file
therefore gets a new key (the stale entry is never read again and ages out).

Safe with several processes (loky, Dask workers) sharing one folder: an entry is
written to a temporary file in the folder and renamed into place with
:func:`os.replace`, which is atomic, so a reader sees a whole entry or none; an entry
of the wrong length is ignored. Eviction (oldest modification time first, hits
refresh it) tolerates files that another process removed first, and touches only regular
files named as this cache names its entries and temporary files: other files in the folder
are never deleted. NumPy and the
standard library only.

The size bound costs a scan of the folder (0.1 s for 20,000 entries), so it is not
scanned after every batch that stores entries: each process keeps, per folder, the total
it last saw plus what it stored since, and scans again only when that passes the bound or
is older than ``_RESCAN_SECONDS`` (other processes' writes). A scan also deletes the
temporary files of writers that died before renaming them (older than
``_STALE_TEMP_SECONDS``; a live writer renames within milliseconds).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import threading
import time
from typing import Any

import numpy as np
import PIL

# Bump when a change of image.py's decoding rules changes the pixels of some file.
_DECODE_RULES_VERSION = 1
_SUFFIX = ".u8"
_TEMP_PREFIX = ".tmp-"
# The names this cache writes: a SHA-256 in hex and the suffix; a temporary file's
# random part. Eviction touches nothing else in the folder.
_ENTRY_NAME = re.compile(r"[0-9a-f]{64}" + re.escape(_SUFFIX))
_TEMP_NAME = re.compile(re.escape(_TEMP_PREFIX) + r"[A-Za-z0-9_]{8}")
_RESCAN_SECONDS = 60.0
_STALE_TEMP_SECONDS = 3600.0

# Per folder: (monotonic time of the last scan, entries' bytes then plus stored since).
_SCANS: dict[str, tuple[float, int]] = {}
_SCANS_LOCK = threading.Lock()


class DecodeCounter:
    """Thread-safe count of the images this process decoded from their files
    (cache hits are not counted). Benchmarks read it; nothing else depends on it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.value = 0

    def add(self, n: int) -> None:
        with self._lock:
            self.value += n


#: Images decoded from their files by this process, over every ImageLoader.
DECODES = DecodeCounter()


class DecodeCache:
    """Decoded images of one decoding configuration in ``directory``.

    Parameters
    ----------
    directory : str or os.PathLike
        Created if missing; may be shared by processes and loaders.
    spec_key : str
        Everything but the file that decides the pixels (see the module docstring).
    row_shape : tuple of int
        ``(height, width, channels)`` of one image.
    max_bytes : int or None
        Bound on the folder's entries; None for no bound.
    """

    def __init__(
        self, directory: str | os.PathLike, spec_key: str, row_shape: tuple, max_bytes: int | None
    ) -> None:
        if not os.fspath(directory).strip():
            raise ValueError(
                f"ImageLoader: cache_dir={os.fspath(directory)!r} names no folder (an empty "
                "path would cache into the current directory); pass a folder, or "
                "cache_dir=None for no cache."
            )
        self.directory = os.path.abspath(os.path.expanduser(os.fspath(directory)))
        self.spec_key = f"{spec_key}|pillow={PIL.__version__}|rules={_DECODE_RULES_VERSION}"
        self.row_shape = tuple(row_shape)
        self.row_bytes = int(np.prod(self.row_shape))
        self.max_bytes = max_bytes
        self.stored_bytes = 0  # stored by put() since the last enforce_bound()
        try:
            os.makedirs(self.directory, exist_ok=True)
        except OSError as exc:
            raise OSError(
                exc.errno,
                f"ImageLoader: cannot create cache_dir {self.directory!r}: "
                f"{exc.strerror or exc}. Pass a writable folder, or cache_dir=None.",
            ) from exc

    def key(self, path: str) -> str | None:
        """The entry name for the file at ``path`` now; None if it cannot be stat'ed
        (decoding will then raise the loader's own error)."""
        try:
            real = os.path.realpath(path)
            info = os.stat(real)
        except (OSError, ValueError):
            return None
        # ctime as well: a file rewritten in place with its size and mtime restored
        # (cp -p, rsync -a --inplace, archives) still gets a new ctime, which no user call
        # can set back.
        text = (
            f"{real}|{info.st_size}|{info.st_mtime_ns}|{info.st_ctime_ns}|{info.st_ino}|"
            f"{self.spec_key}"
        )
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest() + _SUFFIX

    def get(self, key: str) -> np.ndarray | None:
        """The cached image, or None (missing, being evicted, or of the wrong length)."""
        entry = os.path.join(self.directory, key)
        try:
            with open(entry, "rb", buffering=0) as file:
                data = file.read(self.row_bytes + 1)
        except OSError:
            return None
        if len(data) != self.row_bytes:
            return None
        try:
            os.utime(entry)  # a hit makes the entry young again (least recently used goes)
        except OSError:
            pass
        return np.frombuffer(data, dtype=np.uint8).reshape(self.row_shape)

    def put(self, key: str, image: np.ndarray) -> None:
        """Store ``image`` under ``key`` atomically. A failed write (full disk, folder
        removed) only loses the entry: the cache is an optimisation."""
        data = np.ascontiguousarray(image, dtype=np.uint8).tobytes()
        try:
            handle, temp = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=self.directory)
        except OSError:
            return
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
            os.replace(temp, os.path.join(self.directory, key))
            self.stored_bytes += len(data)
        except OSError:
            try:
                os.unlink(temp)
            except OSError:
                pass

    @property
    def stored(self) -> bool:
        """Whether entries were stored since the last :meth:`enforce_bound`."""
        return self.stored_bytes > 0

    def enforce_bound(self) -> None:
        """Delete the oldest entries until the folder's entries fit in ``max_bytes``.

        Scans the folder only when this process's running total for it passes the bound
        or is older than ``_RESCAN_SECONDS`` (see the module docstring).
        """
        if self.max_bytes is None:
            return
        stored, self.stored_bytes = self.stored_bytes, 0
        now = time.monotonic()
        with _SCANS_LOCK:
            seen = _SCANS.get(self.directory)
            if seen is not None and now - seen[0] < _RESCAN_SECONDS:
                total = seen[1] + stored
                if total <= self.max_bytes:
                    _SCANS[self.directory] = (seen[0], total)
                    return
        total = self._scan_and_evict()
        if total is not None:
            with _SCANS_LOCK:
                _SCANS[self.directory] = (now, total)

    def _scan_and_evict(self) -> int | None:
        """One scan: drop stale temporary files and the oldest entries over the bound;
        return the entries' bytes left (None if the folder cannot be read)."""
        entries = []
        total = 0
        stale_before = time.time() - _STALE_TEMP_SECONDS
        try:
            with os.scandir(self.directory) as scan:
                for item in scan:
                    try:
                        if not item.is_file(follow_symlinks=False):
                            continue  # a folder, a link, a pipe: not ours
                        if _TEMP_NAME.fullmatch(item.name):
                            if item.stat().st_mtime < stale_before:
                                os.unlink(item.path)  # its writer died before renaming it
                            continue
                        if not _ENTRY_NAME.fullmatch(item.name):
                            continue  # not an entry this cache wrote
                        info = item.stat(follow_symlinks=False)
                    except OSError:  # removed by another process meanwhile
                        continue
                    entries.append((info.st_mtime_ns, item.name, info.st_size))
                    total += info.st_size
        except OSError:
            return None
        if total <= self.max_bytes:
            return total
        entries.sort()
        for _, name, size in entries:
            if total <= self.max_bytes:
                break
            try:
                os.unlink(os.path.join(self.directory, name))
            except FileNotFoundError:
                pass  # another process evicted it first
            except OSError:
                continue
            total -= size
        return total


def spec_key(fields: dict[str, Any]) -> str:
    """A stable text for the decoding options that decide the pixels."""
    return "|".join(f"{name}={fields[name]!r}" for name in sorted(fields))
