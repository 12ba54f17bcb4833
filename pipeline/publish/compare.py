"""`boliglister compare OUT_A OUT_B --year Y`: what changes between two runs of the same list
year (typically two boundary versions): which areas change list membership, how much each
criterion moves (percentage points, B − A), how many residents move, and which areas exist in
only one of the runs (split or merged areas)."""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
from rich.table import Table

from pipeline.errors import InputError
from pipeline.publish.common import LIST_KEYS, read_areas_csv

# value column -> (output column, factor): shares and the income ratio in percentage points,
# the conviction ratio (a multiple of the national share) as a plain difference.
DELTAS = (
    ("labour_share", "labour_share_pp", 100.0),
    ("conviction_share", "conviction_share_pp", 100.0),
    ("conviction_ratio", "conviction_ratio_change", 1.0),
    ("basic_edu_share", "basic_edu_share_pp", 100.0),
    ("income_ratio", "income_ratio_pp", 100.0),
    ("nonwestern_share", "nonwestern_share_pp", 100.0),
)

COMPARE_SCHEMA: dict[str, pl.DataType] = {
    "area_id": pl.String(),
    "area_name": pl.String(),
    "kom": pl.Int64(),
    "presence": pl.String(),  # both | only_a | only_b
    "lists_a": pl.String(),  # list keys, comma-separated, in LIST_KEYS order ("" = none)
    "lists_b": pl.String(),
    "joined": pl.String(),  # lists in B and not in A
    "left": pl.String(),  # lists in A and not in B
    "membership_changed": pl.Boolean(),
    "residents_a": pl.Int64(),
    "residents_b": pl.Int64(),
    "residents_change": pl.Int64(),
    "eligible_a": pl.Boolean(),  # residents ≥ the rule set's minimum on 1 January Y
    "eligible_b": pl.Boolean(),
    **{out: pl.Float64() for _, out, _ in DELTAS},
    "n_criteria_a": pl.Int64(),
    "n_criteria_b": pl.Int64(),
}

_COMPARED = ("residents", "eligible", *LIST_KEYS, *(c for c, _, _ in DELTAS), "n_criteria",
             "years_on_parallel_list", "development_plan")


def _read(out_dir: Path, year: int) -> pl.DataFrame:
    path = Path(out_dir) / str(year) / "areas.csv"
    try:
        df = read_areas_csv(path)
    except InputError as err:
        raise InputError(err.problem, file=err.file, column=err.column, year=year) from err
    wrong = int((df["list_year"] != year).sum())
    if wrong:
        raise InputError(f"{wrong} row(s) are for another list year", file=str(path), column="list_year", year=year)
    return df


def _lists(row: dict | None) -> list[str]:
    return [] if row is None else [k for k in LIST_KEYS if row[k]]


def compare_runs(out_a: Path, out_b: Path, year: int) -> pl.DataFrame:
    """Compare `OUT_A/Y/areas.csv` with `OUT_B/Y/areas.csv`.

    One row per area that differs between the runs (membership, residents, any criterion value
    or flag) or exists in only one of them; identical areas are left out. Changes are B − A.
    Sorted: membership changes first, then areas in only one run, then the rest; by area_id.
    """
    a = {r["area_id"]: r for r in _read(out_a, year).to_dicts()}
    b = {r["area_id"]: r for r in _read(out_b, year).to_dicts()}
    out = []
    for aid in sorted(a.keys() | b.keys()):
        ra, rb = a.get(aid), b.get(aid)
        if ra is not None and rb is not None and all(ra[c] == rb[c] for c in _COMPARED):
            continue
        la, lb = _lists(ra), _lists(rb)
        ref = rb if rb is not None else ra
        row = {
            "area_id": aid,
            "area_name": ref["area_name"],
            "kom": ref["kom"],
            "presence": "both" if ra is not None and rb is not None else ("only_a" if rb is None else "only_b"),
            "lists_a": ",".join(la),
            "lists_b": ",".join(lb),
            "joined": ",".join(k for k in lb if k not in la),
            "left": ",".join(k for k in la if k not in lb),
            "membership_changed": la != lb,
            "residents_a": None if ra is None else ra["residents"],
            "residents_b": None if rb is None else rb["residents"],
        }
        row["residents_change"] = (
            None if ra is None or rb is None else rb["residents"] - ra["residents"]
        )
        row["eligible_a"] = None if ra is None else ra["eligible"]
        row["eligible_b"] = None if rb is None else rb["eligible"]
        for col, name, factor in DELTAS:
            va = None if ra is None else ra[col]
            vb = None if rb is None else rb[col]
            row[name] = None if va is None or vb is None else round((vb - va) * factor, 6) + 0.0
        row["n_criteria_a"] = None if ra is None else ra["n_criteria"]
        row["n_criteria_b"] = None if rb is None else rb["n_criteria"]
        out.append(row)
    out.sort(key=lambda r: (not r["membership_changed"], r["presence"] == "both", r["area_id"]))
    return pl.DataFrame(out, schema=COMPARE_SCHEMA, orient="row") if out else pl.DataFrame(schema=COMPARE_SCHEMA)


