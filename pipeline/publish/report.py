"""`OUT/Y/report.html`: one self-contained page (inline CSS and SVG charts, no script, no URL)
with the year's lists and charts: each listed area's criteria against the thresholds, the number
of areas on each list over the years run, and the areas moving on and off the lists."""

from __future__ import annotations

import os
from pathlib import Path

import jinja2
import polars as pl

from pipeline.publish import charts
from pipeline.publish.common import (
    partial_prev_note,
    previous_members,
    CRITERIA,
    LIST_KEYS,
    LIST_LABELS_ALL_YEARS,
    RULESET_LISTS,
    base_ruleset,
    criteria_for,
    departure_reason,
    fmt_int,
    fmt_num,
    fmt_pct,
    lists_of,
    met_criteria,
    met_text,
    min_residents_of,
    municipality_names,
    normalise_areas,
    on_list,
    region_names,
    ruleset_in_force,
    shown_columns,
    year_ranges,
)

TEMPLATES = Path(__file__).parent / "templates"


def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )


def _value_text(crit, v) -> str:
    if v is None:
        return ""
    return fmt_pct(v) if crit.kind == "pct" else fmt_num(v, 2)


def _list_existed(key: str, year: int, n: int) -> bool:
    if year < 2014:  # lists before 2014 exist only as history rows
        return n > 0
    return key in dict(RULESET_LISTS[ruleset_in_force(year)]) or n > 0


def _counts_series(counts: pl.DataFrame, areas: pl.DataFrame, list_year: int, lists) -> dict:
    """{list key: [(year, n), ...]} from the years run, completed with this year from `areas`
    when the caller's table does not have it yet."""
    rows = [] if counts is None else counts.select(
        pl.col("list_year").cast(pl.Int64), pl.col("list").cast(pl.String), pl.col("n").cast(pl.Int64)
    ).to_dicts()
    current = {k for k, _ in lists}
    rows = [r for r in rows if r["list_year"] != list_year or r["list"] in current or r["list"] not in LIST_KEYS]
    if not any(r["list_year"] == list_year for r in rows):
        rows += [{"list_year": list_year, "list": k, "n": len(on_list(areas, k))} for k, _ in lists]
    # a list that did not exist in a year (its flag is false there) is left out, not drawn as 0
    rows = [r for r in rows if r["list"] not in LIST_KEYS or _list_existed(r["list"], r["list_year"], r["n"])]
    order = {k: i for i, k in enumerate(LIST_LABELS_ALL_YEARS)}
    series: dict[str, list[tuple[int, int]]] = {}
    for r in sorted(rows, key=lambda r: (order.get(r["list"], 99), r["list"], r["list_year"])):
        series.setdefault(r["list"], []).append((r["list_year"], r["n"]))
    return series


