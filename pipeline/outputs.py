"""The files of a list year (spec/OUTPUTS.md): areas.csv, areas.parquet, national.json,
manifest.json, written to a temporary folder and moved into place only when all are written.

Formats are fixed so that the same inputs give byte-identical areas.csv and national.json:
booleans `true`/`false`, floats by Python's shortest round-trip repr, empty for null, UTF-8,
`\\n` line ends; JSON with sorted keys and two-space indent.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import shutil
import sys
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl

from pipeline import interrupts
from pipeline.calculate import AREAS_COLUMNS


def format_value(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            return ""
        return repr(v)
    return str(v)


def areas_csv_text(areas: pl.DataFrame) -> str:
    """areas.csv as text: the columns of OUTPUTS.md in order, one row per area sorted by area_id."""
    frame = areas.select(AREAS_COLUMNS).sort("area_id")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(AREAS_COLUMNS)
    for rec in frame.iter_rows():
        writer.writerow([format_value(v) for v in rec])
    return buf.getvalue()


def json_text(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def write_areas(areas: pl.DataFrame, folder: Path) -> None:
    (folder / "areas.csv").write_text(areas_csv_text(areas), encoding="utf-8", newline="")
    areas.select(AREAS_COLUMNS).sort("area_id").write_parquet(folder / "areas.parquet", statistics=False)


def rejected_folder(out_dir: Path, year: int) -> Path:
    """`OUT/rejected/Y/`: the quality report of a run of Y stopped by an error-severity check goes
    here, beside OUT/Y (the last good outputs), not into it."""
    return Path(out_dir) / "rejected" / str(year)


_RENAME_EXCHANGE = 2  # linux/fs.h
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two existing folders in one step (Linux renameat2 with RENAME_EXCHANGE): no moment
    exists, not even if the process is killed, at which neither is in place. False where the
    system or the file system cannot (then the caller renames twice)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    return renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0


def _move_into_place(tmp: Path, final: Path, old: Path) -> None:
    """`tmp` becomes `final`, whose earlier content is removed. Where the folders cannot be swapped
    in one step, `final` is set aside as `old` first, and put back if the second rename fails or is
    interrupted, so that the last good outputs are never lost; Ctrl-C waits for the two renames."""
    if not final.exists():
        os.replace(tmp, final)
        return
    if _exchange(tmp, final):
        shutil.rmtree(tmp, ignore_errors=True)  # now the earlier outputs
        return
    shutil.rmtree(old, ignore_errors=True)
    with _signals_deferred():
        os.replace(final, old)
        try:
            os.replace(tmp, final)
        except BaseException:
            os.replace(old, final)
            raise
    shutil.rmtree(old, ignore_errors=True)


@contextmanager
def _signals_deferred():
    """Ctrl-C and SIGTERM held back until the block ends (main thread only; elsewhere a no-op)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextmanager
def staged_year_folder(out_dir: Path, year: int):
    """Yield a temporary folder next to OUT/Y; on success it replaces OUT/Y in one step (a swap of
    the two folders, see `_move_into_place`).

    On any error the temporary folder is removed and OUT/Y (the last good outputs) is untouched.
    On success the quality report of an earlier stopped run of Y (`OUT/rejected/Y/`) is removed.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # mkdir, not tempfile.mkdtemp: mkdtemp creates the folder 0700 whatever the umask, and the
    # folder becomes OUT/Y, which colleagues and service accounts must be able to read
    tmp = out_dir / f".{year}.tmp-{os.getpid()}-{uuid.uuid4().hex}"
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    final = out_dir / str(year)
    try:
        interrupts.raise_if_interrupted()  # a Ctrl-C Dagster noted and dropped: not published
        _move_into_place(tmp, final, out_dir / f".{year}.old-{os.getpid()}")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    # the report of an earlier stopped run of the year is superseded by what was just published
    rejected = rejected_folder(out_dir, year)
    shutil.rmtree(rejected, ignore_errors=True)
    if rejected.parent.is_dir() and not any(rejected.parent.iterdir()):
        rejected.parent.rmdir()


def publish_year(
    out_dir: Path,
    year: int,
    areas: pl.DataFrame,
    national: dict,
    manifest: dict,
    extra: Callable[[Path], None] | None = None,
) -> Path:
    """Write every file of list year Y atomically; `extra(folder)` adds the workbook, report, quality."""
    with staged_year_folder(out_dir, year) as folder:
        write_areas(areas, folder)
        (folder / "national.json").write_text(json_text(national), encoding="utf-8", newline="")
        if extra is not None:
            extra(folder)
        (folder / "manifest.json").write_text(json_text(manifest), encoding="utf-8", newline="")
    return Path(out_dir) / str(year)
