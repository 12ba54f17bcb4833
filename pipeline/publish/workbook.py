"""`OUT/Y/lists.xlsx`: the publication workbook (METHOD.md § 7).

One sheet per list of the rule set (Danish names of the year), a sheet of the areas that left
each list since last year, a sheet with the parcels of every listed area, and a short sheet that
explains the criteria. Written with xlsxwriter with a fixed creation date, so the same inputs
give the same bytes.
"""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path

import polars as pl
import xlsxwriter

from pipeline.publish.common import (
    partial_prev_note,
    previous_members,
    ShownColumn,
    base_ruleset,
    criteria_for,
    departure_reason,
    lists_of,
    met_criteria,
    met_text,
    min_residents_of,
    municipality_names,
    normalise_areas,
    on_list,
    shown_columns,
)

SHEET_LEFT = "Udgået siden sidste år"
SHEET_PARCELS = "Matrikler"
SHEET_ABOUT = "Forklaring"

H_KOM = "Kommune"
H_AREA = "Boligområde"
H_RES = "Beboere"
H_MET = "Opfyldte kriterier"
H_NEW = "Ny på listen"
H_YEARS = "År på listen"
H_ID = "Område-id"
H_LIST = "Liste"
H_REASON = "Årsag"
H_LISTS = "Lister"
H_EJERLAV = "Ejerlavskode"
H_MATR = "Matrikelnr."

NO_PREV = "Forrige års lister indgår ikke i denne kørsel: ingen sammenligning."
NONE_LEFT = "Ingen områder har forladt listerne siden sidste år."

_NUM_FMT = {"pct": "0.0%", "ratio": "0.00", "int": "#,##0"}
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def sheet_name(name: str) -> str:
    """An Excel-valid sheet name (max 31 characters, none of []:*?/\\)."""
    return _BAD_SHEET_CHARS.sub("-", name)[:31]