def write_report(
    path: Path,
    areas: pl.DataFrame,
    prev_areas: pl.DataFrame | None,
    counts_over_years: pl.DataFrame,  # list_year, list, n[, source]  (calculate.list_counts_over_years)
    national: dict,
    list_year: int,
    ruleset: str,
    *,
    municipalities: pl.DataFrame | None = None,
    prev_lists: tuple[str, ...] | None = None,
) -> None:
    """Write `report.html` for list year `list_year`. Only aggregates of areas appear.
    `prev_lists`: the lists `prev_areas` knows (None: all), as in write_workbook."""
    path = Path(path)
    areas = normalise_areas(areas)
    prev = normalise_areas(prev_areas) if prev_areas is not None else None
    names = municipality_names(municipalities)
    regions = region_names(municipalities)
    lists = lists_of(ruleset, list_year)
    base = base_ruleset(ruleset, list_year)
    parameters = national.get("parameters")  # the rule set the year was computed with
    main = criteria_for(ruleset, list_year, "vulnerable", parameters)
    has_prev_list = any(k == "prevention" for k, _ in lists)
    prevention = criteria_for(ruleset, list_year, "prevention", parameters) if has_prev_list else None
    label_of = dict(lists)

    def kom(r: dict) -> str:
        return names.get(r["kom"], str(r["kom"]))

    def order(r: dict) -> tuple:
        return (kom(r).lower(), (r["area_name"] or "").lower(), r["area_id"])

    rows_all = areas.to_dicts()
    current = {r["area_id"]: r for r in rows_all}
    min_res = min_residents_of(parameters)
    prev_members = previous_members(prev, lists, prev_lists)

    # --- the lists as tables
    tables = []
    for key, danish in lists:
        shown = shown_columns(criteria_for(ruleset, list_year, key, parameters))
        trs = []
        for r in sorted((r for r in rows_all if r[key]), key=order):
            met = set(met_criteria(r, ruleset, list_year, key, parameters))
            trs.append({
                "kom": kom(r), "name": r["area_name"], "residents": fmt_int(r["residents"]),
                "cells": [{"text": _value_text(c, r[c.column]), "met": c.key in met} for c in shown],
                "met": met_text([k for k in CRITERIA if k in met]),
                "new": None if prev_members is None or key not in prev_members else r["area_id"] not in prev_members[key],
                "years": r["years_on_parallel_list"] if key in ("parallel", "transformation") else None,
            })
        tables.append({
            "key": key, "name": danish, "rows": trs,
            "headings": [c.heading for c in shown],
            "thresholds": [c.threshold for c in shown],
            "with_years": key in ("parallel", "transformation"),
        })

    # --- movements on and off each list
    moves, move_lists = [], []
    if prev is not None:
        for key, danish in lists:
            if key not in prev_members:
                continue
            now = on_list(areas, key)
            before = prev_members[key]
            new = sorted((current[a] for a in now - before), key=order)
            prev_rows = {r["area_id"]: r for r in prev.to_dicts()}
            left = sorted((prev_rows[a] for a in before - now), key=order)
            moves.append((key, danish, len(now & before), len(new), len(left)))
            move_lists.append({
                "name": danish,
                "new": [f"{r['area_name']} ({kom(r)})" for r in new],
                "left": [f"{r['area_name']} ({kom(r)}): {departure_reason(key, current.get(r['area_id']), min_res).lower()}"
                         for r in left],
            })

    # --- charts
    group_labels = {k: label_of.get(k, LIST_LABELS_ALL_YEARS[k]) for k in charts.LIST_RANK}
    listed = []
    for r in sorted(rows_all, key=order):
        group = next((k for k in charts.LIST_RANK if k in label_of and r[k]), None)
        if group is not None:
            listed.append({"label": f"{r['area_name']} ({kom(r)})", "group": group,
                           **{c.column: r[c.column] for c in main}})
    rank = {k: i for i, k in enumerate(charts.LIST_RANK)}
    listed.sort(key=lambda x: rank[x["group"]])  # stable: by list, then municipality and name
    criteria_svg = charts.criteria_chart(listed, main, prevention, group_labels) if listed else None

    series = _counts_series(counts_over_years, areas, list_year, lists)
    counts_svg = charts.counts_chart(series, LIST_LABELS_ALL_YEARS)
    years = sorted({y for pts in series.values() for y, _ in pts})
    file_years = ([] if counts_over_years is None or "source" not in counts_over_years.columns else sorted(
        {int(y) for y in counts_over_years.filter(pl.col("source") == "file")["list_year"].to_list()}))
    counts_table = {
        "years": years,
        "rows": [{"name": LIST_LABELS_ALL_YEARS.get(k, k),
                  "n": [dict(pts).get(y) for y in years]} for k, pts in series.items()],
    }
    moves_svg = charts.movements_chart(moves) if moves else None

    # --- national references (aggregates)
    conv = national.get("conviction_share") or {}
    nat_rows = []
    if conv.get("mean") is not None:
        nat_rows.append(("Andel dømte 18+ år, landsgennemsnit (to år)", fmt_pct(conv["mean"])))
    if national.get("conviction_threshold") is not None:
        nat_rows.append(("Tærskel for dømte (udsatte/parallelsamfund)", fmt_pct(national["conviction_threshold"])))
    if national.get("prevention_conviction_threshold") is not None:
        nat_rows.append(("Tærskel for dømte (forebyggelsesområder)",
                         fmt_pct(national["prevention_conviction_threshold"])))
    for reg, mean in sorted((national.get("region_mean_income") or {}).items()):
        label = regions.get(int(reg), f"Region {reg}")
        nat_rows.append((f"Gennemsnitlig bruttoindkomst, {label}", f"{fmt_num(mean, 0)} kr."))

    html = _env().get_template("report.html.j2").render(
        list_year=list_year,
        ruleset=ruleset,
        base=base,
        summary=[{"name": d, "n": len(on_list(areas, k)),
                  "new": next((m[3] for m in moves if m[0] == k), None),
                  "left": next((m[4] for m in moves if m[0] == k), None)} for k, d in lists],
        eligible=int(areas["eligible"].sum()),
        n_areas=areas.height,
        tables=tables,
        criteria_svg=criteria_svg,
        counts_svg=counts_svg,
        counts_table=counts_table,
        counts_file_years=year_ranges(file_years),
        moves_svg=moves_svg,
        move_lists=move_lists,
        has_prev=prev is not None,
        partial_prev=(partial_prev_note(list_year, [d for k, d in lists if k in prev_members])
                      if prev_members is not None and len(prev_members) < len(lists) else None),
        national=nat_rows,
        conviction_relative=base != "2014",
        has_prevention=has_prev_list,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, path)
