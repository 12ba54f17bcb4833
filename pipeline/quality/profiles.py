"""Aggregates computed in DuckDB SQL: the small frames the suites validate.

Register tables have millions of rows; GX only ever sees one row of counts per table and year
(`register_frame`), one row of coverage shares per list year (`coverage_frame`) and one row per
housing area (`residents_frame`). Boundary and history files are small and go to GX as they are,
with a few derived columns. No person-level value leaves these functions.
"""

from __future__ import annotations

import json

from typing import Any

import duckdb
import pandas as pd

from pipeline.contract import BOUNDARY_FILES, REGISTERS
from pipeline.warehouse import not_in_code_list, table_exists

# code-list checks: (table, column) -> (reference table, reference column)
CODE_LISTS = {
    ("bef", "opr_land"): ("countries", "opr_land"),
    ("bef", "kom"): ("municipalities", "kom"),
    ("akm", "socio13"): ("socio13", "socio13"),
    ("udda", "hfaudd"): ("hfaudd", "hfaudd"),
    ("udda", "hfaudd_kilde"): ("education_sources", "hfaudd_kilde"),
    ("kraf", "afg_afgtyp"): ("decision_types", "afg_afgtyp"),
    ("adresser", "kom"): ("municipalities", "kom"),
}


def ensure_reference(con: duckdb.DuckDBPyConnection, name: str) -> str:
    """The name of a relation holding the code list `name`: the warehouse's `ref_<name>` when
    ingestion loaded it, else the package default registered as a temporary view."""
    table = f"ref_{name}"
    if table_exists(con, table):
        return table
    view = f"quality_ref_{name}"
    try:
        con.execute(f"select 1 from {view} limit 0")
        return view
    except duckdb.Error:
        pass
    from pipeline.reference import PACKAGE_DIR, load_reference

    df = load_reference(name, PACKAGE_DIR / f"{name}.csv").to_arrow()
    con.register(view, df)
    return view


def _scalar_row(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> dict[str, Any]:
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description]
    row = cur.fetchall()[0]
    return dict(zip(names, row))


