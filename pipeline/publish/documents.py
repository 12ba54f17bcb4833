"""The documents of a published list year, lists.xlsx and report.html, from the year's data.

They take about a second of pure Python (matplotlib, xlsxwriter). The publication can find them
ready: while the list year's data-quality suites run in the GX worker process (submitted all at
once, so this process has nothing to do but wait), the check `areas_quality` has them drawn
(`prepare`) into a private temporary folder, and the publication `take`s them if, and only if,
its own inputs are exactly the ones they were drawn from (a digest over all of them). Otherwise,
and whenever anything went wrong, the publication draws them itself, as without preparation.
Nothing prepared reaches the output folder except through the publication (after every check
passed); what is not taken is removed at exit.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

DOCUMENTS = ("lists.xlsx", "report.html")


@dataclass(frozen=True)
class DocumentInputs:
    """Everything the two documents are drawn from (areas-level aggregates and public
    boundaries only)."""

    list_year: int
    ruleset: str
    areas: pl.DataFrame
    prev: pl.DataFrame | None
    counts: pl.DataFrame
    national: dict
    parcels: pl.DataFrame
    prev_lists: tuple[str, ...] | None = None  # the lists `prev` knows (None: all)

    def digest(self) -> str:
        h = hashlib.sha256()
        h.update(f"{self.list_year}\0{self.ruleset}\0{self.prev_lists}\0".encode())
        for frame in (self.areas, self.prev, self.counts, self.parcels):
            h.update(b"\0none\0" if frame is None else frame.write_csv().encode() + b"\0")
        h.update(json.dumps(self.national, sort_keys=True, default=str).encode())
        return h.hexdigest()


def read_inputs(con: duckdb.DuckDBPyConnection, list_year: int) -> DocumentInputs | None:
    """The inputs of list year Y's documents from the warehouse; None when the year was not
    computed with the boundary version in use."""
    from pipeline import calculate

    areas = calculate.stored_areas(con, list_year)
    if areas is None:
        return None
    national = calculate.national_of(con, list_year)
    prev, prev_lists = calculate.previous_lists(con, list_year)
    return DocumentInputs(
        list_year=list_year,
        ruleset=national["ruleset"],
        areas=areas,
        prev=prev,
        prev_lists=prev_lists,
        counts=calculate.list_counts_over_years(con, list_year),
        national=national,
        parcels=con.sql("select area_id, ejerlavskode, matrikelnr from stg_parcels order by all").pl(),
    )


def _write_workbook(*args, **kwargs) -> None:
    """pipeline.publish.workbook.write_workbook, imported where it runs (in the GX worker, this
    process needs neither xlsxwriter nor the workbook module)."""
    from pipeline.publish.workbook import write_workbook

    write_workbook(*args, **kwargs)


def render(inputs: DocumentInputs, folder: Path, *, beside: bool = True) -> None:
    """Write lists.xlsx and report.html into `folder`. With `beside`, the workbook goes to the GX
    worker process (when one runs) while this process draws the report."""
    from pipeline.publish.report import write_report
    from pipeline.quality import gx_runner

    i = inputs
    workbook = (Path(folder) / "lists.xlsx", i.areas, i.prev, i.parcels, i.list_year, i.ruleset)
    kw = {"parameters": i.national["parameters"], "prev_lists": i.prev_lists}
    pending = gx_runner.submit(_write_workbook, *workbook, **kw) if beside else None
    write_report(Path(folder) / "report.html", i.areas, i.prev, i.counts, i.national, i.list_year, i.ruleset,
                 prev_lists=i.prev_lists)  # fmt: skip
    if pending is None:
        _write_workbook(*workbook, **kw)
    else:
        pending.result()


_prepared: dict[int, tuple[str, Path]] = {}


def prepare(inputs: DocumentInputs) -> None:
    """Draw list year Y's documents now, into a private temporary folder, for the publication to
    take (replaces an earlier preparation of the same year). A failure leaves nothing prepared:
    the publication then draws them itself and reports the error."""
    discard(inputs.list_year)
    folder = Path(tempfile.mkdtemp(prefix=f"boliglister-{inputs.list_year}-documents-"))
    try:
        render(inputs, folder)  # the workbook in the worker once the suites are done
    except Exception:  # noqa: BLE001
        shutil.rmtree(folder, ignore_errors=True)
        return
    _prepared[inputs.list_year] = (inputs.digest(), folder)


def take(inputs: DocumentInputs, folder: Path) -> bool:
    """Move the prepared documents of `inputs` into `folder`: True when they were drawn from
    exactly these inputs, else False (nothing moved; the caller draws them)."""
    entry = _prepared.pop(inputs.list_year, None)
    if entry is None:
        return False
    digest, prepared = entry
    try:
        if digest != inputs.digest():
            return False
        for name in DOCUMENTS:
            shutil.move(str(prepared / name), str(Path(folder) / name))
        return True
    finally:
        shutil.rmtree(prepared, ignore_errors=True)


def discard(list_year: int) -> None:
    entry = _prepared.pop(list_year, None)
    if entry is not None:
        shutil.rmtree(entry[1], ignore_errors=True)


@atexit.register
def discard_all() -> None:
    """Remove whatever was prepared and not taken (a run stopped before its publication)."""
    for year in list(_prepared):
        discard(year)
