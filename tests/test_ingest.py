"""pipeline.ingest: validation before load, exact staging rows, reruns, unchanged files, errors."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest

from tests.ingest_helpers import (
    AREAS_CSV,
    PARCELS_CSV,
    REGISTER_ROWS,
    YEAR,
    frame,
    make_data_dir,
    snapshot,
    write_register,
)
from pipeline.errors import InputError
from pipeline.ingest import (
    ingest_register,
    ingest_registers,
    load_boundaries,
    load_history,
    load_reference,
    register_check_names,
)

TABLES = list(REGISTER_ROWS)


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A data dir and a warehouse with every 2024 register loaded, built once per module."""
    root = tmp_path_factory.mktemp("template")
    data = make_data_dir(root)
    _load_all(root / "out" / "warehouse.duckdb", data)
    return root


@pytest.fixture
def data(tmp_path, template) -> Path:
    shutil.copytree(template / "data", tmp_path / "data")
    return tmp_path / "data"


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "out" / "warehouse.duckdb"


@pytest.fixture
def loaded_db(db, data, template) -> Path:
    """`db` holding every register of `data` (a copy of the template's warehouse, paths rewritten)."""
    db.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(template / "out" / "warehouse.duckdb", db)
    with duckdb.connect(str(db)) as con:
        con.execute("update meta_ingest set source_path = replace(source_path, $a, $b)",
                    {"a": str(template / "data"), "b": str(data)})
    return db


def _connect(db: Path) -> duckdb.DuckDBPyConnection:
    db.parent.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(str(db))


def _load_all(db: Path, data: Path) -> dict[str, dict]:
    with _connect(db) as con:
        load_reference(con, data)
        return {t: ingest_register(con, data, t, YEAR) for t in TABLES}


