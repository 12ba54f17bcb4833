"""Readers: Parquet, CSV and SAS files to the contract's types; strict casts; one-line errors."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipeline.contract import REGISTERS, Column, Table
from pipeline.errors import InputError
from pipeline.readers import close_source, open_source, read_typed, trim_could_change, trimmed
from pipeline.warehouse import CONFIG

# Real SAS datasets (pyreadstat's public test data), shipped with the project's contract.
SAS_DIR = Path("/work/shared/testdata/sas")

SAMPLE = Table(
    "sample",
    (
        Column("mychar", "string"),
        Column("mynum", "float"),
        Column("mydate", "date", nullable=True),
        Column("dtime", "date", nullable=True),
        Column("mylabl", "int"),
        Column("myord", "int"),
    ),
)

# sample.csv, typed by hand: SAS stores mylabl/myord as 1.0, 2.0; dtime's time of day is dropped.
SAMPLE_ROWS = [
    ("a", 1.1, dt.date(2018, 5, 6), dt.date(2018, 5, 6), 1, 1),
    ("b", 1.2, dt.date(1880, 5, 6), dt.date(1880, 5, 6), 2, 2),
    ("c", -1000.3, dt.date(1960, 1, 1), dt.date(1960, 1, 1), 1, 3),
    ("d", -1.4, dt.date(1583, 1, 1), dt.date(1583, 1, 1), 2, 1),
    ("e", 1000.3, None, None, 1, 1),
]


@pytest.fixture
def con():
    c = duckdb.connect()
    yield c
    c.close()


@pytest.mark.parametrize("name", ["sample.sas7bdat", "sample_bincompressed.sas7bdat", "sample.csv"])
def test_sample_files_read_to_contract_types(con, name):
    assert read_typed(con, SAS_DIR / name, SAMPLE, 2024) == SAMPLE_ROWS


def test_sas_and_csv_agree_and_ints_are_ints(con):
    sas = read_typed(con, SAS_DIR / "sample.sas7bdat", SAMPLE)
    csv = read_typed(con, SAS_DIR / "sample.csv", SAMPLE)
    assert sas == csv
    assert all(type(r[4]) is int and type(r[5]) is int for r in sas)


def test_sas_missing_values_are_null(con):
    table = Table("m", tuple(Column(f"var{i}", "int", nullable=True) for i in range(1, 10)))
    assert read_typed(con, SAS_DIR / "missing_test.sas7bdat", table) == [(None,) * 8 + (1,)]


def test_sas_missing_value_in_required_column_is_an_error(con):
    table = Table("m", (Column("var1", "int"),))
    with pytest.raises(InputError) as e:
        read_typed(con, SAS_DIR / "missing_test.sas7bdat", table, 2024)
    assert str(e.value) == (
        f"file {SAS_DIR / 'missing_test.sas7bdat'}, column var1, year 2024: "
        "1 of 1 rows are empty (the column is required)"
    )


def test_sas_non_integral_code_is_rejected(con):
    # mynum holds 1.1, 1.2, -1000.3, -1.4, 1000.3: none is a whole number.
    table = Table("s", (Column("mychar", "string"), Column("mynum", "int")))
    with pytest.raises(InputError) as e:
        read_typed(con, SAS_DIR / "sample.sas7bdat", table, 2023)
    msg = str(e.value)
    assert msg == (
        f"file {SAS_DIR / 'sample.sas7bdat'}, column mynum, year 2023: 5 of 5 rows are not whole numbers (type int)"
    )
    assert "\n" not in msg


def test_sas_date_column_is_not_an_int(con):
    table = Table("s", (Column("mydate", "int", nullable=True),))
    with pytest.raises(InputError, match=r"column mydate, year 2024: 4 of 5 rows are not of type int"):
        read_typed(con, SAS_DIR / "sample.sas7bdat", table, 2024)


def test_sas_columns_match_case_insensitively(con, tmp_path):
    table = Table("s", (Column("MYCHAR", "string"), Column("MyLabl", "int")))
    rows = read_typed(con, SAS_DIR / "sample.sas7bdat", table)
    assert rows == [("a", 1), ("b", 2), ("c", 1), ("d", 2), ("e", 1)]


def _csv(tmp_path: Path, text: str, name: str = "t.csv") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_csv_text_forms(con, tmp_path):
    table = Table(
        "t",
        (
            Column("i", "int"),
            Column("f", "float", nullable=True),
            Column("b", "bool"),
            Column("d", "date"),
            Column("s", "string", nullable=True),
        ),
    )
    p = _csv(tmp_path, "i,f,b,d,s,extra\n 7 ,-1.5e2,TRUE,2024-02-29,x,9\n+3,,0,2024-12-31T23:59:00,,9\n4.0,.5,false,2024-01-01,0012,\n")
    assert read_typed(con, p, table) == [
        (7, -150.0, True, dt.date(2024, 2, 29), "x"),
        (3, None, False, dt.date(2024, 12, 31), None),
        (4, 0.5, False, dt.date(2024, 1, 1), "0012"),
    ]


def test_csv_fields_quoted_only_after_the_sniffer_sample_are_unquoted(con, tmp_path):
    """DuckDB infers a CSV's dialect from its first rows (20,480): quotes that first appear later
    must still be read as quotes, with "" as an escaped quote (RFC 4180)."""
    table = Table("t", (Column("pnr", "string"), Column("kom", "int"), Column("name", "string")))
    rows = [f"p{i},101,x" for i in range(30_000)] + ['"p30000","102","a, b"', '"q""x",103,"y"']
    p = _csv(tmp_path, "pnr,kom,name\n" + "\n".join(rows) + "\n")
    got = read_typed(con, p, table)
    assert len(got) == 30_002
    assert got[-2:] == [("p30000", 102, "a, b"), ('q"x', 103, "y")]
    semicolons = _csv(tmp_path, 'pnr;kom;name\n"a";101;"b;c"\n', "semi.csv")
    assert read_typed(con, semicolons, table) == [("a", 101, "b;c")]


@pytest.mark.parametrize(
    ("column", "type_", "values", "problem"),
    [
        ("i", "int", ["1", "1.5", "2"], "1 of 3 rows are not whole numbers (type int)"),
        ("i", "int", ["1e3", "0x10", "1_000"], "3 of 3 rows are not whole numbers (type int)"),
        ("i", "int", ["1", "99999999999", "2"], "1 of 3 rows are not whole numbers (type int)"),
        ("f", "float", ["1.5", "abc", "nan"], "2 of 3 rows are not of type float (the column is stored as VARCHAR)"),
        ("b", "bool", ["true", "yes", "1"], "1 of 3 rows are not booleans (true/false/1/0)"),
        ("d", "date", ["2024-01-01", "2024-02-30", "05JAN2024"], "2 of 3 rows are not dates (YYYY-MM-DD)"),
    ],
)
def test_csv_wrong_values_are_counted_never_shown(con, tmp_path, column, type_, values, problem):
    p = _csv(tmp_path, f"{column}\n" + "\n".join(values) + "\n")
    with pytest.raises(InputError) as e:
        read_typed(con, p, Table("t", (Column(column, type_),)), 2021)
    assert str(e.value) == f"file {p}, column {column}, year 2021: {problem}"
    for v in values[1:]:
        if v not in ("1", "2"):
            assert v not in e.value.problem


def test_csv_decimal_comma_is_named_not_read(con, tmp_path):
    # Danish Excel saves a semicolon CSV with decimal commas: an error (1.234 and 1,234 would be
    # ambiguous) that says how many values have one; no value is shown.
    table = Table("t", (Column("pnr", "string"), Column("f", "float"), Column("i", "int")))
    p = _csv(tmp_path, "pnr;f;i\na;1.5;7\nb;172966,5;12,0\nc; -3,25 ;1\nd;1,2,3;2\n", "semi.csv")
    with pytest.raises(InputError) as e:
        read_typed(con, p, table, 2021)
    assert str(e.value) == (
        f"file {p}, column f, year 2021: 3 of 4 rows are not of type float (the column is stored as VARCHAR); "
        "2 of them are written with a decimal comma (write numbers with a decimal point)"
    )
    assert "172966" not in str(e.value) and "3,25" not in str(e.value)
    p.write_text("pnr;f;i\na;1.5;7\nb;2.5;12,0\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"column i, year 2021: 1 of 2 rows are not whole numbers \(type int\); "
                                         r"1 of them are written with a decimal comma"):  # fmt: skip
        read_typed(con, p, table, 2021)
    p.write_text("pnr;f;i\na;abc;7\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        read_typed(con, p, table, 2021)
    assert str(e.value).endswith("1 of 1 rows are not of type float (the column is stored as VARCHAR)")


def test_columns_named_alike_but_for_case_are_an_error(con, tmp_path):
    # DuckDB renames the second of `Pnr`, `PNR` to `PNR_1`: one of the two was taken without a word
    # (which one depended on the order of the columns).
    import pyarrow as pa
    import pyarrow.parquet as pq

    p = tmp_path / "akm_2024.parquet"
    pq.write_table(pa.table({"PNR": ["b"], "pnr": ["a"], "socio13": [131]}), p)
    with pytest.raises(InputError) as e:
        read_typed(con, p, REGISTERS["akm"], 2024)
    assert str(e.value) == f"file {p}, column pnr, year 2024: 2 columns are named pnr but for case (PNR, pnr): keep one"
    c = _csv(tmp_path, "\ufeffPnr;PNR;socio13\na;b;131\n", "akm_2024.csv")
    with pytest.raises(InputError, match=r"column pnr, year 2024: 2 columns are named pnr but for case \(Pnr, PNR\)"):
        read_typed(con, c, REGISTERS["akm"], 2024)
    # one spelling in any case, beside other columns, is fine
    pq.write_table(pa.table({"PNR": ["a"], "SOCIO13": [131], "pnr_kilde": [1]}), p)
    assert read_typed(con, p, REGISTERS["akm"], 2024) == [("a", 131)]
    c.write_text("\ufeffPnr;Socio13\na;131\n", encoding="utf-8")
    assert read_typed(con, c, REGISTERS["akm"], 2024) == [("a", 131)]


def test_parquet_types_and_strictness(con, tmp_path):
    p = tmp_path / "akm_2024.parquet"
    pl.DataFrame({"pnr": [123, 456], "socio13": [131.0, 210.0], "other": ["x", "y"]}).write_parquet(p)
    # integral floats become ints; an integer pnr becomes its text
    assert read_typed(con, p, REGISTERS["akm"], 2024) == [("123", 131), ("456", 210)]
    pl.DataFrame({"pnr": ["a", "b"], "socio13": [131.0, 210.5]}).write_parquet(p)
    with pytest.raises(InputError) as e:
        read_typed(con, p, REGISTERS["akm"], 2024)
    assert str(e.value) == f"file {p}, column socio13, year 2024: 1 of 2 rows are not whole numbers (type int)"


def test_trimmed_is_nullif_trim_on_every_code_point():
    # The guard of `trimmed` lets `trim` run only where it could change the value: proven here on
    # this DuckDB, for every code point alone, before and after a letter, and doubled, on a
    # connection configured as the warehouse's (text compared bytewise).
    con = duckdb.connect(config=CONFIG)
    try:
        con.execute(
            "create table cp as select chr(cast(i as integer)) as c from range(1, 1114112) r(i) "
            "where i not between 55296 and 57343"  # surrogates are not characters
        )
        con.execute(
            "create table v as select c as x from cp union all select 'a' || c from cp "
            "union all select c || 'a' from cp union all select c || c || 'a' || c || c from cp "
            "union all select '' union all select null"
        )
        differ, changed_by_trim = con.execute(
            f"select count(*) filter (where {trimmed('x')} is distinct from nullif(trim(x), '')), "
            "count(*) filter (where trim(x) <> x) from v"
        ).fetchall()[0]
        assert differ == 0
        # trim removes the 17 space separators (Zs), each here alone, before and after a letter,
        # and doubled: the comparison above covered every value trim changes
        assert changed_by_trim == 17 * 4
        # an identifier as registers hold it takes the fast path (the guard is false)
        fast = con.execute(
            f"select count(*) filter (where not {trim_could_change('x')}) "
            "from (values ('2234985334'), ('0810-2517454'), ('DNK'), ('12a'), ('1234567')) t(x)"
        ).fetchall()[0][0]
        assert fast == 5
    finally:
        con.close()


def test_parquet_text_keys_are_trimmed_of_space_separators_at_either_end(con, tmp_path):
    p = tmp_path / "akm_2024.parquet"
    pnrs = ["0001", " 0002", "0003 ", "\u00a00004\u3000", "00 05", "\t0006"]
    pl.DataFrame({"pnr": pnrs, "socio13": [131] * 6}).write_parquet(p)
    got = [r[0] for r in read_typed(con, p, REGISTERS["akm"], 2024)]
    # the space separators go at either end; a space inside and a tab (not Zs) stay
    assert got == ["0001", "0002", "0003", "0004", "00 05", "\t0006"]
    pl.DataFrame({"pnr": ["0001", "\u2003 "], "socio13": [131, 210]}).write_parquet(p)
    with pytest.raises(InputError) as e:
        read_typed(con, p, REGISTERS["akm"], 2024)
    assert str(e.value).startswith(f"file {p}, column pnr, year 2024: 1 of 2 rows")


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Europe/Copenhagen"])
def test_parquet_instant_is_read_as_its_danish_date_on_any_machine(con, tmp_path, zone):
    # 31 Dec 2022 23:30 UTC is 1 Jan 2023 00:30 in Copenhagen; 30 Jun 2023 22:30 UTC is 1 Jul
    # (summer time, +2 h); a naive timestamp is its own date. The session's zone (the machine's,
    # by default) must not move a decision into another year.
    import pyarrow as pa
    import pyarrow.parquet as pq

    utc = dt.timezone.utc
    p = tmp_path / "kraf_2023.parquet"
    pq.write_table(pa.table({
        "pnr": ["a", "b", "c"],
        "afg_dato": pa.array([dt.datetime(2022, 12, 31, 23, 30, tzinfo=utc), dt.datetime(2023, 6, 30, 22, 30, tzinfo=utc),
                              dt.datetime(2023, 3, 1, 12, 0, tzinfo=utc)], pa.timestamp("us", tz="UTC")),
        "afg_ger7": ["7111111", "7111111", "7111111"],
        "afg_afgtyp": [1, 1, 1],
    }), p)  # fmt: skip
    q = tmp_path / "naive.parquet"
    pq.write_table(pa.table({"pnr": ["a"], "afg_dato": pa.array([dt.datetime(2022, 12, 31, 23, 30)]),
                             "afg_ger7": ["7111111"], "afg_afgtyp": [1]}), q)  # fmt: skip
    con.execute(f"set TimeZone = '{zone}'")
    assert [r[1] for r in read_typed(con, p, REGISTERS["kraf"], 2023)] == [
        dt.date(2023, 1, 1), dt.date(2023, 7, 1), dt.date(2023, 3, 1)]
    assert [r[1] for r in read_typed(con, q, REGISTERS["kraf"], 2023)] == [dt.date(2022, 12, 31)]


def test_parquet_wrong_column_type(con, tmp_path):
    p = tmp_path / "ind_2024.parquet"
    pl.DataFrame({"pnr": ["a", "b"], "perindkialt_13": [1.0, 2.0], "skattepligtig": ["ja", "nej"]}).write_parquet(p)
    with pytest.raises(InputError) as e:
        read_typed(con, p, REGISTERS["ind"], 2024)
    assert str(e.value) == (
        f"file {p}, column skattepligtig, year 2024: 2 of 2 rows are not booleans (true/false/1/0)"
    )


def test_missing_column(con, tmp_path):
    p = tmp_path / "akm_2019.parquet"
    pl.DataFrame({"pnr": ["a"], "socio": [131]}).write_parquet(p)
    with pytest.raises(InputError) as e:
        read_typed(con, p, REGISTERS["akm"], 2019)
    assert str(e.value) == f"file {p}, column socio13, year 2019: required column is missing"


def test_truncated_parquet(con, tmp_path):
    p = tmp_path / "akm_2024.parquet"
    pl.DataFrame({"pnr": [f"p{i}" for i in range(1000)], "socio13": [131] * 1000}).write_parquet(p)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError) as e:
        read_typed(con, p, REGISTERS["akm"], 2024)
    assert str(e.value).startswith(f"file {p}, year 2024: cannot read the file as Parquet (")


def test_missing_file(con, tmp_path):
    p = tmp_path / "bef_2024.parquet"
    with pytest.raises(InputError) as e:
        read_typed(con, p, REGISTERS["bef"], 2024)
    assert str(e.value) == f"file {p}, year 2024: file is missing"


def test_unsupported_extension(con, tmp_path):
    p = tmp_path / "bef_2024.xlsx"
    p.write_bytes(b"x")
    with pytest.raises(InputError, match=r"unsupported file type '.xlsx'"):
        read_typed(con, p, REGISTERS["bef"], 2024)


def test_views_are_dropped_after_use(con, tmp_path):
    src_file = tmp_path / "sample.sas7bdat"
    shutil.copy(SAS_DIR / "sample.sas7bdat", src_file)
    src = open_source(con, src_file, SAMPLE, None)
    assert src.rows == 5
    assert con.execute(f"select count(*) from {src.view}").fetchall() == [(5,)]
    close_source(con, src)
    assert con.execute(
        "select count(*) from information_schema.tables where table_name like '\\_src\\_%' escape '\\'"
    ).fetchall() == [(0,)]
