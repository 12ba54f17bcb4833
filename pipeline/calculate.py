"""The calculation of one list year: SQL counts in the warehouse -> exact classification -> history.

Each function is one step (one Dagster asset calls it); each reads and writes warehouse tables
and is idempotent for its year (rows are replaced, never appended).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from pipeline import contract
from pipeline.criteria import Metrics, classify, income_ratio, share, two_year_mean
from pipeline.errors import InputError
from pipeline.history import YearStatus, file_statuses, history_flags, plan_sources
from pipeline.ingest import check_key_storage, ingested_inputs_key
from pipeline.rules import RuleSet, ruleset_for
from pipeline.warehouse import create_table_like, replace_partition, run_sql_table, sql_text, table_exists

AREAS_COLUMNS = list(contract.AREAS_COLUMNS)

AREAS_SCHEMA: dict[str, Any] = {
    "area_id": pl.String, "area_name": pl.String, "kom": pl.Int32, "region": pl.Int32,
    "list_year": pl.Int32, "ruleset": pl.String, "residents": pl.Int64, "eligible": pl.Boolean,
    "labour_share": pl.Float64, "labour_share_prev": pl.Float64, "labour_share_last": pl.Float64,
    "conviction_share": pl.Float64, "conviction_share_prev": pl.Float64,
    "conviction_share_last": pl.Float64, "conviction_ratio": pl.Float64,
    "basic_edu_share": pl.Float64, "area_mean_income": pl.Float64, "region_mean_income": pl.Float64,
    "income_ratio": pl.Float64, "nonwestern_share": pl.Float64,
    "crit_labour": pl.Boolean, "crit_conviction": pl.Boolean, "crit_education": pl.Boolean,
    "crit_income": pl.Boolean, "crit_nonwestern": pl.Boolean, "n_criteria": pl.Int32,
    "vulnerable": pl.Boolean, "parallel": pl.Boolean, "transformation": pl.Boolean,
    "prevention": pl.Boolean, "combined_letting": pl.Boolean,
    "years_on_parallel_list": pl.Int32, "development_plan": pl.Boolean,
}  # fmt: skip

FIRST_LIST_YEAR = 2014  # the earliest rule set; earlier list years exist only as history rows


# --- parameter keys: which rule-set parameters a table's rows were computed with ----------------


def yearly_params(rules: RuleSet) -> dict[str, Any]:
    lo, hi = rules.ages["labour"]
    clo, chi = rules.ages["conviction"]
    params = {
        "labour_min": lo,
        "labour_max": hi,
        "conviction_min": clo,
        "conviction_max": chi,
        "outside_group": rules.socio13_outside_group,
        "crime_key": rules.crime_key,
    }
    params["params_key"] = ";".join(f"{k}={v}" for k, v in params.items())
    return params


def convicted_params(data_year: int, rules: RuleSet) -> dict[str, Any]:
    """The parameters of int_convicted for data year t under `rules` (its crime key)."""
    return {
        "data_year": data_year,
        "crime_key": rules.crime_key,
        "relevant_laws": None if rules.relevant_laws is None else list(rules.relevant_laws),
        "guilty_types": None if rules.guilty_decision_types is None else list(rules.guilty_decision_types),
    }


def _check_crime_codes(con: duckdb.DuckDBPyConnection, rules: RuleSet) -> None:
    """The laws and decision types a rule set names are in the code lists (a typo would silently
    count no one)."""
    for names, sql, what, file in (
        (rules.relevant_laws, "select law from ref_crime_laws", "codes.relevant_laws", "crime_laws.csv"),
        (rules.guilty_decision_types, "select afg_afgtyp from ref_decision_types", "codes.guilty_decision_types",
         "decision_types.csv"),
    ):  # fmt: skip
        if names is None:
            continue
        known = {r[0] for r in _fetch(con, sql, {})}
        unknown = [x for x in names if x not in known]
        if unknown:
            raise InputError(f"invalid rule set: {what} has {unknown[0]!r}, which is not in the code list {file}",
                             file=rules.source or rules.name)  # fmt: skip


def list_params(rules: RuleSet) -> dict[str, Any]:
    elo, ehi = rules.ages["education"]
    ilo, ihi = rules.ages["income"]
    params = {
        "education_min": elo,
        "education_max": ehi,
        "income_min": ilo,
        "income_max": ihi,
        "student_group": rules.socio13_student_group,
        "all_sources": rules.education_valid_sources == "all",
    }
    params["params_key"] = ";".join(f"{k}={v}" for k, v in params.items())
    return params


def rules_fingerprint(rules: RuleSet) -> str:
    text = json.dumps(rules.parameters(), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def boundary_version(con: duckdb.DuckDBPyConnection) -> str:
    """The version of the boundaries loaded in the warehouse (sha256 over areas and parcels)."""
    try:
        rows = con.execute("select version from meta_boundaries").fetchall()
    except duckdb.CatalogException:
        rows = []
    if rows:
        return str(rows[0][0])
    # Fallback: a content hash of the loaded tables.
    text = con.execute(
        "select string_agg(area_id || '|' || ejerlavskode || '|' || matrikelnr, ',' "
        "order by area_id, ejerlavskode, matrikelnr) from stg_parcels"
    ).fetchall()[0][0]
    return hashlib.sha256((text or "").encode()).hexdigest()


# --- steps ------------------------------------------------------------------------------------------


def _inputs_fingerprint(con: duckdb.DuckDBPyConnection, table: str, inputs: list[tuple[str, int | None]],
                        upstream: tuple[str, ...], extra: str) -> str | None:  # fmt: skip
    """The SHA-256 of the ingested files behind `inputs`, of the SQL of `table` and of the tables it
    reads (`upstream`), and `extra`; None when an input is not loaded."""
    shas = ingested_inputs_key(con, inputs)
    if shas is None:
        return None
    code = hashlib.sha256("\n".join(sql_text(t) for t in (table, *upstream)).encode()).hexdigest()[:16]
    return f"{shas}|sql={code}|{extra}"


def _params_hash(params: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:16]


# Tables of earlier versions that nothing reads any more (int_income_population held one row per
# person of the C4 population): dropped when a list year is counted.
OBSOLETE_TABLES = ("int_income_population", "int_region_income", "meta_income",
                   "int_national_population", "meta_national_population", "meta_national_counts")  # fmt: skip


def _ensure_meta_inputs(con: duckdb.DuckDBPyConnection) -> None:
    cols = {r[0] for r in con.execute(
        "select column_name from information_schema.columns where table_name = 'meta_inputs'").fetchall()}  # fmt: skip
    if cols and "params" not in cols:  # an earlier layout: its records are simply not used
        con.execute("drop table meta_inputs")
    con.execute("create table if not exists meta_inputs "
                "(table_name varchar, keys varchar, inputs varchar, params varchar, rows bigint)")  # fmt: skip


def run_sql_table_kept(
    con: duckdb.DuckDBPyConnection, table: str, keys: dict[str, Any], params: dict[str, Any],
    inputs: list[tuple[str, int | None]], *, upstream: tuple[str, ...] = (), extra: str = "",
) -> bool:
    """Materialise `sql/<table>.sql` for `keys` (replace_partition), unless its rows for `keys` were
    computed from exactly the files now ingested for `inputs` (their SHA-256), by the same SQL (of
    the table and of the `upstream` tables it reads), with the same parameters and `extra`, and are
    all still there: the tables that do not depend on the boundaries are so kept by a boundary
    rerun. The rows and their record in `meta_inputs` are written in one transaction (a record never
    describes other rows). Returns whether the rows were kept."""
    _ensure_meta_inputs(con)
    fingerprint = _inputs_fingerprint(con, table, inputs, upstream, extra)
    values = _params_hash(params)
    part = json.dumps(keys, sort_keys=True)
    where = " and ".join(f"{col} = $__k{i}" for i, col in enumerate(keys))
    key_params = {f"__k{i}": v for i, v in enumerate(keys.values())}
    if fingerprint is not None and table_exists(con, table):
        rec = _fetch(con, "select rows from meta_inputs where table_name = $t and keys = $k and inputs = $i"
                          " and params = $p", {"t": table, "k": part, "i": fingerprint, "p": values})  # fmt: skip
        if rec and _fetch(con, f"select count(*) from {table} where {where}", key_params)[0][0] == rec[0][0]:
            return True
    if not table_exists(con, table):
        create_table_like(con, table, sql_text(table), params)
    con.execute("begin transaction")
    try:
        con.execute("delete from meta_inputs where table_name = $t and keys = $k", {"t": table, "k": part})
        n = replace_partition(con, table, keys, sql_text(table), params, own_transaction=False)
        if fingerprint is not None:
            con.execute("insert into meta_inputs values ($t, $k, $i, $p, $n)",
                        {"t": table, "k": part, "i": fingerprint, "p": values, "n": n})  # fmt: skip
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return False


def kept_keys(con: duckdb.DuckDBPyConnection, table: str, inputs: list[tuple[str, int | None]], *,
              upstream: tuple[str, ...] = (), extra: str = "") -> list[dict]:  # fmt: skip
    """The keys of `table`'s rows (whatever their parameters) computed from exactly the files now
    ingested for `inputs`, by the same SQL and with the same `extra` (by meta_inputs)."""
    fingerprint = _inputs_fingerprint(con, table, inputs, upstream, extra)
    if fingerprint is None or not table_exists(con, "meta_inputs"):
        return []
    rows = _fetch(con, "select keys from meta_inputs where table_name = $t and inputs = $i order by keys",
                  {"t": table, "i": fingerprint})  # fmt: skip
    return [json.loads(r[0]) for r in rows]


def _drop_convicted_without_crime_key(con: duckdb.DuckDBPyConnection) -> None:
    """int_convicted of an earlier layout (one set of persons per year, no crime key) is derived
    data: dropped, with its records, and computed again."""
    cols = {r[0] for r in _fetch(con, "select column_name from information_schema.columns "
                                      "where table_name = 'int_convicted'", {})}  # fmt: skip
    if cols and "crime_key" not in cols:
        con.execute("drop table int_convicted")
        if table_exists(con, "meta_inputs"):
            con.execute("delete from meta_inputs where table_name = 'int_convicted'")


def convicted_inputs(data_year: int) -> list[tuple[str, int | None]]:
    return [("kraf", data_year), ("ref_crime_laws", None), ("ref_decision_types", None)]


# The extracts each calculation joins on a key column (pipeline.ingest.check_key_storage): the
# residents of 1 January s (bef_s with adresser_s), the counts of data year t (bef_{t+1} with akm_t
# and kraf_t) and of list year Y (bef_Y with akm, udda and ind of Y-1).
def residents_join(year: int) -> tuple[str, list[tuple[str, int]]]:
    return "adresse_id", [("bef", year), ("adresser", year)]


def yearly_counts_join(data_year: int) -> tuple[str, list[tuple[str, int]]]:
    return "pnr", [("bef", data_year + 1), ("akm", data_year), ("kraf", data_year)]


def list_counts_join(list_year: int) -> tuple[str, list[tuple[str, int]]]:
    return "pnr", [("bef", list_year), ("akm", list_year - 1), ("udda", list_year - 1), ("ind", list_year - 1)]


def check_list_year_keys(con: duckdb.DuckDBPyConnection, list_year: int) -> None:
    """Every key join of list year Y's calculation, checked as the calculation checks it (for
    `boliglister check`, which loads the extracts but computes nothing)."""
    for s in (list_year - 1, list_year):
        check_key_storage(con, *residents_join(s))
    for t in (list_year - 2, list_year - 1):
        check_key_storage(con, *yearly_counts_join(t))
    check_key_storage(con, *list_counts_join(list_year))


def build_residents(con: duckdb.DuckDBPyConnection, year: int) -> int:
    """int_residents for 1 January `year` (and the boundary version it was placed with)."""
    check_key_storage(con, *residents_join(year))
    n = run_sql_table(con, "int_residents", {"year": year}, {"year": year})
    replace_partition(
        con,
        "meta_residents",
        {"year": year},
        "select cast($y as integer) as year, cast($v as varchar) as boundary_version",
        {"y": year, "v": boundary_version(con)},
    )
    return n


def build_yearly_counts(con: duckdb.DuckDBPyConnection, data_year: int, rulesets: list[RuleSet]) -> dict:
    """C1/C2 counts for data year t, for each distinct parameter set among `rulesets`."""
    # int_convicted and the national conviction counts do not depend on the boundaries
    t = data_year
    check_key_storage(con, *yearly_counts_join(t))
    _drop_convicted_without_crime_key(con)
    crime: dict[str, dict[str, Any]] = {}
    for rules in rulesets:
        _check_crime_codes(con, rules)
        crime.setdefault(rules.crime_key, convicted_params(t, rules))
    for key, params in sorted(crime.items()):
        run_sql_table_kept(con, "int_convicted", {"data_year": t, "crime_key": key}, params, convicted_inputs(t))
    first = rulesets[0].crime_key if rulesets else "reference"
    n_convicted = _fetch(con, "select count(*) from int_convicted where data_year = $t and crime_key = $k",
                         {"t": t, "k": first})[0][0] if crime else 0  # fmt: skip
    keys = {}
    for rules in rulesets:
        p = yearly_params(rules)
        keys[p["params_key"]] = p
    areas = 0
    for key, p in sorted(keys.items()):
        params = {"data_year": t, **p}
        areas += run_sql_table(con, "int_yearly_counts", {"data_year": t, "params_key": key}, params)
        nat_params = {k: params[k] for k in ("data_year", "params_key", "conviction_min", "conviction_max",
                                             "crime_key")}  # fmt: skip
        run_sql_table_kept(con, "int_national_convictions", {"data_year": t, "params_key": key}, nat_params,
                           [("bef", t + 1), *convicted_inputs(t)], upstream=("int_convicted",))  # fmt: skip
    return {"convicted_persons": n_convicted, "parameter_sets": len(keys), "area_rows": areas}


# The age band of each register's coverage share on bef_Y (the quality suite's coverage): the band
# of the criterion that reads the register (labour: akm; education: udda; income: ind). Counted in
# the national joins of int_national_counts, and by pipeline.quality.profiles when that is missing.
COVERAGE_BANDS = {"akm": (18, 64), "udda": (30, 59), "ind": (15, 64)}


def coverage_bands_text() -> str:
    """The coverage age bands as text: part of what int_national_counts is kept under."""
    return json.dumps(COVERAGE_BANDS, sort_keys=True)


def _income_params(list_year: int, p: dict[str, Any]) -> dict[str, Any]:
    """The parameters of the C4 population (int_national_counts and int_list_counts)."""
    return {"list_year": list_year, "params_key": p["params_key"], "income_min": p["income_min"],
            "income_max": p["income_max"], "student_group": p["student_group"]}  # fmt: skip


def national_counts_params(list_year: int, p: dict[str, Any]) -> dict[str, Any]:
    """The parameters of int_national_counts for list year Y and the list parameters `p`."""
    bands = {f"{t}_{end}": v for t, band in COVERAGE_BANDS.items() for end, v in zip(("min", "max"), band)}
    return {**_income_params(list_year, p), **bands}


def national_counts_inputs(list_year: int) -> list[tuple[str, int | None]]:
    """The ingested inputs int_national_counts of list year Y is computed from."""
    return [("bef", list_year), ("ind", list_year - 1), ("akm", list_year - 1), ("udda", list_year - 1),
            ("ref_socio13", None), ("ref_municipalities", None)]  # fmt: skip


def build_list_counts(con: duckdb.DuckDBPyConnection, list_year: int, rules: RuleSet) -> dict:
    """C3, C4, C5 and residents for list year Y, and the national counts (regional incomes, coverage)."""
    check_key_storage(con, *list_counts_join(list_year))
    p = list_params(rules)
    keys = {"list_year": list_year, "params_key": p["params_key"]}
    for table in OBSOLETE_TABLES:
        con.execute(f"drop table if exists {table}")
    run_sql_table_kept(con, "int_national_counts", keys, national_counts_params(list_year, p),
                       national_counts_inputs(list_year), extra=coverage_bands_text())  # fmt: skip
    n_income, regions = _fetch(
        con,
        "select coalesce(sum(persons), 0), count(*) filter (where persons > 0 and region is not null) "
        "from int_national_counts where list_year = $y and params_key = $k",
        {"y": list_year, "k": p["params_key"]},
    )[0]
    list_params_ = {
        **_income_params(list_year, p),
        "education_min": p["education_min"],
        "education_max": p["education_max"],
        "all_sources": p["all_sources"],
    }
    areas = run_sql_table(con, "int_list_counts", keys, list_params_)
    return {"income_population": n_income, "regions": regions, "areas": areas}


@dataclass
class YearResult:
    areas: pl.DataFrame  # the columns of areas.csv
    national: dict


def _fetch(con: duckdb.DuckDBPyConnection, sql: str, params: dict) -> list[tuple]:
    return con.execute(sql, params).fetchall()


def _f(x: Fraction | None) -> float | None:
    return None if x is None else float(x)


def classify_year(con: duckdb.DuckDBPyConnection, list_year: int, rules: RuleSet) -> YearResult:
    """Criteria and lists of list year Y from the counts, without the history-based flags.

    Writes `mart_classification` (one row per area) and returns the areas frame and national refs.
    """
    y = list_year
    yp, lp = yearly_params(rules), list_params(rules)
    yearly: dict[tuple[int, str], tuple[int, int, int, int]] = {}
    for t in (y - 2, y - 1):
        rows = _fetch(
            con,
            "select area_id, labour_pop, labour_outside, conviction_pop, conviction_convicted "
            "from int_yearly_counts where data_year = $t and params_key = $k",
            {"t": t, "k": yp["params_key"]},
        )
        if not rows and _fetch(con, "select count(*) from stg_areas", {})[0][0]:
            raise InputError(f"the counts of data year {t} were not computed", year=t)
        for area_id, lp_, lo, cp, cc in rows:
            yearly[(t, area_id)] = (int(lp_), int(lo), int(cp), int(cc))
    nat: dict[int, tuple[int, int]] = {}
    for t in (y - 2, y - 1):
        rows = _fetch(
            con,
            "select persons, convicted from int_national_convictions where data_year = $t and params_key = $k",
            {"t": t, "k": yp["params_key"]},
        )
        if not rows:
            raise InputError(f"the national conviction counts of data year {t} were not computed", year=t)
        nat[t] = (int(rows[0][0]), int(rows[0][1]))
    region_rows = _fetch(
        con,
        "select region, persons, income_sum_ore from int_national_counts "
        "where list_year = $y and params_key = $k and region is not null and persons > 0",
        {"y": y, "k": lp["params_key"]},
    )
    region_income = {int(r): (int(n), int(s)) for r, n, s in region_rows}
    area_rows = _fetch(
        con,
        "select a.area_id, a.area_name, a.kom, m.region, c.residents, c.education_pop, c.education_basic, "
        "c.income_pop, c.income_sum_ore, c.nonwestern "
        "from stg_areas a left join ref_municipalities m using (kom) "
        "left join int_list_counts c on c.area_id = a.area_id and c.list_year = $y and c.params_key = $k "
        "order by a.area_id",
        {"y": y, "k": lp["params_key"]},
    )

    (np_, nc_p), (nl_, nc_l) = nat[y - 2], nat[y - 1]
    national_share = two_year_mean((nc_p, np_), (nc_l, nl_), rules.two_year_mean)

    records = []
    for area_id, area_name, kom, region, residents, edu_pop, edu_basic, inc_n, inc_sum, nonwestern in area_rows:
        if residents is None:
            raise InputError(f"the counts of list year {y} were not computed", year=y)
        lp_prev, lo_prev, cp_prev, cc_prev = yearly.get((y - 2, area_id), (0, 0, 0, 0))
        lp_last, lo_last, cp_last, cc_last = yearly.get((y - 1, area_id), (0, 0, 0, 0))
        labour = two_year_mean((lo_prev, lp_prev), (lo_last, lp_last), rules.two_year_mean)
        conviction = two_year_mean((cc_prev, cp_prev), (cc_last, cp_last), rules.two_year_mean)
        reg_n, reg_sum = region_income.get(int(region), (0, 0)) if region is not None else (0, 0)
        metrics = Metrics(
            residents=int(residents),
            labour_share=labour,
            conviction_share=conviction,
            basic_edu_share=share(edu_basic, edu_pop),
            income_ratio=income_ratio(int(inc_sum), int(inc_n), reg_sum, reg_n),
            nonwestern_share=share(nonwestern, residents),
        )
        c = classify(metrics, rules, national_share)
        rec: dict[str, Any] = {
            "area_id": area_id,
            "area_name": area_name,
            "kom": kom,
            "region": region,
            "list_year": y,
            "ruleset": rules.name,
            "residents": int(residents),
            "eligible": c.eligible,
            "vulnerable": c.vulnerable,
            "parallel": c.parallel,
            "transformation": False,  # set by the history step
            "prevention": c.prevention,
            "combined_letting": c.combined_letting,
            "transformation_candidate": c.transformation_candidate,
        }
        if c.eligible:
            conv_ratio = (
                conviction / national_share
                if conviction is not None and national_share not in (None, 0)
                else None
            )
            rec.update(
                labour_share=_f(labour),
                labour_share_prev=_f(share(lo_prev, lp_prev)),
                labour_share_last=_f(share(lo_last, lp_last)),
                conviction_share=_f(conviction),
                conviction_share_prev=_f(share(cc_prev, cp_prev)),
                conviction_share_last=_f(share(cc_last, cp_last)),
                conviction_ratio=_f(conv_ratio),
                basic_edu_share=_f(metrics.basic_edu_share),
                area_mean_income=_f(share(int(inc_sum), int(inc_n) * 100)),
                region_mean_income=_f(share(reg_sum, reg_n * 100)),
                income_ratio=_f(metrics.income_ratio),
                nonwestern_share=_f(metrics.nonwestern_share),
                crit_labour=c.crit["labour"],
                crit_conviction=c.crit["conviction"],
                crit_education=c.crit["education"],
                crit_income=c.crit["income"],
                crit_nonwestern=c.crit["nonwestern"],
                n_criteria=c.n_criteria,
            )
        records.append(rec)

    schema = {
        k: v for k, v in AREAS_SCHEMA.items() if k not in ("years_on_parallel_list", "development_plan")
    }
    schema["transformation_candidate"] = pl.Boolean
    frame = pl.DataFrame(records, schema=schema)
    national = {
        "list_year": y,
        "ruleset": rules.name,
        "conviction_counts": {
            "prev": {"convicted": nc_p, "persons": np_},
            "last": {"convicted": nc_l, "persons": nl_},
        },
        "conviction_share": {
            "prev": _f(share(nc_p, np_)),
            "last": _f(share(nc_l, nl_)),
            "mean": _f(national_share),
        },
        "conviction_threshold": _f(rules.main_conviction_multiplier * national_share)
        if rules.main_conviction_multiplier is not None and national_share is not None
        else None,
        "prevention_conviction_threshold": _f(rules.prevention_conviction_multiplier * national_share)
        if rules.prevention_conviction_multiplier is not None and national_share is not None
        else None,
        "region_mean_income": {
            str(r): _f(share(s, n * 100)) for r, (n, s) in sorted(region_income.items())
        },
        "parameters": rules.parameters(),
    }
    version = boundary_version(con)
    store = frame.with_columns(
        pl.lit(version).alias("boundary_version"),
        pl.lit(rules_fingerprint(rules)).alias("rules_fingerprint"),
        pl.lit(rules.has_transformation and "transformation" in rules.lists).alias("has_transformation"),
        pl.lit(rules.transformation_years).alias("transformation_years"),
    )
    con.register("__classification", store.to_arrow())
    try:
        replace_partition(con, "mart_classification", {"list_year": y}, sql_text("mart_classification"), {})
    finally:
        con.unregister("__classification")
    replace_partition(
        con,
        "mart_national",
        {"list_year": y},
        "select cast($y as integer) as list_year, cast($j as varchar) as national_json",
        {"y": y, "j": json.dumps(national, sort_keys=True)},
    )
    return YearResult(frame, national)


# --- history ----------------------------------------------------------------------------------------


def computable_list_years(data_dir: Path) -> set[int]:
    """List years (≥ 2014) whose register extracts are all in the data directory."""
    years: dict[str, set[int]] = {t: set(contract.available_years(data_dir, t)) for t in contract.REGISTERS}
    candidates = set().union(*years.values())
    out = set()
    for y in range(min(candidates, default=0) + 2, max(candidates, default=0) + 1):
        if y >= FIRST_LIST_YEAR and all(yr in years[t] for t, yr in contract.needed_registers(y)):
            out.add(y)
    return out


def history_file_years(con: duckdb.DuckDBPyConnection) -> set[int]:
    try:
        return {int(r[0]) for r in con.execute("select distinct list_year from stg_history").fetchall()}
    except duckdb.CatalogException:
        return set()


def plan_history(
    con: duckdb.DuckDBPyConnection, data_dir: Path, list_year: int, mode: str
) -> dict[int, str]:
    """For list year Y: where each earlier list year's status comes from ("file"/"computed")."""
    return plan_sources(
        list_year,
        mode,
        history_file_years(con),
        computable_list_years(data_dir),
        history_file=str(Path(data_dir) / "history" / "lists.csv"),
    )