def register_metrics(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    """metric name -> SQL aggregate over the rows `t` of one table and year."""
    spec = REGISTERS[table]
    m: dict[str, str] = {"rows": "count(*)"}
    for c in spec.columns:
        if not c.nullable:
            m[f"null_{c.name}"] = f"count(*) filter (where t.{c.name} is null)"
    for k in spec.key:
        m[f"duplicate_{k}"] = f"count(t.{k}) - count(distinct t.{k})"
    for (tab, col), (ref, refcol) in CODE_LISTS.items():
        if tab == table:
            rel = ensure_reference(con, ref)
            m[f"unknown_{col}"] = f"count(*) filter (where {not_in_code_list(f't.{col}', rel, refcol)})"
    if table == "bef":
        m["invalid_koen"] = "count(*) filter (where t.koen not in (1, 2))"
        m["invalid_alder"] = "count(*) filter (where t.alder not between 0 and 125)"
        m["invalid_ie_type"] = "count(*) filter (where t.ie_type not in (1, 2, 3))"
    elif table == "udda":
        m["null_hfaudd_share"] = "coalesce(count(*) filter (where t.hfaudd is null) / nullif(count(*), 0), 0)"
    elif table == "ind":
        m["null_perindkialt_13_share"] = (
            "coalesce(count(*) filter (where t.perindkialt_13 is null) / nullif(count(*), 0), 0)"
        )
    elif table == "kraf":
        laws = ensure_reference(con, "crime_laws")
        m["afg_dato_outside_year"] = "count(*) filter (where year(t.afg_dato) <> t.year)"
        m["invalid_afg_ger7"] = "count(*) filter (where not regexp_full_match(t.afg_ger7, '[0-9]{7}'))"
        m["unknown_afg_ger7"] = (
            "count(*) filter (where t.afg_ger7 is not null and not exists "
            f"(select 1 from {laws} l where starts_with(t.afg_ger7, l.ger7_prefix)))"
        )
    return m


def _of_loaded_file(con: duckdb.DuckDBPyConnection, meta_table: str, column: str, table: str, year: int,
                    check: str | None = None) -> Any:  # fmt: skip
    """`column` of the row of `meta_table` (written by the ingestion) for register `table` and
    `year`, if it was measured on the file now loaded (the same sha256 as meta_ingest's)."""
    if not (table_exists(con, meta_table) and table_exists(con, "meta_ingest")):
        return None
    params: dict[str, Any] = {"t": table, "y": year}
    where = ""
    if check is not None:
        where, params["c"] = " and m.check_name = $c", check
    rows = con.execute(
        f"select m.{column} from {meta_table} m join meta_ingest i "
        "on i.table_name = m.table_name and i.year = m.year and i.sha256 = m.sha256 "
        f"where m.table_name = $t and m.year = $y{where}",
        params,
    ).fetchall()
    return rows[0][0] if rows else None


def _measured_duplicates(con: duckdb.DuckDBPyConnection, table: str, year: int) -> int | None:
    """Rows failing the ingestion's unique-key check on the file now loaded, if it was recorded."""
    if not REGISTERS[table].key:
        return None
    n = _of_loaded_file(con, "meta_ingest_checks", "failed_rows", table, year, check="unique_key")
    return None if n is None else int(n)


def _stored_profile(con: duckdb.DuckDBPyConnection, table: str, year: int) -> dict[str, Any] | None:
    """The profile the ingestion measured (pipeline.ingest._register_checks) on the file now loaded."""
    profile = _of_loaded_file(con, "meta_register_profile", "profile", table, year)
    return None if profile is None else json.loads(profile)


def register_frame(con: duckdb.DuckDBPyConnection, table: str, year: int) -> pd.DataFrame:
    """One row of counts for `stg_<table>` in data year `year` (zeros when the table is absent).

    Measured by the ingestion in the same pass as its blocking checks when the file was loaded
    (kept in `meta_register_profile`); computed here for a table loaded otherwise."""
    metrics = register_metrics(con, table)
    stg = f"stg_{table}"
    if not table_exists(con, stg):
        return pd.DataFrame([{k: 0 for k in metrics}])
    stored = _stored_profile(con, table, year)
    if stored is not None and list(stored) == sorted(metrics):
        return pd.DataFrame([{k: stored[k] for k in metrics}])
    return compute_register_frame(con, table, year)


def compute_register_frame(con: duckdb.DuckDBPyConnection, table: str, year: int) -> pd.DataFrame:
    """register_frame, measured now on the staging table."""
    metrics = register_metrics(con, table)
    stg = f"stg_{table}"
    measured = _measured_duplicates(con, table, year)
    params: dict[str, Any] = {"year": year}
    for k in REGISTERS[table].key:
        if measured is not None:
            # the blocking unique-key check of the ingestion counted them on this very file
            metrics[f"duplicate_{k}"] = "$measured_duplicates"
            params["measured_duplicates"] = measured
    select = ",\n  ".join(f"{expr} as {name}" for name, expr in metrics.items())
    row = _scalar_row(con, f"select\n  {select}\nfrom {stg} t where t.year = $year", params)
    return pd.DataFrame([{k: (0 if v is None else v) for k, v in row.items()}])


def _share(num_filter: str, population: str) -> str:
    return f"coalesce((select count(*) filter (where {num_filter}) / nullif(count(*), 0) from {population}), 0)"


COVERAGE_COLUMNS = (
    "akm_coverage_last", "akm_coverage_prev", "udda_coverage", "ind_coverage",
    "address_found_share", "address_found_share_prev", "null_address_share", "null_address_share_prev",
)


COVERAGE_INPUTS = (("bef", 0), ("bef", -1), ("akm", -1), ("akm", -2), ("udda", -1), ("ind", -1),
                   ("adresser", 0), ("adresser", -1))  # fmt: skip


# Part of the key under which a list year's coverage frame is kept: change it with the way the
# shares are computed (the age bands are in the key themselves).
COVERAGE_VERSION = 2


def _coverage_key(con: duckdb.DuckDBPyConnection, list_year: int) -> str | None:
    """The SHA-256 of every ingested file coverage reads, with the age bands and COVERAGE_VERSION;
    None when a file is unknown."""
    from pipeline.calculate import coverage_bands_text
    from pipeline.ingest import ingested_inputs_key

    shas = ingested_inputs_key(con, [(table, list_year + offset) for table, offset in COVERAGE_INPUTS])
    if shas is None:
        return None
    return f"{shas}|bands={coverage_bands_text()}|v{COVERAGE_VERSION}"


def coverage_frame(con: duckdb.DuckDBPyConnection, list_year: int) -> pd.DataFrame:
    """One row of coverage shares for list year Y (0 where a table is missing).

    Coverage depends on the register files only (not on boundaries or rules): it is kept in
    `meta_coverage` keyed by their SHA-256 and reused while the same files stay ingested."""
    key = _coverage_key(con, list_year)
    if key is not None and table_exists(con, "meta_coverage"):
        rows = con.execute(
            "select frame from meta_coverage where list_year = $y and inputs = $k", {"y": list_year, "k": key}
        ).fetchall()
        if rows:
            return pd.DataFrame(json.loads(rows[0][0]))
    frame = _coverage_frame(con, list_year)
    if key is not None:
        con.execute("create table if not exists meta_coverage (list_year integer, inputs varchar, frame varchar)")
        con.execute("delete from meta_coverage where list_year = $y", {"y": list_year})
        con.execute(
            "insert into meta_coverage values ($y, $k, $f)",
            {"y": list_year, "k": key, "f": json.dumps(frame.to_dict("records"))},
        )
    return frame


_LIST_YEAR_SHARES = {"akm": "akm_coverage_last", "udda": "udda_coverage", "ind": "ind_coverage"}


def _national_counts_shares(con: duckdb.DuckDBPyConnection, list_year: int) -> dict[str, float] | None:
    """The shares of bef_Y persons with an akm, udda, ind record of Y-1, from the coverage counts of
    the calculation's int_national_counts (its national joins; the ind join is made for C4 anyway)
    when that table holds the list year for exactly the files ingested now and the same age bands
    (meta_inputs); else None (the caller joins the registers itself, for the same counts)."""
    from pipeline.calculate import coverage_bands_text, kept_keys, national_counts_inputs

    if not table_exists(con, "int_national_counts"):
        return None
    kept = [k for k in kept_keys(con, "int_national_counts", national_counts_inputs(list_year), extra=coverage_bands_text())
            if k["list_year"] == list_year]  # fmt: skip
    if not kept:
        return None
    shares = ",\n  ".join(
        f"coalesce(sum({t}_band_with_record) / nullif(sum({t}_band_persons), 0), 0) as {name}"
        for t, name in _LIST_YEAR_SHARES.items()
    )
    return _scalar_row(
        con,
        f"select\n  {shares}\nfrom int_national_counts where list_year = $y and params_key = $k",
        {"y": list_year, "k": kept[0]["params_key"]},
    )


def _coverage_frame(con: duckdb.DuckDBPyConnection, list_year: int) -> pd.DataFrame:
    needed = ("stg_bef", "stg_akm", "stg_udda", "stg_ind", "stg_adresser")
    if not all(table_exists(con, t) for t in needed):
        present = {t: table_exists(con, t) for t in needed}
        row = {c: 0.0 for c in COVERAGE_COLUMNS}
        if present["stg_bef"]:
            row.update(_null_address(con, list_year))
        return pd.DataFrame([row])

    def record_share(table: str, y_table: str, y_bef: str, lo: int, hi: int) -> str:
        """The share of the persons of bef_{y_bef} aged lo-hi with a record of y_table in
        stg_<table>: a join on the register's person key, unique by ingestion's blocking check
        (at national scale a quarter cheaper than the semi-join `pnr in (...)`)."""
        persons = f"(select pnr from stg_bef where year = {y_bef} and alder between {lo} and {hi})"
        records = f"(select pnr from stg_{table} where year = {y_table})"
        with_record = f"(select count(*) from {persons} b join {records} r using (pnr))"
        return f"coalesce({with_record} / nullif((select count(*) from {persons}), 0), 0)"

    from pipeline.calculate import COVERAGE_BANDS

    def found(y: str) -> str:
        return (
            "coalesce((select count(*) filter (where adresse_id in "
            f"(select adresse_id from stg_adresser where year = {y})) / nullif(count(*), 0) "
            f"from stg_bef where year = {y} and adresse_id is not null), 0)"
        )

    list_year_shares = _national_counts_shares(con, list_year)
    joined = (
        [f"{record_share(t, '$y - 1', '$y', a, b)} as {_LIST_YEAR_SHARES[t]}" for t, (a, b) in COVERAGE_BANDS.items()]
        if list_year_shares is None
        else []
    )
    sql = "select\n      " + ",\n      ".join([
        *joined,
        f"{record_share('akm', '$y - 2', '$y - 1', *COVERAGE_BANDS['akm'])} as akm_coverage_prev",
        f"{found('$y')} as address_found_share",
        f"{found('$y - 1')} as address_found_share_prev",
    ])  # fmt: skip
    row = _scalar_row(con, sql, {"y": list_year})
    row.update(list_year_shares or {})
    row.update(_null_address(con, list_year))
    return pd.DataFrame([{k: float(row[k]) for k in COVERAGE_COLUMNS}])


def _null_address(con: duckdb.DuckDBPyConnection, list_year: int) -> dict[str, float]:
    sql = f"""select
      {_share('adresse_id is null', '(select adresse_id from stg_bef where year = $y)')} as null_address_share,
      {_share('adresse_id is null', '(select adresse_id from stg_bef where year = $y - 1)')} as null_address_share_prev
    """
    return {k: float(v) for k, v in _scalar_row(con, sql, {"y": list_year}).items()}


def boundary_frames(con: duckdb.DuckDBPyConnection) -> tuple[pd.DataFrame, pd.DataFrame]:
    """stg_areas with its number of parcels, and stg_parcels (both small, row-level)."""
    area_cols = BOUNDARY_FILES["areas"].column_names
    parcel_cols = BOUNDARY_FILES["parcels"].column_names
    if not table_exists(con, "stg_areas"):
        areas = pd.DataFrame({c: pd.Series(dtype="object") for c in [*area_cols, "parcels"]})
    elif table_exists(con, "stg_parcels"):
        areas = con.execute(
            "select a.area_id, a.area_name, a.kom, count(p.area_id) as parcels "
            "from stg_areas a left join stg_parcels p using (area_id) "
            "group by all order by a.area_id"
        ).df()
    else:
        areas = con.execute("select area_id, area_name, kom, 0 as parcels from stg_areas order by area_id").df()
    if table_exists(con, "stg_parcels"):
        parcels = con.execute(f"select {', '.join(parcel_cols)} from stg_parcels").df()
    else:
        parcels = pd.DataFrame({c: pd.Series(dtype="object") for c in parcel_cols})
    return areas, parcels


def residents_frame(con: duckdb.DuckDBPyConnection, list_year: int) -> pd.DataFrame:
    """Per area: parcels, parcels matching no address of adresser_Y, residents on 1 January Y
    and Y-1, and the relative change (null when there were none in Y-1)."""
    cols = ["area_id", "parcels", "parcels_without_address", "residents", "residents_prev", "residents_change"]
    if not all(table_exists(con, t) for t in ("stg_areas", "stg_parcels", "stg_bef", "stg_adresser")):
        return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
    if table_exists(con, "meta_residents") and table_exists(con, "meta_boundaries"):
        # the pipeline already placed each person in an area (int_residents) with these boundaries
        have = {r[0] for r in con.execute(
            "select year from meta_residents where year in ($y, $y - 1) "
            "and boundary_version = (select max(version) from meta_boundaries)", {"y": list_year}
        ).fetchall()}  # fmt: skip
        if have == {list_year, list_year - 1}:
            return con.execute(_RESIDENTS_SQL.replace("__RES__", _RES_FROM_INT), {"y": list_year}).df()
    return con.execute(_RESIDENTS_SQL.replace("__RES__", _RES_FROM_STG), {"y": list_year}).df()


_RES_FROM_INT = """
    res as (
      select year, area_id, count(*) as n from int_residents where year in ($y, $y - 1) group by all
    )"""

_RES_FROM_STG = """
    addr_area as (
      select a.year, a.adresse_id, p.area_id
      from stg_adresser a join stg_parcels p using (ejerlavskode, matrikelnr)
      where a.year in ($y, $y - 1)
    ),
    res as (
      select b.year, x.area_id, count(*) as n
      from stg_bef b join addr_area x on x.adresse_id = b.adresse_id and x.year = b.year
      where b.year in ($y, $y - 1)
      group by all
    )"""

_RESIDENTS_SQL = """
    with parcel_addr as (
      select p.area_id, p.ejerlavskode, p.matrikelnr,
             count(a.adresse_id) as n_addr
      from stg_parcels p
      left join stg_adresser a
        on a.ejerlavskode = p.ejerlavskode and a.matrikelnr = p.matrikelnr and a.year = $y
      group by all
    ),
    __RES__
    select ar.area_id,
           coalesce((select count(*) from parcel_addr pa where pa.area_id = ar.area_id), 0) as parcels,
           coalesce((select count(*) from parcel_addr pa where pa.area_id = ar.area_id and pa.n_addr = 0), 0)
             as parcels_without_address,
           coalesce(r1.n, 0) as residents,
           coalesce(r0.n, 0) as residents_prev,
           case when coalesce(r0.n, 0) = 0 then null
                else abs(coalesce(r1.n, 0) - r0.n) / r0.n end as residents_change
    from stg_areas ar
    left join res r1 on r1.area_id = ar.area_id and r1.year = $y
    left join res r0 on r0.area_id = ar.area_id and r0.year = $y - 1
    order by ar.area_id
    """


def history_frame(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    cols = ["area_id", "list_year", "list", "transformation_within_parallel"]
    if not table_exists(con, "stg_history"):
        return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
    return con.execute(
        """select h.area_id, h.list_year, h.list,
                  (h.list is distinct from 'transformation' or exists (
                     select 1 from stg_history p where p.area_id = h.area_id
                       and p.list_year = h.list_year and p.list = 'parallel')) as transformation_within_parallel
           from stg_history h"""
    ).df()


def reference_values(con: duckdb.DuckDBPyConnection, name: str, column: str) -> list:
    rel = ensure_reference(con, name)
    return [r[0] for r in con.execute(f"select {column} from {rel}").fetchall()]