def _natural_key(s: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", s or ""))


def _sorted_rows(df: pl.DataFrame, names: dict[int, str]) -> list[dict]:
    rows = df.to_dicts()
    rows.sort(key=lambda r: (names.get(r["kom"], str(r["kom"])).lower(), (r["area_name"] or "").lower(), r["area_id"]))
    return rows


class _Sheet:
    """A worksheet with a header row, column formats and widths fitted to the content."""

    def __init__(self, wb: xlsxwriter.Workbook, name: str, formats: dict, columns: list[tuple[str, str]]):
        self.ws = wb.add_worksheet(sheet_name(name))
        self.formats = formats
        self.columns = columns  # (heading, kind: text|int|pct|ratio)
        self.widths = [min(max(len(h) for h in _words(head)) + 2, 40) for head, _ in columns]
        self.row = 1
        for c, (head, _) in enumerate(columns):
            self.ws.write_string(0, c, head, formats["header"])

    def add(self, values: list) -> None:
        for c, ((_, kind), v) in enumerate(zip(self.columns, values, strict=True)):
            if v is None:
                self.ws.write_blank(self.row, c, None, self.formats[kind])
                continue
            if kind == "text":
                self.ws.write_string(self.row, c, str(v), self.formats["text"])
                shown = str(v)
            else:
                self.ws.write_number(self.row, c, v, self.formats[kind])
                shown = f"{v * 100:.1f} %" if kind == "pct" else f"{v:,.2f}" if kind == "ratio" else f"{v:,}"
            self.widths[c] = min(max(self.widths[c], len(shown) + 2), 60)
        self.row += 1

    def note(self, text: str) -> None:
        self.ws.write_string(self.row, 0, text, self.formats["note"])
        self.row += 1

    def finish(self) -> None:
        for c, w in enumerate(self.widths):
            self.ws.set_column(c, c, w)
        self.ws.set_row(0, 48)
        self.ws.freeze_panes(1, 0)
        if self.row > 1:
            self.ws.autofilter(0, 0, self.row - 1, len(self.columns) - 1)


def _words(heading: str) -> list[str]:
    return heading.split() or [""]


def _criterion_columns(shown: tuple[ShownColumn, ...]) -> list[tuple[str, str]]:
    return [(c.heading, c.kind) for c in shown]


def write_workbook(
    path: Path,
    areas: pl.DataFrame,
    prev_areas: pl.DataFrame | None,
    parcels: pl.DataFrame,
    list_year: int,
    ruleset: str,
    *,
    municipalities: pl.DataFrame | None = None,
    parameters: dict | None = None,
    prev_lists: tuple[str, ...] | None = None,
) -> None:
    """Write the publication workbook for list year `list_year`.

    `parameters`: the rule set the year was computed with (national.json's), whose thresholds
    are shown; by default those of the shipped rule set named `ruleset`.

    `areas`: the year's areas (columns of areas.csv); `prev_areas`: last year's areas of the same
    run, or None when last year was not computed (then no area is marked new and the departures
    sheet says so); `prev_lists`: the lists `prev_areas` knows (None: all; last year taken from
    the history file knows only its lists), the others are not compared; `parcels`: `area_id,
    ejerlavskode, matrikelnr` of the boundary version in use.
    """
    path = Path(path)
    areas = normalise_areas(areas)
    prev = normalise_areas(prev_areas) if prev_areas is not None else None
    names = municipality_names(municipalities)
    lists = lists_of(ruleset, list_year)
    base = base_ruleset(ruleset, list_year)

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    wb = xlsxwriter.Workbook(str(tmp), {"strings_to_numbers": False, "strings_to_formulas": False,
                                        "strings_to_urls": False})
    wb.set_properties({
        "title": f"Boliglister {list_year}",
        "subject": f"Lister over almene boligområder, listeår {list_year}, regelsæt {ruleset}",
        "author": "boliglister",
        "company": "",
        "created": datetime(list_year, 12, 1),
    })
    fmt = {
        "header": wb.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DDE5EE",
                                 "bottom": 1}),
        "text": wb.add_format({"valign": "top"}),
        "int": wb.add_format({"num_format": _NUM_FMT["int"], "valign": "top"}),
        "pct": wb.add_format({"num_format": _NUM_FMT["pct"], "valign": "top"}),
        "ratio": wb.add_format({"num_format": _NUM_FMT["ratio"], "valign": "top"}),
        "note": wb.add_format({"italic": True}),
        "title": wb.add_format({"bold": True, "font_size": 14}),
    }

    prev_members = previous_members(prev, lists, prev_lists)
    # --- one sheet per list
    for key, danish in lists:
        crits = criteria_for(ruleset, list_year, key, parameters)
        shown = shown_columns(crits)
        cols = [(H_KOM, "text"), (H_AREA, "text"), (H_RES, "int"), *_criterion_columns(shown),
                (H_MET, "text"), (H_NEW, "text")]
        with_years = key in ("parallel", "transformation")
        if with_years:
            cols.append((H_YEARS, "int"))
        cols.append((H_ID, "text"))
        sheet = _Sheet(wb, danish, fmt, cols)
        for r in _sorted_rows(areas.filter(pl.col(key)), names):
            new = (None if prev_members is None or key not in prev_members
                   else ("Ja" if r["area_id"] not in prev_members[key] else "Nej"))
            values = [names.get(r["kom"], str(r["kom"])), r["area_name"], r["residents"],
                      *[r[c.column] for c in shown],
                      met_text(met_criteria(r, ruleset, list_year, key, parameters)), new]
            if with_years:
                values.append(r["years_on_parallel_list"])
            values.append(r["area_id"])
            sheet.add(values)
        if sheet.row == 1:
            sheet.note("Ingen områder på listen.")
        sheet.finish()

    # --- areas that left each list since last year
    main = criteria_for(ruleset, list_year, "vulnerable", parameters)
    main_shown = shown_columns(main)
    cols = [(H_LIST, "text"), (H_KOM, "text"), (H_AREA, "text"), (H_RES, "int"),
            *_criterion_columns(main_shown), (H_MET, "text"), (H_REASON, "text"), (H_ID, "text")]
    sheet = _Sheet(wb, SHEET_LEFT, fmt, cols)
    if prev is None:
        sheet.note(NO_PREV)
    else:
        current = {r["area_id"]: r for r in areas.to_dicts()}
        for key, danish in lists:
            if key not in prev_members:
                continue
            gone_ids = prev_members[key] - on_list(areas, key)
            gone = prev.filter(pl.col("area_id").is_in(sorted(gone_ids)))
            for p in _sorted_rows(gone, names):
                r = current.get(p["area_id"])
                if r is None:
                    sheet.add([danish, names.get(p["kom"], str(p["kom"])), p["area_name"], None,
                               *[None for _ in main_shown], None, departure_reason(key, None), p["area_id"]])
                    continue
                reason = departure_reason(key, r, min_residents_of(parameters))
                met = met_text(met_criteria(r, ruleset, list_year, key, parameters)) if r["eligible"] else None
                sheet.add([danish, names.get(r["kom"], str(r["kom"])), r["area_name"], r["residents"],
                           *[r[c.column] for c in main_shown], met, reason, r["area_id"]])
        if sheet.row == 1:
            sheet.note(NONE_LEFT)
        if len(prev_members) < len(lists):
            sheet.row += 1
            sheet.note(partial_prev_note(list_year, [d for k, d in lists if k in prev_members]))
    sheet.finish()

    # --- parcels of every listed area
    listed: dict[str, list[str]] = {}
    for key, danish in lists:
        for aid in sorted(on_list(areas, key)):
            listed.setdefault(aid, []).append(danish)
    info = {r["area_id"]: r for r in areas.filter(pl.col("area_id").is_in(sorted(listed))).to_dicts()}
    prow = [
        p for p in parcels.select(
            pl.col("area_id").cast(pl.String), pl.col("ejerlavskode").cast(pl.Int64),
            pl.col("matrikelnr").cast(pl.String),
        ).to_dicts()
        if p["area_id"] in listed
    ]
    prow.sort(key=lambda p: (
        names.get(info[p["area_id"]]["kom"], "").lower(), (info[p["area_id"]]["area_name"] or "").lower(),
        p["area_id"], p["ejerlavskode"], _natural_key(p["matrikelnr"]),
    ))
    cols = [(H_KOM, "text"), (H_AREA, "text"), (H_LISTS, "text"), (H_EJERLAV, "int_plain"),
            (H_MATR, "text"), (H_ID, "text")]
    fmt["int_plain"] = wb.add_format({"num_format": "0", "valign": "top"})
    sheet = _Sheet(wb, SHEET_PARCELS, fmt, cols)
    for p in prow:
        a = info[p["area_id"]]
        sheet.add([names.get(a["kom"], str(a["kom"])), a["area_name"], ", ".join(listed[p["area_id"]]),
                   p["ejerlavskode"], p["matrikelnr"], p["area_id"]])
    if not listed:
        sheet.note("Ingen områder på listerne.")
    without = len(set(listed) - {p["area_id"] for p in prow})
    if without:
        sheet.note(f"{without} listede områder har ingen matrikler i den anvendte områdeafgrænsning.")
    sheet.finish()

    # --- explanation
    ws = wb.add_worksheet(SHEET_ABOUT)
    ws.set_column(0, 0, 48)
    ws.set_column(1, 1, 28)
    ws.write_string(0, 0, f"Lister over almene boligområder {list_year}", fmt["title"])
    ws.write_string(1, 0, f"Regelsæt {ruleset}" + ("" if ruleset == base else f" (lister som regelsæt {base})"))
    r = 3
    ws.write_string(r, 0, "Liste", fmt["header"])
    ws.write_string(r, 1, "Antal områder", fmt["header"])
    for key, danish in lists:
        r += 1
        ws.write_string(r, 0, danish)
        ws.write_number(r, 1, len(on_list(areas, key)), fmt["int"])
    r += 2
    ws.write_string(r, 0, "Kriterium", fmt["header"])
    ws.write_string(r, 1, "Tærskel", fmt["header"])
    shown = [("vulnerable", main)]
    if any(k == "prevention" for k, _ in lists):
        shown.append(("prevention", criteria_for(ruleset, list_year, "prevention", parameters)))
    for key, crits in shown:
        for c in crits:
            r += 1
            label = c.heading + (" (forebyggelsesområder)" if key == "prevention" else "")
            ws.write_string(r, 0, label)
            ws.write_string(r, 1, c.threshold_text())
    notes = [
        "Procenter vises med én decimal. Om et kriterium er opfyldt, er afgjort på de eksakte tal, ikke på den viste værdi.",
        "Indkomst: områdets gennemsnitlige bruttoindkomst i procent af regionens (15-64-årige, ekskl. studerende).",
        "Dømte: andel dømte 18+ år (gennemsnit af to år)"
        + (", og samme andel i forhold til landsgennemsnittet (tærsklen gælder forholdet)."
           if base != "2014" else "."),
        f"Ny på listen: området var ikke på samme liste i {list_year - 1}.",
        "År på listen: antal år i træk på ghetto-/parallelsamfundslisten.",
    ]
    if any(k == "prevention" for k, _ in lists):
        notes.append("Forebyggelsesområder: de opfyldte kriterier er forebyggelseslistens egne tærskler.")
    r += 2
    for n in notes:
        ws.write_string(r, 0, n)
        r += 1
    ws.set_row(0, 20)

    wb.close()
    os.replace(tmp, path)


__all__ = ["write_workbook", "sheet_name"]