def apply_history(
    con: duckdb.DuckDBPyConnection,
    list_year: int,
    rules: RuleSet,
    plan: dict[int, str],
    rules_for_year: dict[int, RuleSet],
) -> tuple[pl.DataFrame, dict]:
    """Add years_on_parallel_list, transformation and development_plan to list year Y.

    `plan` says where each earlier year's status comes from; `rules_for_year` gives the rule set of
    each earlier year that is computed (its classification must be in mart_classification for the
    boundary version in use). Writes `mart_areas`; returns it and a summary of the sources used.
    """
    y = list_year
    version = boundary_version(con)
    area_ids = {r[0] for r in con.execute("select area_id from stg_areas").fetchall()}
    try:
        hist_rows = con.execute("select area_id, list_year, list from stg_history").fetchall()
    except duckdb.CatalogException:
        hist_rows = []
    from_file, ignored = file_statuses(hist_rows, area_ids)
    earlier: dict[int, YearStatus] = {}
    for year, source in sorted(plan.items()):
        if source == "file":
            earlier[year] = from_file[year]
            continue
        r = rules_for_year[year]
        rows = con.execute(
            "select area_id, parallel from mart_classification where list_year = $y "
            "and boundary_version = $v and rules_fingerprint = $f",
            {"y": year, "v": version, "f": rules_fingerprint(r)},
        ).fetchall()
        if not rows:
            raise InputError(
                f"list year {year} is needed for the history of {y} but was not computed "
                f"with the boundaries and rule set in use",
                year=year,
            )
        earlier[year] = YearStatus(
            year=year,
            source="computed",
            parallel=frozenset(a for a, p in rows if p),
            transformation=None,
            has_transformation=r.has_transformation and "transformation" in r.lists,
            transformation_years=r.transformation_years,
        )
    current = con.sql(
        "select * exclude (boundary_version, rules_fingerprint, has_transformation, transformation_years) "
        "from mart_classification where list_year = $y and boundary_version = $v and rules_fingerprint = $f "
        "order by area_id",
        params={"y": y, "v": version, "f": rules_fingerprint(rules)},
    ).pl()
    if current.height == 0 and area_ids:
        raise InputError(f"list year {y} was not classified", year=y)
    parallel_now = set(current.filter(pl.col("parallel"))["area_id"].to_list())
    candidates = set(current.filter(pl.col("transformation_candidate"))["area_id"].to_list())
    flags = history_flags(
        y,
        parallel_now,
        rules.has_transformation and "transformation" in rules.lists,
        rules.transformation_years,
        earlier,
    )
    transformation = flags.transformation & candidates
    areas = current.with_columns(
        pl.col("area_id").is_in(sorted(transformation)).alias("transformation"),
        pl.col("area_id")
        .replace_strict(flags.years_on_parallel_list, default=0, return_dtype=pl.Int32)
        .alias("years_on_parallel_list"),
        pl.col("area_id").is_in(sorted(flags.development_plan)).alias("development_plan"),
    ).select(AREAS_COLUMNS).cast(AREAS_SCHEMA)
    con.register("__areas", areas.to_arrow())
    try:
        replace_partition(con, "mart_areas", {"list_year": y}, sql_text("mart_areas"), {})
    finally:
        con.unregister("__areas")
    replace_partition(
        con,
        "meta_areas",
        {"list_year": y},
        "select cast($y as integer) as list_year, cast($v as varchar) as boundary_version, "
        "cast($f as varchar) as rules_fingerprint, cast($r as varchar) as ruleset, "
        "cast($h as varchar) as history_sources",
        {"y": y, "v": version, "f": rules_fingerprint(rules), "r": rules.name,
         "h": json.dumps({str(k): v for k, v in sorted(plan.items())})},
    )
    summary = {
        "history_sources": {str(k): v for k, v in sorted(plan.items())},
        "history_rows_ignored": ignored,
        "parallel": len(parallel_now),
        "transformation": len(transformation),
        "development_plan": len(flags.development_plan),
    }
    return areas, summary


