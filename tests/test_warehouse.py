"""pipeline.warehouse at the size where DuckDB writes whole row groups (122,880 rows) to disk
during a transaction: the national scale that the small test worlds never reach.

DuckDB 2.0.0 loses the column statistics of a table created by `create table ... as select ...
where false` and filled from a Parquet file in the same transaction: in that connection every
filtered scan of it then returns no rows. Before the fix the blocking checks of a national
register saw no rows (a duplicate pnr passed) and the regional mean incomes came out empty.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipeline.errors import InputError
from pipeline import ingest
from pipeline.ingest import ingest_register, keys_strictly_increasing, load_reference
from pipeline.warehouse import UNCOMPRESSED_COLUMNS, connect, replace_partition, table_exists
from pipeline.contract import polars_schema
from tests.ingest_helpers import SCHEMAS, write_register

N = 130_000  # more than one row group


@pytest.fixture
def parquet(tmp_path) -> Path:
    path = tmp_path / "ids.parquet"
    pl.DataFrame({"pnr": [f"p{i}" for i in range(N)], "v": [i % 7 for i in range(N)]}).write_parquet(path)
    return path


def test_filtered_scans_see_every_row_after_the_first_load(tmp_path, parquet):
    select = "select cast($year as integer) as year, pnr, v from read_parquet($path)"
    with connect(tmp_path / "w.duckdb") as con:
        rows = replace_partition(con, "t", {"year": 2024}, select, {"year": 2024, "path": str(parquet)})
        assert rows == N
        # the same connection, as the checks and the next SQL step of an asset use it
        assert con.execute("select count(*) from (select pnr from t where year = 2024 group by pnr)").fetchall() == [(N,)]
        assert con.execute("select min(year), max(year), sum(v) from t").fetchall() == [(2024, 2024, sum(i % 7 for i in range(N)))]
        assert con.execute("select count(*) from t where v is not null and year = $y", {"y": 2024}).fetchall() == [(N,)]


def test_identifier_columns_are_stored_uncompressed(tmp_path, parquet):
    select = "select cast($year as integer) as year, pnr, v from read_parquet($path)"
    with connect(tmp_path / "w.duckdb") as con:
        replace_partition(con, "t", {"year": 2024}, select, {"year": 2024, "path": str(parquet)})
        con.execute("checkpoint")
        codecs = dict(
            con.execute(
                "select column_name, string_agg(distinct compression, ',') from pragma_storage_info('t') "
                "where segment_type <> 'VALIDITY' group by 1"
            ).fetchall()
        )
    assert "pnr" in UNCOMPRESSED_COLUMNS
    assert codecs["pnr"] == "Uncompressed"
    assert codecs["v"] != "Uncompressed"


EXACT = polars_schema("bef")  # ints stored as Int32 = the contract's INTEGER: checks run on the loaded rows
WIDE = SCHEMAS["bef"]  # ints stored as Int64: checked in a pass over the file before the load


def _big_bef(schema=EXACT, **override) -> pl.DataFrame:
    cols = {
        "pnr": [f"p{i:07d}" for i in range(N)],
        "koen": [1 + i % 2 for i in range(N)],
        "alder": [i % 100 for i in range(N)],
        "ie_type": [1] * N,
        "opr_land": ["DNK"] * N,
        "kom": [101] * N,
        "adresse_id": [f"a{i}" for i in range(N)],
    }
    for name, (index, value) in override.items():
        cols[name][index] = value
    return pl.DataFrame(cols, schema=schema)


@pytest.mark.parametrize("schema", [EXACT, WIDE], ids=["exact", "wide"])
@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"pnr": (N - 4, None)}, "1 of 130000 rows are empty (the column is required)"),
        ({"pnr": (N - 1, "p0000005")}, "2 of 130000 rows share their pnr with another row (pnr must be unique)"),
        ({"kom": (N - 2, 998)}, "1 of 130000 rows have a municipality code that is not in the code list municipalities"),
        ({"alder": (N - 3, 130)}, "1 of 130000 rows have an age outside 0-125"),
    ],
)
def test_blocking_checks_see_a_whole_national_sized_file(tmp_path, override, message, schema):
    data = tmp_path / "data"
    path = write_register(data, "bef", 2024, _big_bef(schema, **override))
    db = tmp_path / "out" / "warehouse.duckdb"
    with connect(db) as con:
        load_reference(con, None)
        with pytest.raises(InputError) as info:
            ingest_register(con, data, "bef", 2024)
    assert str(info.value) == f"file {path}, column {next(iter(override))}, year 2024: {message}"
    with duckdb.connect(str(db), read_only=True) as con:  # nothing of the bad file was kept
        tables = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
        assert "stg_bef" not in tables or con.execute("select count(*) from stg_bef").fetchall() == [(0,)]


@pytest.mark.parametrize("schema", [EXACT, WIDE], ids=["exact", "wide"])
def test_a_sound_national_sized_file_loads(tmp_path, schema):
    data = tmp_path / "data"
    write_register(data, "bef", 2024, _big_bef(schema))
    with connect(tmp_path / "w.duckdb") as con:
        load_reference(con, None)
        meta = ingest_register(con, data, "bef", 2024)
        assert meta["rows"] == N and meta["status"] == "loaded"
        assert con.execute("select count(distinct pnr), sum(alder) from stg_bef where year = 2024").fetchall() == [
            (N, sum(i % 100 for i in range(N)))
        ]


def test_type_checks_on_the_loaded_rows_are_reported_before_the_other_checks(tmp_path):
    """The checks left for the loaded rows of an exactly typed file run in the same aggregate as
    the blocking checks and the profile (pipeline.ingest._register_checks), and are reported first,
    as they were when they ran before those: an empty pnr beats a duplicate key, an unknown code and
    an age out of range in the same file (an infinite income beating a duplicate pnr: below)."""
    data = tmp_path / "data"
    bad = _big_bef(EXACT, pnr=(N - 4, None), kom=(N - 2, 998), alder=(N - 3, 130))
    bad = bad.with_columns(pl.when(pl.int_range(pl.len()) == N - 1).then(pl.lit("p0000005")).otherwise(pl.col("pnr"))
                           .alias("pnr"))  # fmt: skip
    path = write_register(data, "bef", 2024, bad)
    with connect(tmp_path / "w.duckdb") as con:
        load_reference(con, None)
        with pytest.raises(InputError) as info:
            ingest_register(con, data, "bef", 2024)
        assert str(info.value) == f"file {path}, column pnr, year 2024: 1 of {N} rows are empty (the column is required)"
        assert con.execute("select count(*) from duckdb_tables() where table_name = 'stg_bef'"
                           " and estimated_size > 0").fetchall() == [(0,)]  # fmt: skip


def test_exactly_typed_file_is_checked_on_the_loaded_rows(tmp_path):
    """An extract stored in the contract types is read once (the load); its value checks run on
    the loaded rows and give the same errors as the pass before the load."""
    data = tmp_path / "data"
    ind = pl.DataFrame(
        {"pnr": ["p1", "p2", "p3"], "perindkialt_13": [1.5, float("inf"), None], "skattepligtig": [True, True, None]},
        schema=polars_schema("ind"),
    )
    # with a duplicate pnr too: the type check is reported first
    path = write_register(data, "ind", 2024, ind.with_columns(pl.Series("pnr", ["p1", "p1", "p3"])))
    with connect(tmp_path / "w.duckdb") as con:
        load_reference(con, None)
        with pytest.raises(InputError) as info:
            ingest_register(con, data, "ind", 2024)
        assert str(info.value) == f"file {path}, column perindkialt_13, year 2024: 1 of 3 rows are infinite, not numbers (type float)"
        write_register(data, "ind", 2024, ind.with_columns(pl.Series("perindkialt_13", [1.5, 2.0, None])))
        with pytest.raises(InputError) as info:
            ingest_register(con, data, "ind", 2024)
        assert str(info.value) == f"file {path}, column skattepligtig, year 2024: 1 of 3 rows are empty (the column is required)"
        write_register(data, "ind", 2024, ind.with_columns(pl.Series("perindkialt_13", [1.5, 2.0, None]),
                                                           pl.Series("skattepligtig", [True, False, True])))
        assert ingest_register(con, data, "ind", 2024)["rows"] == 3
        assert con.execute("select count(*), count(perindkialt_13) from stg_ind").fetchall() == [(3, 2)]


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_a_nan_income_is_a_missing_income(tmp_path, fmt):
    """METHOD § 3 C4 leaves out a person with a null income; pandas and NumPy hold a missing value
    as NaN, so a NaN (a Parquet double, or the text NaN in a CSV) is read as null (ASSUMPTIONS B15)."""
    data = tmp_path / "data"
    ind = pl.DataFrame(
        {"pnr": ["p1", "p2", "p3", "p4"], "perindkialt_13": [1.5, float("nan"), None, -2.0],
         "skattepligtig": [True, True, True, False]},
        schema=polars_schema("ind"),
    )  # fmt: skip
    if fmt == "parquet":
        write_register(data, "ind", 2024, ind)
    else:
        (data / "registers").mkdir(parents=True)
        (data / "registers" / "ind_2024.csv").write_text(
            "pnr,perindkialt_13,skattepligtig\np1,1.5,true\np2,nan,true\np3,,true\np4,-2,false\n", encoding="utf-8"
        )
    with connect(tmp_path / "w.duckdb") as con:
        load_reference(con, None)
        assert ingest_register(con, data, "ind", 2024)["rows"] == 4
        assert con.execute(
            "select pnr, perindkialt_13 from stg_ind order by pnr"
        ).fetchall() == [("p1", 1.5), ("p2", None), ("p3", None), ("p4", -2.0)]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["a", "b", "c", "d", "e"], True),
        (["a", "b", "b", "d", "e"], False),  # a repeat inside a batch
        (["a", "b", "c", "c", "e"], False),  # a repeat across batches of two (c | c)
        (["a", "b", "c", "d", "c"], False),  # unsorted
        (["b", "a", "c", "d", "e"], False),
        (["a", "b", None, "d", "e"], False),  # a null says nothing
        (["a10", "a2", "a3", "b", "c"], True),  # byte order, not numeric order
    ],
)
def test_keys_strictly_increasing(tmp_path, values, expected):
    with connect(tmp_path / "w.duckdb") as con:
        con.execute("create table t (year integer, pnr varchar)")
        con.execute("insert into t select 2024, unnest($v)", {"v": values})
        con.execute("insert into t values (2023, 'a'), (2023, 'a')")  # another year: not looked at
        for batch_rows in (2, 3, 1 << 20):
            assert keys_strictly_increasing(con, "t", "pnr", 2024, len(values), batch_rows=batch_rows) is expected
        # a count that differs from the rows loaded (a storage fault) never passes as sorted
        assert keys_strictly_increasing(con, "t", "pnr", 2024, len(values) + 1) is False


@pytest.mark.parametrize("order", ["sorted", "unsorted"])
@pytest.mark.parametrize("duplicate", [False, True])
def test_unique_key_check_is_exact_for_sorted_and_unsorted_files(tmp_path, monkeypatch, order, duplicate):
    """A file sorted by pnr passes the unique-key check by the neighbour comparison; any other file
    (unsorted, or a sorted file with a repeat) is counted exactly, and every repeat is found."""
    df = _big_bef()
    if duplicate:  # p0000010 twice, next to each other while sorted
        df = df.with_columns(pl.when(pl.int_range(pl.len()) == 11).then(pl.lit("p0000010")).otherwise(pl.col("pnr")).alias("pnr"))
    if order == "unsorted":
        df = df.reverse()
    seen: list[bool] = []
    original = ingest.keys_strictly_increasing

    def spy(*args, **kwargs):
        seen.append(original(*args, **kwargs))
        return seen[-1]

    monkeypatch.setattr(ingest, "keys_strictly_increasing", spy)
    data = tmp_path / "data"
    path = write_register(data, "bef", 2024, df)
    with connect(tmp_path / "w.duckdb") as con:
        load_reference(con, None)
        if duplicate:
            with pytest.raises(InputError) as info:
                ingest_register(con, data, "bef", 2024)
            assert str(info.value) == (f"file {path}, column pnr, year 2024: "
                                       "2 of 130000 rows share their pnr with another row (pnr must be unique)")
        else:
            assert ingest_register(con, data, "bef", 2024)["checks"]["unique_key"] == {"passed": True, "failed_rows": 0}
    assert seen == [order == "sorted" and not duplicate]


def test_table_exists_sees_what_a_query_would_see(tmp_path):
    """Tables, views and temporary tables count; a table created in an open transaction only for
    that connection; a name is never parsed (a dot or a quote is part of it)."""
    with connect(tmp_path / "w.duckdb") as con:
        con.execute("create table stg_x (a integer)")
        con.execute("create view v_x as select 1 as a")
        con.execute("create temp table t_x (a integer)")
        con.execute('create table "odd.na""me" (a integer)')
        assert [table_exists(con, t) for t in ("stg_x", "v_x", "t_x", 'odd.na"me')] == [True] * 4
        assert [table_exists(con, t) for t in ("stg_y", "odd", "main.stg_x", "")] == [False] * 4
        con.execute("begin transaction")
        con.execute("create table in_tx (a integer)")
        other = con.cursor()
        assert table_exists(con, "in_tx") and not table_exists(other, "in_tx")
        con.execute("rollback")
        assert not table_exists(con, "in_tx")
        other.close()
