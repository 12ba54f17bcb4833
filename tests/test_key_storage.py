"""A key column (pnr, adresse_id) stored as numbers in one extract and as zero-padded text in another.

A number keeps no leading zeros: the reader turns 1234 into the text "1234", which never equals the
"01234" of an extract that stores text, so those persons (or addresses) would silently match nobody.
The calculation that joins such extracts stops with one error naming the extract that stores numbers.
Storing a key as numbers everywhere, or as numbers in one extract whose text partners have no value
starting with 0, loses nothing and is not an error.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest
from click.testing import CliRunner

from assets.cli import main
from pipeline.calculate import build_residents
from pipeline.errors import InputError
from pipeline.ingest import check_key_storage, ingest_register, load_boundaries
from tests.ingest_helpers import YEAR, frame, make_data_dir, write_register
from tests.test_calculation import Y
from tests.test_cli import _world


def _with_pnr_prefix(data: Path, prefix: str, as_numbers: list[str]) -> Path:
    """Every register's pnr "P0000123" becomes prefix + "0000123", where a prefix "0" is given to
    every third person only (their number a multiple of 3) and "1" to the others, as a day of birth
    01-09 starts a third of the Danish person numbers with 0; the extracts named in `as_numbers`
    (file stems, e.g. "akm_2020") store it as a 64-bit integer."""
    for path in sorted((data / "registers").glob("*.parquet")):
        df = pl.read_parquet(path)
        if "pnr" not in df.columns:
            continue
        digits = pl.col("pnr").str.slice(1)
        first = pl.when(digits.cast(pl.Int64) % 3 == 0).then(pl.lit(prefix)).otherwise(pl.lit("1"))
        pnr = pl.concat_str([first, digits])
        if path.stem in as_numbers:
            pnr = pnr.cast(pl.Int64)
        df.with_columns(pnr.alias("pnr")).write_parquet(path)
    return data


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory) -> Path:
    return _world().write_data_dir(tmp_path_factory.mktemp("world"))


def _run(data: Path, out: Path):
    return CliRunner().invoke(main, ["run", "--year", str(Y), "--data", str(data), "--out", str(out), "--quiet"])


def test_pnr_as_numbers_beside_zero_padded_text_is_an_error_and_publishes_nothing(world_dir, tmp_path):
    """A third of the persons would lose their akm record: the coverage suite only warns (above
    50 %), and the lists would be published from a labour criterion that misses them."""
    data = _with_pnr_prefix(shutil.copytree(world_dir, tmp_path / "data"), "0", [f"akm_{Y - 1}"])
    result = _run(data, tmp_path / "out")
    assert result.exit_code == 1, result.output
    line = result.output.strip().splitlines()[-1]
    assert f"akm_{Y - 1}.parquet" in line and "column pnr" in line and f"year {Y - 1}" in line, line
    assert "stored as numbers" in line and "start with 0" in line and f"bef_{Y}.parquet" in line, line
    assert "Traceback" not in result.output
    assert not (tmp_path / "out" / str(Y)).exists()


def test_pnr_as_numbers_without_leading_zeros_anywhere_gives_the_same_lists(world_dir, tmp_path):
    text = _with_pnr_prefix(shutil.copytree(world_dir, tmp_path / "text"), "1", [])
    mixed = _with_pnr_prefix(shutil.copytree(world_dir, tmp_path / "mixed"), "1", [f"akm_{Y - 1}", f"kraf_{Y - 2}"])
    a, b = _run(text, tmp_path / "out_text"), _run(mixed, tmp_path / "out_mixed")
    assert a.exit_code == 0, a.output
    assert b.exit_code == 0, b.output
    csv_a = (tmp_path / "out_text" / str(Y) / "areas.csv").read_text()
    assert (tmp_path / "out_mixed" / str(Y) / "areas.csv").read_text() == csv_a
    assert "Askeparken" in csv_a


def _address_world(tmp_path: Path, bef_ids: list, adresser_ids: list) -> duckdb.DuckDBPyConnection:
    data = make_data_dir(tmp_path, history=False)
    write_register(data, "bef", YEAR, frame("bef", adresse_id=bef_ids))
    write_register(data, "adresser", YEAR, frame("adresser", adresse_id=adresser_ids))
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    for table in ("bef", "adresser"):
        ingest_register(con, data, table, YEAR)
    load_boundaries(con, data / "boundaries")
    return con


def test_adresse_id_as_numbers_in_adresser_and_zero_padded_in_bef_stops_the_residents(tmp_path):
    con = _address_world(tmp_path, ["01", "2", None, "03"], [1, 2, 3])
    with pytest.raises(InputError) as err:
        build_residents(con, YEAR)
    e = err.value
    assert e.file.endswith(f"adresser_{YEAR}.parquet") and e.column == "adresse_id" and e.year == YEAR
    # bef holds 3 addresses (one person has none), 2 of them written with a leading 0
    assert "2 of 3 values start with 0" in e.problem and "addresses" in e.problem
    assert f"bef_{YEAR}.parquet" in e.problem
    assert con.execute("select stored_as from meta_key_storage where column_name = 'adresse_id' "
                       "order by table_name").fetchall() == [("number",), ("text",)]  # fmt: skip


def test_a_key_stored_as_numbers_in_every_extract_is_no_error(tmp_path):
    con = _address_world(tmp_path, [1, 2, None, 3], [1, 2, 3])
    assert build_residents(con, YEAR) == 2  # p1 and p2 live on the parcels of area A1
    # an extract that is not loaded, or a register year without a record, is not compared
    check_key_storage(con, "adresse_id", [("bef", YEAR), ("adresser", YEAR), ("adresser", YEAR - 1)])


def test_check_reports_the_key_stored_two_ways_as_an_error(world_dir, tmp_path):
    """`boliglister check` computes nothing, but reports the joins the run would stop on."""
    data = _with_pnr_prefix(shutil.copytree(world_dir, tmp_path / "data"), "0", [f"akm_{Y - 1}"])
    result = CliRunner().invoke(main, ["check", "--data", str(data), "--year", str(Y), "--out", str(tmp_path / "c")])
    assert result.exit_code == 1, result.output
    summary = (tmp_path / "c" / "check" / str(Y) / "quality" / "summary.json").read_text()
    assert "key_storage" in summary and f"akm_{Y - 1}.parquet" in summary
    text = _with_pnr_prefix(shutil.copytree(world_dir, tmp_path / "text"), "0", [])
    ok = CliRunner().invoke(main, ["check", "--data", str(text), "--year", str(Y), "--out", str(tmp_path / "c2")])
    assert ok.exit_code == 0, ok.output
    assert "key_storage" not in (tmp_path / "c2" / "check" / str(Y) / "quality" / "summary.json").read_text()