def rules_for_years(years: list[int], override: str, requested: list[int]) -> dict[int, RuleSet]:
    return {y: ruleset_for(y, override, requested) for y in years}


def stored_areas(con: duckdb.DuckDBPyConnection, list_year: int) -> pl.DataFrame | None:
    """mart_areas of a list year, if it was computed with the boundary version now in use."""
    try:
        rows = con.execute(
            "select boundary_version from meta_areas where list_year = $y", {"y": list_year}
        ).fetchall()
    except duckdb.CatalogException:
        return None
    if not rows or rows[0][0] != boundary_version(con):
        return None
    return con.sql("select * from mart_areas where list_year = $y order by area_id", params={"y": list_year}).pl()


def history_sources(con: duckdb.DuckDBPyConnection, list_year: int) -> dict[int, str]:
    """Where list year Y's history took each earlier year from ("file" or "computed"), as recorded
    in meta_areas when Y's areas were computed; {} when they were not."""
    try:
        rows = con.execute("select history_sources from meta_areas where list_year = $y", {"y": list_year}).fetchall()
    except duckdb.CatalogException:
        rows = []
    return {int(y): s for y, s in json.loads(rows[0][0]).items()} if rows and rows[0][0] else {}


def _file_statuses_in_use(con: duckdb.DuckDBPyConnection, years: list[int]) -> dict[int, YearStatus]:
    """The history file's statuses of `years` (stg_history), area ids not in the boundaries in use
    left out, as in the history."""
    if not years or not table_exists(con, "stg_history"):
        return {}
    hist = con.execute(
        "select area_id, list_year, list from stg_history where list_contains($y::integer[], list_year)",
        {"y": sorted(years)},
    ).fetchall()
    known = {r[0] for r in con.execute("select area_id from stg_areas").fetchall()}
    statuses, _ = file_statuses(hist, known)
    return statuses