def write_compare(df: pl.DataFrame, path: Path) -> None:
    """The comparison as CSV (UTF-8, header, booleans true/false, empty for null)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    df.write_csv(tmp, line_terminator="\n", null_value="")
    os.replace(tmp, path)


def _signed(x: float | int | None, decimals: int) -> str:
    if x is None:
        return ""
    if isinstance(x, int):
        return f"{x:+,d}" if x else "0"
    s = f"{x:+.{decimals}f}"
    return s.replace("+", "").replace("-", "") if float(s) == 0 else s


_SHORT = {"vulnerable": "vuln", "parallel": "par", "transformation": "trans", "prevention": "prev",
          "combined_letting": "comb"}


def _short_lists(lists: str) -> str:
    return " ".join(_SHORT[k] for k in lists.split(",") if k) or "-"


def _residents_cell(r: dict) -> str:
    """The residents' change (or count, for an area in one run only), and an eligibility change:
    an area crossing the minimum gains or loses every criterion value at once."""
    if r["presence"] != "both":
        return str(r["residents_a"] if r["presence"] == "only_a" else r["residents_b"])
    text = _signed(r["residents_change"], 0)
    if r["eligible_a"] != r["eligible_b"]:
        text += " (now eligible)" if r["eligible_b"] else " (no longer eligible)"
    return text


def format_compare(df: pl.DataFrame) -> Table:
    """A rich Table of the comparison for the terminal."""
    moved = int(df["membership_changed"].sum()) if df.height else 0
    only_a = int((df["presence"] == "only_a").sum()) if df.height else 0
    only_b = int((df["presence"] == "only_b").sum()) if df.height else 0
    table = Table(
        title=f"Areas that differ between run A and run B (B − A): {moved} change list membership, "
              f"{only_a} only in A, {only_b} only in B",
        title_justify="left",
        caption="C1 labour, C2 convicted, C3 basic education, C4 income (% of region), C5 non-western: "
                "change in percentage points; C2× = change of the multiple of the national share. "
                "Lists: vuln(erable), par(allel), trans(formation), prev(ention), comb(ined letting).",
        caption_justify="left",
    )
    for head, justify in (
        ("Area", "left"), ("Kom", "right"), ("In", "left"), ("Lists A", "left"), ("Lists B", "left"),
        ("Res. Δ", "right"), ("C1 pp", "right"), ("C2 pp", "right"), ("C2×", "right"),
        ("C3 pp", "right"), ("C4 pp", "right"), ("C5 pp", "right"),
    ):
        table.add_column(head, justify=justify, overflow="fold")
    presence = {"both": "A+B", "only_a": "A", "only_b": "B"}
    for r in df.iter_rows(named=True):
        style = "bold" if r["membership_changed"] else None
        table.add_row(
            f"{r['area_name']} ({r['area_id']})",
            str(r["kom"]),
            presence[r["presence"]],
            _short_lists(r["lists_a"]),
            _short_lists(r["lists_b"]),
            _residents_cell(r),
            _signed(r["labour_share_pp"], 1),
            _signed(r["conviction_share_pp"], 1),
            _signed(r["conviction_ratio_change"], 2),
            _signed(r["basic_edu_share_pp"], 1),
            _signed(r["income_ratio_pp"], 1),
            _signed(r["nonwestern_share_pp"], 1),
            style=style,
        )
    return table


def default_compare_path(out_a: Path, out_b: Path, year: int) -> Path:
    """`OUT_B/compare/Y/compare_<name of OUT_A>.csv`: beside run B's outputs, not inside `OUT_B/Y/`,
    which the next `run` of that year replaces whole (a comparison written there was deleted by
    it); the same pattern as `OUT/check/Y/` and `OUT/rejected/Y/`."""
    return Path(out_b) / "compare" / str(year) / f"compare_{Path(out_a).resolve().name}.csv"


def run_compare(out_a: Path, out_b: Path, year: int, csv_path: Path, console=None) -> Path:
    """What `boliglister compare` does: compare, print the table, write the CSV; returns its path."""
    import sys

    from rich.console import Console

    df = compare_runs(out_a, out_b, year)
    # a terminal: its own width; a pipe or file: wide enough for the whole table
    console = console or (Console() if sys.stdout.isatty() else Console(width=160))
    console.print(format_compare(df))
    write_compare(df, csv_path)
    return Path(csv_path)