def _rows(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_every_register_loads_exact_rows(data, db):
    meta = _load_all(db, data)
    assert {t: m["rows"] for t, m in meta.items()} == {
        "bef": 4, "akm": 3, "udda": 3, "ind": 3, "kraf": 3, "adresser": 3,
    }
    assert {m["status"] for m in meta.values()} == {"loaded"}
    assert _rows(db, "select * from stg_bef order by pnr") == [
        (2024, "p1", 1, 30, 1, "DNK", 101, "a1"),
        (2024, "p2", 2, 45, 2, "TUR", 101, "a2"),
        (2024, "p3", 1, 0, 3, "DNK", 147, None),
        (2024, "p4", 2, 125, 2, "SYR", 101, "a3"),
    ]
    assert _rows(db, "select * from stg_udda order by pnr") == [
        (2024, "p1", 1001, 1), (2024, "p2", None, None), (2024, "p4", 1510, 3),
    ]
    assert _rows(db, "select * from stg_ind order by pnr") == [
        (2024, "p1", 350000.5, True), (2024, "p2", -1200.25, True), (2024, "p4", None, False),
    ]
    assert _rows(db, "select * from stg_kraf order by afg_dato") == [
        (2024, "p1", dt.date(2024, 1, 1), "1234567", 1),
        (2024, "p1", dt.date(2024, 6, 15), "3100000", 3),
        (2024, "p2", dt.date(2024, 12, 31), "2000001", 6),
    ]
    assert _rows(db, "select * from stg_adresser order by adresse_id") == [
        (2024, "a1", 101, 100, "1a"), (2024, "a2", 101, 100, "2b"), (2024, "a3", 101, 100, "3"),
    ]


@pytest.mark.parametrize("threads", [1, 2])
def test_a_years_extracts_loaded_side_by_side_are_the_extracts_loaded_one_by_one(data, db, tmp_path, threads):
    one_by_one = tmp_path / "one_by_one.duckdb"
    _load_all(one_by_one, data)
    done = []
    with _connect(db) as con:
        # from an empty warehouse: the meta tables and code lists are created before the loads
        out = ingest_registers(con, data, TABLES, YEAR, threads=threads, on_done=lambda t, o: done.append(t))
    assert list(out) == TABLES  # in the order asked for, whichever load ended first
    assert {t: o["rows"] for t, o in out.items()} == {"bef": 4, "akm": 3, "udda": 3, "ind": 3, "kraf": 3, "adresser": 3}
    assert sorted(done) == sorted(TABLES)

    def tables(snap):  # the load times differ, nothing else
        return {t: rows for t, rows in snap.items() if t != "meta_ingest"}

    assert tables(snapshot(db)) == tables(snapshot(one_by_one))
    assert _rows(db, "select table_name, year, sha256, rows from meta_ingest order by 1, 2") == _rows(
        one_by_one, "select table_name, year, sha256, rows from meta_ingest order by 1, 2"
    )


def test_side_by_side_every_extract_is_attempted_and_failures_come_in_table_order(data, loaded_db):
    db = loaded_db
    write_register(data, "akm", YEAR, frame("akm", pnr=["p1", "p1", "p4"]))
    write_register(data, "kraf", YEAR, frame("kraf", afg_ger7=["1234567", "31", "2000001"]))
    write_register(data, "ind", YEAR, frame("ind", perindkialt_13=[1.0, 2.0, 3.0]))  # good, changed
    with _connect(db) as con:
        out = ingest_registers(con, data, TABLES, YEAR, threads=2)
    failed = [t for t, o in out.items() if isinstance(o, InputError)]
    assert failed == ["akm", "kraf"]
    assert str(out["akm"]).startswith(f"file {_path(data, 'akm')}, column pnr, year 2024: 2 of 3 rows share")
    assert str(out["kraf"]).startswith(f"file {_path(data, 'kraf')}, column afg_ger7, year 2024: 1 of 3 rows")
    assert out["ind"]["status"] == "loaded" and out["bef"]["status"] == "unchanged"
    # the failed loads left their tables as they were; the good one is in
    assert _rows(db, "select count(*) from stg_akm") == [(3,)]
    assert _rows(db, "select sum(perindkialt_13) from stg_ind") == [(6.0,)]


def test_side_by_side_an_error_of_the_callback_is_that_tables_outcome(data, db):
    def on_done(table, outcome):
        if table == "kraf":
            raise RuntimeError("the GX worker is gone")

    with _connect(db) as con:
        out = ingest_registers(con, data, TABLES, YEAR, threads=2, on_done=on_done)
    assert [t for t, o in out.items() if isinstance(o, Exception)] == ["kraf"]
    assert str(out["kraf"]) == "the GX worker is gone"
    assert out["bef"]["status"] == "loaded"


def test_side_by_side_sas_extracts_load_alone_after_the_others(data, db, monkeypatch):
    """SAS datasets are read into memory whole: they never load beside another extract."""
    import threading

    import pipeline.ingest as ingest_mod

    (data / "registers" / "ind_2024.parquet").rename(data / "registers" / "ind_2024.sas7bdat")
    running: list[str] = []
    seen: list[tuple[str, tuple[str, ...], bool]] = []
    lock = threading.Lock()

    def fake(con, data_dir, table, year):
        with lock:
            running.append(table)
            seen.append((table, tuple(running), threading.current_thread() is threading.main_thread()))
        try:
            return {"table": table, "rows": 0, "status": "loaded"}
        finally:
            with lock:
                running.remove(table)

    monkeypatch.setattr(ingest_mod, "ingest_register", fake)
    with _connect(db) as con:
        out = ingest_registers(con, data, TABLES, YEAR, threads=2)
    assert list(out) == TABLES
    ind = [entry for entry in seen if entry[0] == "ind"]
    assert ind == [("ind", ("ind",), True)]  # alone, in this thread
    assert seen[-1][0] == "ind"  # after the others
    assert all(not main for t, _, main in seen if t != "ind")


def test_staging_schema_is_the_architecture_schema(data, loaded_db):
    db = loaded_db
    types = dict(
        ((r[0], r[1]), r[2])
        for r in _rows(db, "select table_name, column_name, data_type from information_schema.columns "
                           "where table_name like 'stg_%'")
    )
    assert types[("stg_bef", "year")] == "INTEGER"
    assert [types[("stg_bef", c)] for c in ("pnr", "koen", "alder", "ie_type", "opr_land", "kom", "adresse_id")] == [
        "VARCHAR", "INTEGER", "INTEGER", "INTEGER", "VARCHAR", "INTEGER", "VARCHAR"]
    assert types[("stg_ind", "perindkialt_13")] == "DOUBLE"
    assert types[("stg_ind", "skattepligtig")] == "BOOLEAN"
    assert types[("stg_kraf", "afg_dato")] == "DATE"
    assert types[("stg_kraf", "afg_ger7")] == "VARCHAR"
    assert types[("stg_adresser", "matrikelnr")] == "VARCHAR"


def test_csv_extracts_load_the_same_rows_as_parquet(tmp_path):
    pq_data = make_data_dir(tmp_path / "pq")
    csv_data = make_data_dir(tmp_path / "csv", fmt="csv")
    pq_db, csv_db = tmp_path / "pq.duckdb", tmp_path / "csv.duckdb"
    _load_all(pq_db, pq_data)
    _load_all(csv_db, csv_data)
    for t in TABLES:
        assert _rows(csv_db, f"select * from stg_{t} order by all") == _rows(pq_db, f"select * from stg_{t} order by all")


def test_rerun_does_not_duplicate_and_unchanged_file_is_skipped(data, loaded_db):
    db = loaded_db
    with _connect(db) as con:
        before = con.execute("select ingested_at from meta_ingest where table_name = 'bef'").fetchall()
        again = ingest_register(con, data, "bef", YEAR)
        after = con.execute("select ingested_at from meta_ingest where table_name = 'bef'").fetchall()
    assert again["status"] == "unchanged"
    assert again["rows"] == 4
    assert before == after  # nothing was rewritten
    assert _rows(db, "select count(*) from stg_bef") == [(4,)]
    assert set(again["checks"]) == set(register_check_names("bef"))


def test_changed_file_replaces_the_year_only(data, loaded_db):
    db = loaded_db
    # another year, then a changed 2024 file: 2023 stays, 2024 is replaced (2 rows now)
    write_register(data, "akm", 2023)
    write_register(data, "akm", 2024, pl.DataFrame({"pnr": ["q1", "q2"], "socio13": [310, 420]}))
    with _connect(db) as con:
        m23 = ingest_register(con, data, "akm", 2023)
        m24 = ingest_register(con, data, "akm", 2024)
    assert (m23["status"], m23["rows"], m24["status"], m24["rows"]) == ("loaded", 3, "loaded", 2)
    assert _rows(db, "select year, count(*) from stg_akm group by year order by year") == [(2023, 3), (2024, 2)]
    assert _rows(db, "select count(*) from meta_ingest where table_name = 'akm'") == [(2,)]


def test_meta_ingest_records_file_and_hash(data, loaded_db):
    db = loaded_db
    with _connect(db) as con:
        meta = {"bef": ingest_register(con, data, "bef", YEAR)}
    import hashlib

    path = data / "registers" / "bef_2024.parquet"
    assert meta["bef"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert _rows(db, "select source_path, sha256, rows from meta_ingest where table_name = 'bef' and year = 2024") == [
        (str(path), meta["bef"]["sha256"], 4)
    ]


def test_reference_is_loaded_on_demand_and_overridable(data, db):
    # DATA/reference/municipalities.csv overrides the package list: only 101 exists now.
    (data / "reference").mkdir()
    (data / "reference" / "municipalities.csv").write_text(
        "kom,kom_name,region,region_name\n101,København,1084,Region Hovedstaden\n", encoding="utf-8"
    )
    with _connect(db) as con:
        meta = load_reference(con, data)
        assert meta["overrides"] == ["municipalities"]
        assert meta["tables"]["municipalities"] == 1
        with pytest.raises(InputError) as e:
            ingest_register(con, data, "bef", YEAR)  # p3 lives in 147
    assert str(e.value) == (
        f"file {data / 'registers' / 'bef_2024.parquet'}, column kom, year 2024: "
        "1 of 4 rows have a municipality code that is not in the code list municipalities"
    )


# --- bad inputs: one line naming file, column and year; the warehouse is left as it was ------


def _bad_input(data: Path, db: Path, table: str, df: pl.DataFrame | None = None, fmt: str = "parquet",
               damage=None) -> InputError:
    """With good data loaded in `db`, replace `table`'s file by a bad one (or `damage()` it),
    ingest: return the error."""
    before = snapshot(db)
    if df is not None:
        write_register(data, table, YEAR, df, fmt)
    if damage is not None:
        damage()
    with _connect(db) as con:
        with pytest.raises(InputError) as e:
            ingest_register(con, data, table, YEAR)
    assert snapshot(db) == before
    msg = str(e.value)
    assert "\n" not in msg
    return e.value


def _path(data: Path, table: str, ext: str = "parquet") -> str:
    return str(data / "registers" / f"{table}_{YEAR}.{ext}")


def test_missing_column(data, loaded_db):
    db = loaded_db
    err = _bad_input(data, db, "bef", frame("bef").drop("ie_type"))
    assert str(err) == f"file {_path(data, 'bef')}, column ie_type, year 2024: required column is missing"


def test_wrong_type(data, loaded_db):
    db = loaded_db
    err = _bad_input(data, db, "bef", frame("bef", alder=["30", "45", "ti", "125"]))
    assert str(err) == (
        f"file {_path(data, 'bef')}, column alder, year 2024: 1 of 4 rows are not whole numbers (type int)"
    )
    assert "ti" not in err.problem


def test_duplicate_pnr(data, loaded_db):
    db = loaded_db
    err = _bad_input(data, db, "bef", frame("bef", pnr=["p1", "p2", "p1", "p4"]))
    assert str(err) == (
        f"file {_path(data, 'bef')}, column pnr, year 2024: 2 of 4 rows share their pnr with another row "
        "(pnr must be unique)"
    )
    assert "p1" not in err.problem


def test_unknown_municipality(data, loaded_db):
    db = loaded_db
    err = _bad_input(data, db, "bef", frame("bef", kom=[101, 999, 998, 101]))
    assert str(err) == (
        f"file {_path(data, 'bef')}, column kom, year 2024: "
        "2 of 4 rows have a municipality code that is not in the code list municipalities"
    )


def test_age_out_of_range(data, loaded_db):
    db = loaded_db
    err = _bad_input(data, db, "bef", frame("bef", alder=[30, 45, 0, 126]))
    assert str(err) == f"file {_path(data, 'bef')}, column alder, year 2024: 1 of 4 rows have an age outside 0-125"


def test_decision_date_outside_year(data, loaded_db):
    db = loaded_db
    dates = [dt.date(2023, 12, 31), dt.date(2024, 6, 15), dt.date(2025, 1, 1)]
    err = _bad_input(data, db, "kraf", frame("kraf", afg_dato=dates))
    assert str(err) == (
        f"file {_path(data, 'kraf')}, column afg_dato, year 2024: "
        "2 of 3 rows have a decision date outside the extract's year"
    )


def test_crime_code_not_seven_digits(data, loaded_db):
    db = loaded_db
    err = _bad_input(data, db, "kraf", frame("kraf", afg_ger7=["123456", "3100000", "12a4567"]))
    assert "column afg_ger7, year 2024: 2 of 3 rows have a crime code that is not a 7-digit code" in str(err)


def test_unknown_codes_in_other_registers(data, loaded_db):
    db = loaded_db
    err = _bad_input(data, db, "udda", frame("udda", hfaudd_kilde=[1, None, 9]))
    assert str(err).endswith(
        "column hfaudd_kilde, year 2024: 1 of 3 rows have an education source that is not in the code list education_sources"
    )


def test_null_in_required_column(data, loaded_db):
    db = loaded_db
    err = _bad_input(data, db, "akm", frame("akm", pnr=["p1", None, "p4"]))
    assert str(err) == f"file {_path(data, 'akm')}, column pnr, year 2024: 1 of 3 rows are empty (the column is required)"


def test_truncated_parquet(data, loaded_db):
    db = loaded_db
    p = Path(_path(data, "bef"))
    err = _bad_input(data, db, "bef", damage=lambda: p.write_bytes(p.read_bytes()[:200]))
    assert str(err).startswith(f"file {p}, year 2024: cannot read the file as Parquet")


def test_missing_file(data, loaded_db):
    db = loaded_db
    err = _bad_input(data, db, "ind", damage=lambda: Path(_path(data, "ind")).unlink())
    assert str(err) == (
        f"file {_path(data, 'ind')}, year 2024: register extract is missing (looked for .parquet, .csv, .sas7bdat)"
    )


def _bef_as_damaged_csv(data, db, body):
    """bef replaced by a CSV of its frame whose bytes are `body(lines)`: (error, path, lines, pnrs)."""
    df = frame("bef")
    lines = df.write_csv(None).splitlines()
    p = Path(_path(data, "bef", "csv"))

    def damage():
        Path(_path(data, "bef")).unlink()
        p.write_bytes(body(lines))

    return _bad_input(data, db, "bef", damage=damage), p, lines, df["pnr"].to_list()


def test_csv_not_utf8_names_file_and_line_never_the_row(data, loaded_db):
    # A Latin-1 byte (ø) in a column the checks before the load do not read: DuckDB meets it only
    # at the insert, and its message quotes the whole line (a pnr): the error names file, year and
    # line number only.
    err, p, lines, pnrs = _bef_as_damaged_csv(
        data, loaded_db,
        lambda lines: "\n".join(lines[:-1]).encode("utf-8") + b"\n" + lines[-1][:-1].encode("utf-8") + b"\xf8\n")
    assert str(err) == (
        f"file {p}, year 2024: cannot read the file as CSV (UTF-8 with a header row): not UTF-8 at line "
        f"{len(lines)} (save it as UTF-8)"
    )
    assert not any(v in str(err) for v in pnrs)


def test_csv_with_an_unclosed_quote_says_so_not_that_a_column_is_missing(data, loaded_db):
    # DuckDB finds no delimiter that splits every row alike and reads each line as one field,
    # named after the whole header line: every contract column then looked missing.
    def unclosed(lines):
        broken = lines[2].split(",")
        broken[1] = '"' + broken[1]
        return ("\n".join([*lines[:2], ",".join(broken), *lines[3:]]) + "\n").encode("utf-8")

    err, p, _, pnrs = _bef_as_damaged_csv(data, loaded_db, unclosed)
    assert str(err) == (
        f"file {p}, year 2024: cannot read the file as CSV (UTF-8 with a header row): its header splits "
        "on ',' but not every row does (an unclosed quote?)"
    )
    assert not any(v in str(err) for v in pnrs)


def test_wrong_type_in_csv(data, loaded_db):
    db = loaded_db
    df = frame("ind").with_columns(pl.Series("skattepligtig", ["true", "maybe", "0"]))
    err = _bad_input(data, db, "ind", df, fmt="csv")
    assert str(err) == (
        f"file {_path(data, 'ind', 'csv')}, column skattepligtig, year 2024: 1 of 3 rows are not booleans (true/false/1/0)"
    )


def test_non_integral_code_from_a_sas_float(data, loaded_db):
    db = loaded_db
    # SAS stores codes as floats; a Parquet export of one behaves the same: 131.0 ok, 210.5 not.
    err = _bad_input(data, db, "akm", pl.DataFrame({"pnr": ["p1", "p2"], "socio13": [131.0, 210.5]}))
    assert str(err) == f"file {_path(data, 'akm')}, column socio13, year 2024: 1 of 2 rows are not whole numbers (type int)"


def test_failure_on_first_load_leaves_no_table(data, db):
    write_register(data, "bef", YEAR, frame("bef", alder=[30, 45, 0, 200]))
    with _connect(db) as con:
        load_reference(con, data)
        with pytest.raises(InputError):
            ingest_register(con, data, "bef", YEAR)
    assert "stg_bef" not in snapshot(db)
    assert snapshot(db)["meta_ingest"] == sorted(snapshot(db)["meta_ingest"])  # only ref_ rows
    assert not any("'bef'" in r for r in snapshot(db)["meta_ingest"])


# --- boundaries --------------------------------------------------------------------------------


def test_boundaries_load_and_warn(data, loaded_db):
    db = loaded_db
    with _connect(db) as con:
        meta = load_boundaries(con, data / "boundaries")
        again = load_boundaries(con, data / "boundaries")
    import hashlib

    version = hashlib.sha256((AREAS_CSV + PARCELS_CSV).encode()).hexdigest()
    assert (meta["version"], meta["areas"], meta["parcels"], meta["status"]) == (version, 2, 3, "loaded")
    assert meta["parcels_without_address"] == 1  # (200, 9) of A2
    assert again["status"] == "unchanged"
    assert _rows(db, "select * from stg_areas order by area_id") == [("A1", "Nordparken", 101), ("A2", "Sydparken", 147)]
    assert _rows(db, "select * from stg_parcels order by all") == [("A1", 100, "1a"), ("A1", 100, "2b"), ("A2", 200, "9")]
    assert _rows(db, "select * from meta_boundaries") == [(version, str(data / "boundaries"), 2, 3)]


def test_new_boundary_version_replaces_the_old(data, db, tmp_path):
    with _connect(db) as con:
        load_boundaries(con, data / "boundaries")
        b2 = tmp_path / "b2"
        b2.mkdir()
        (b2 / "areas.csv").write_text("area_id,area_name,kom\nA1a,Nord A,101\n", encoding="utf-8")
        (b2 / "parcels.csv").write_text("area_id,ejerlavskode,matrikelnr\nA1a,100,1a\n", encoding="utf-8")
        meta = load_boundaries(con, b2)
    assert (meta["areas"], meta["parcels"], meta["status"]) == (1, 1, "loaded")
    assert _rows(db, "select area_id from stg_areas") == [("A1a",)]
    assert _rows(db, "select count(*) from meta_boundaries") == [(1,)]


@pytest.mark.parametrize(
    ("file", "text", "expected"),
    [
        ("areas.csv", "area_id,area_name,kom\nA1,x,101\nA1,y,101\nA2,z,147\n",
         "column area_id: 1 area_id values are listed more than once (e.g. A1)"),
        ("parcels.csv", "area_id,ejerlavskode,matrikelnr\nA1,100,1a\nA2,100,1a\n",
         "column matrikelnr: 1 parcels (ejerlavskode, matrikelnr) are listed more than once "
         "(a parcel belongs to at most one area)"),
        ("parcels.csv", "area_id,ejerlavskode,matrikelnr\nA1,100,1a\nB7,100,2b\n",
         "column area_id: 1 area_id values are not in areas.csv (e.g. B7)"),
        ("areas.csv", "area_id,area_name,kom\nA1,x,101\nA2,z,999\n",
         "column kom: 1 areas have a municipality code that is not in the code list municipalities (e.g. A2)"),
        ("areas.csv", "area_id,kom\nA1,101\n", "column area_name: required column is missing"),
        ("parcels.csv", "area_id,ejerlavskode,matrikelnr\nA1,1OO,1a\n",
         "column ejerlavskode: 1 of 1 rows are not whole numbers (type int)"),
    ],
)
def test_boundary_errors(data, db, file, text, expected):
    with _connect(db) as con:
        load_boundaries(con, data / "boundaries")
    before = snapshot(db)
    (data / "boundaries" / file).write_text(text, encoding="utf-8")
    with _connect(db) as con:
        with pytest.raises(InputError) as e:
            load_boundaries(con, data / "boundaries")
    assert str(e.value) == f"file {data / 'boundaries' / file}, {expected}"
    assert snapshot(db) == before


@pytest.mark.parametrize(("file", "header"), [("parcels.csv", "area_id,ejerlavskode,matrikelnr\n"),
                                             ("areas.csv", "area_id,area_name,kom\n")])
def test_a_boundary_file_with_only_its_header_is_an_error(data, db, file, header):
    # it published every area with 0 residents (no list at all), with two warnings
    (data / "boundaries" / file).write_text(header, encoding="utf-8")
    with _connect(db) as con:
        with pytest.raises(InputError) as e:
            load_boundaries(con, data / "boundaries")
    assert str(e.value) == (
        f"file {data / 'boundaries' / file}: the file has no rows (a boundary version needs its areas and their parcels)"
    )


def test_missing_boundary_file(data, db):
    (data / "boundaries" / "parcels.csv").unlink()
    with _connect(db) as con:
        with pytest.raises(InputError) as e:
            load_boundaries(con, data / "boundaries")
    assert str(e.value) == f"file {data / 'boundaries' / 'parcels.csv'}: boundary file is missing"


# --- history -------------------------------------------------------------------------------------


def test_history_loads_and_counts_unknown_areas(data, db):
    with _connect(db) as con:
        load_boundaries(con, data / "boundaries")
        meta = load_history(con, data)
    assert (meta["rows"], meta["status"], meta["unknown_area_rows"], meta["unknown_areas"]) == (3, "loaded", 1, 1)
    assert _rows(db, "select * from stg_history order by all") == [
        ("A1", 2019, "parallel"), ("A1", 2020, "parallel"), ("Z9", 2018, "parallel"),
    ]


def test_history_absent_gives_empty_table(tmp_path, db):
    data = make_data_dir(tmp_path, history=False)
    with _connect(db) as con:
        load_boundaries(con, data / "boundaries")
        meta = load_history(con, data)
    assert (meta["rows"], meta["status"], meta["unknown_area_rows"]) == (0, "absent", 0)
    assert _rows(db, "select count(*) from stg_history") == [(0,)]
    assert [r[0] for r in _rows(db, "describe stg_history")] == ["area_id", "list_year", "list"]


def test_history_unknown_list_is_an_error(data, db):
    with _connect(db) as con:
        load_boundaries(con, data / "boundaries")
        load_history(con, data)
    before = snapshot(db)
    path = data / "history" / "lists.csv"
    path.write_text("area_id,list_year,list\nA1,2019,parallel\nA1,2018,ghetto\nA2,2018,hard\n", encoding="utf-8")
    with _connect(db) as con:
        with pytest.raises(InputError) as e:
            load_history(con, data)
    assert str(e.value) == f"file {path}, column list: 2 of 3 rows have a list other than parallel or transformation"
    assert snapshot(db) == before


def test_quality_profile_is_measured_in_the_load_pass(data, loaded_db):
    """The counts the GX register suites validate come from the ingestion's own aggregate (no
    second scan) and equal the counts measured afresh on the staging table."""
    from pipeline.quality.profiles import _stored_profile, compute_register_frame, register_frame

    with duckdb.connect(str(loaded_db)) as con:
        for table in TABLES:
            assert _stored_profile(con, table, YEAR) is not None, table
            stored = register_frame(con, table, YEAR).to_dict("records")
            fresh = compute_register_frame(con, table, YEAR).to_dict("records")
            assert stored == fresh, table
        udda = register_frame(con, "udda", YEAR).iloc[0]
        assert udda["rows"] == 3 and udda["null_hfaudd_share"] == pytest.approx(1 / 3)
        # another file for the year: the stored profile no longer applies
        con.execute("update meta_ingest set sha256 = 'other' where table_name = 'udda'")
        assert _stored_profile(con, "udda", YEAR) is None


def test_a_code_list_with_an_empty_code_is_an_error(data, db):
    ref = data / "reference"
    ref.mkdir(exist_ok=True)
    text = (Path(__file__).parents[1] / "pipeline" / "reference" / "municipalities.csv").read_text(encoding="utf-8")
    header, first, *rest = text.splitlines()
    (ref / "municipalities.csv").write_text("\n".join([header, "," + first.split(",", 1)[1], first, *rest]) + "\n",
                                            encoding="utf-8")  # fmt: skip
    with _connect(db) as con, pytest.raises(InputError) as info:
        load_reference(con, data)
    assert str(info.value) == f"file {ref / 'municipalities.csv'}, column kom: a code is empty"