def previous_lists(
    con: duckdb.DuckDBPyConnection, list_year: int, sources: dict[int, str] | None = None
) -> tuple[pl.DataFrame | None, tuple[str, ...] | None]:
    """Last year's lists to compare list year Y with (new/continuing marks, the areas that left),
    as Y's history took that year (meta_areas.history_sources), and the lists they know (None: all).
    A computed year: its mart_areas, if computed with the boundaries in use. A year from the history
    file: its parallel rows, and its transformation rows when it has any; the file holds no other
    list. Area ids not in the boundaries in use are left out, as in the history. `sources`: Y's
    history_sources, when the caller has read them."""
    prev_year = list_year - 1
    if sources is None:
        sources = history_sources(con, list_year)
    if sources.get(prev_year) != "file":
        return stored_areas(con, prev_year), None
    status = _file_statuses_in_use(con, [prev_year]).get(prev_year)
    if status is None:
        return None, None
    boundaries = con.sql("select area_id, area_name, kom from stg_areas order by area_id").pl()
    members = set(status.parallel) | set(status.transformation or ())
    known = ("parallel",) + (("transformation",) if status.transformation is not None else ())
    prev = boundaries.filter(pl.col("area_id").is_in(sorted(members))).with_columns(
        pl.lit(prev_year, pl.Int32).alias("list_year"),
        pl.col("area_id").is_in(sorted(status.parallel)).alias("parallel"),
        (pl.col("area_id").is_in(sorted(status.transformation)) if status.transformation is not None
         else pl.lit(None, pl.Boolean)).alias("transformation"),
    )  # fmt: skip
    return prev, known


def previous_areas(
    con: duckdb.DuckDBPyConnection, out_path: Path, list_year: int
) -> tuple[Any | None, tuple[str, ...] | None]:
    """Last year's lists for the `list_counts` suite of list year Y, and the lists they know (None:
    all): those of `previous_lists` (the source Y's history took for Y-1), else, when Y-1 was
    neither taken from the history file nor computed with the boundaries in use, last year's
    published OUT/Y-1/areas.csv under `out_path`, else none."""
    sources = history_sources(con, list_year)
    prev, known = previous_lists(con, list_year, sources)
    if prev is not None or sources.get(list_year - 1) == "file":
        return prev, known
    csv = Path(out_path) / str(list_year - 1) / "areas.csv"
    if csv.is_file():
        import pandas as pd

        return pd.read_csv(csv, dtype={"area_id": str, "ruleset": str}), None
    return None, None


def list_counts_over_years(con: duckdb.DuckDBPyConnection, up_to: int) -> pl.DataFrame:
    """Number of areas on each list per list year up to Y: the years computed with the boundaries
    in use, and the years Y's history took from the history file, whose parallel (and, when the
    file has them, transformation) counts are the file's (area ids not in the boundaries in use
    left out, as in the history). Columns list_year, list, n, source ("computed" or "file")."""
    schema = {"list_year": pl.Int32, "list": pl.String, "n": pl.Int64, "source": pl.String}
    version = boundary_version(con)
    try:
        frame = con.sql(
            "select a.list_year, "
            "count(*) filter (where vulnerable) as vulnerable, count(*) filter (where parallel) as parallel, "
            "count(*) filter (where transformation) as transformation, "
            "count(*) filter (where prevention) as prevention, "
            "count(*) filter (where combined_letting) as combined_letting "
            "from mart_areas a join meta_areas m using (list_year) "
            "where m.boundary_version = $v and a.list_year <= $y group by a.list_year order by a.list_year",
            params={"v": version, "y": up_to},
        ).pl()
    except duckdb.CatalogException:
        return pl.DataFrame(schema=schema)
    computed = (
        frame.unpivot(index="list_year", variable_name="list", value_name="n")
        .with_columns(pl.col("list_year").cast(pl.Int32), pl.col("n").cast(pl.Int64), source=pl.lit("computed"))
    )
    file_years = [y for y, s in history_sources(con, up_to).items() if s == "file"]
    rows = []
    for y, status in sorted(_file_statuses_in_use(con, file_years).items()):
        rows.append({"list_year": y, "list": "parallel", "n": len(status.parallel), "source": "file"})
        if status.transformation is not None:
            rows.append({"list_year": y, "list": "transformation", "n": len(status.transformation), "source": "file"})
    from_file = pl.DataFrame(rows, schema=schema)
    replaced = from_file.select("list_year", "list")
    return (
        pl.concat([computed.join(replaced, on=["list_year", "list"], how="anti").select(list(schema)), from_file])
        .sort("list_year", "list")
    )


def national_of(con: duckdb.DuckDBPyConnection, list_year: int) -> dict:
    rows = con.execute("select national_json from mart_national where list_year = $y", {"y": list_year}).fetchall()
    if not rows:
        raise InputError(f"list year {list_year} was not computed", year=list_year)
    return json.loads(rows[0][0])
