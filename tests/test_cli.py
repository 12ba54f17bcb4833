"""`boliglister run` end to end on a small hand-built data directory: the files, their exact
formats, reproducibility, errors that name the file and year and publish nothing, and a rerun with
corrected boundaries that reuses the ingested registers."""

from __future__ import annotations

import csv
import json
from fractions import Fraction
import shutil
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from assets.cli import main
from pipeline.calculate import AREAS_COLUMNS
from tests.builders import World
from tests.test_calculation import Y, _deprived_area


def _world() -> World:
    w = World()
    w.area("A", kom=101, name="Askeparken")
    w.area("B", kom=751, name="Bøgehaven, Vest")  # a comma in the name: quoted in the CSV
    w.area("C", kom=751, name="Cedertoften")
    pa = _deprived_area(w, "A", 1000, 800)  # vulnerable and parallel (labour + education)
    pb = w.crowd(Y, 1000, 40, "B")
    for p in pb:
        w.person(Y - 1, 39, "B", pnr=p)
    w.crowd(Y, 20, 40, "C")  # not eligible
    w.crowd(Y - 1, 20, 40, "C")
    for t in (Y - 2, Y - 1):
        w.ind(t, pa + pb, 150_000.0)
        w.akm(t, pb, 134)
    w.udda(Y - 2, pa + pb, 5010)
    w.udda(Y - 1, pb, 5010)
    w.ind(Y, pa + pb, 150_000.0)
    w.akm(Y, pa + pb, 134)
    w.udda(Y, pa + pb, 5010)
    for y in range(2014, Y):
        w.history("A", y)
    return w


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    d = _world().write_data_dir(tmp_path_factory.mktemp("data"))
    corrected = d / "boundaries_corrected"
    corrected.mkdir()
    shutil.copy(d / "boundaries" / "areas.csv", corrected / "areas.csv")
    # the correction moves area C's parcel to area B
    text = (d / "boundaries" / "parcels.csv").read_text()
    (corrected / "parcels.csv").write_text(text.replace("C,1003,1a", "B,1003,1a"))
    return d


@pytest.fixture(scope="module")
def first_run(data_dir, tmp_path_factory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("out")
    result = CliRunner().invoke(main, ["run", "--year", str(Y), "--data", str(data_dir), "--out", str(out), "--quiet"])
    return out, result


def test_run_writes_every_file(first_run):
    out, result = first_run
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (out / str(Y)).iterdir())
    assert names == ["areas.csv", "areas.parquet", "lists.xlsx", "manifest.json", "national.json", "quality", "report.html"]
    assert (out / str(Y) / "quality" / "summary.json").is_file()


def test_the_run_says_how_many_data_quality_warnings_the_year_has(first_run, data_dir, tmp_path):
    """A warning (here a history row of an area the boundaries do not have, DATA_CONTRACT.md)
    publishes, and the line that says so counts the year's warnings and points to the report."""
    out, result = first_run
    summary = json.loads((out / str(Y) / "quality" / "summary.json").read_text(encoding="utf-8"))
    before = summary["summary"]["failed_warnings"]
    report = out / str(Y) / "quality" / "index.html"
    assert result.output.strip().splitlines()[-1] == (
        f"wrote {out / str(Y)}" + (f", with {before} data-quality warning{'s' if before != 1 else ''} (see {report})"
                                   if before else ""))  # fmt: skip
    data = tmp_path / "data"
    shutil.copytree(data_dir, data)
    history = data / "history" / "lists.csv"
    history.parent.mkdir(exist_ok=True)
    text = history.read_text(encoding="utf-8") if history.is_file() else "area_id,list_year,list\n"
    history.write_text(text + f"GONE,{Y - 1},parallel\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["run", "--year", str(Y), "--data", str(data), "--out", str(tmp_path / "o"), "--quiet"])
    assert res.exit_code == 0, res.output
    n = before + 1
    assert res.output.strip().splitlines()[-1] == (
        f"wrote {tmp_path / 'o' / str(Y)}, with {n} data-quality warning{'s' if n != 1 else ''} "
        f"(see {tmp_path / 'o' / str(Y) / 'quality' / 'index.html'})")


def test_published_files_follow_the_umask(first_run):
    """OUT/Y and every file in it get the permissions of the umask (0022 here: readable by all),
    not the 0700/0600 of Python's private temporary files."""
    import os
    import stat

    out, result = first_run
    assert result.exit_code == 0, result.output
    umask = os.umask(0)
    os.umask(umask)
    folder = out / str(Y)
    paths = [folder, *folder.rglob("*")]
    assert len(paths) > 8
    for p in paths:
        mode = stat.S_IMODE(p.stat().st_mode)
        expected = (0o777 if p.is_dir() else 0o666) & ~umask
        assert mode == expected, (p.relative_to(out), oct(mode))


def test_areas_csv_exact(first_run):
    out, _ = first_run
    lines = (out / str(Y) / "areas.csv").read_bytes().decode("utf-8").split("\n")
    assert lines[0] == ",".join(AREAS_COLUMNS)
    assert lines[-1] == "" and "\r" not in "".join(lines)
    a = dict(zip(AREAS_COLUMNS, lines[1].split(",")))
    assert (a["area_id"], a["area_name"], a["kom"], a["region"], a["list_year"], a["ruleset"]) == (
        "A", "Askeparken", "101", "1084", "2021", "2021",
    )  # fmt: skip
    assert (a["residents"], a["eligible"], a["labour_share"], a["basic_edu_share"], a["nonwestern_share"]) == (
        "1000", "true", "1.0", "1.0", "0.8",
    )  # fmt: skip
    assert (a["crit_labour"], a["crit_education"], a["n_criteria"], a["vulnerable"], a["parallel"]) == (
        "true", "true", "2", "true", "true",
    )  # fmt: skip
    # on the history file's list 2014-2020 and parallel now: 8 years, a transformation area
    assert (a["years_on_parallel_list"], a["transformation"], a["development_plan"], a["prevention"]) == (
        "8", "true", "true", "false",
    )  # fmt: skip
    assert lines[2].startswith('B,"Bøgehaven, Vest",751,1082,2021,2021,1000,true,0.0,0.0,0.0,')
    c = lines[3].split(",")
    assert c[:8] == ["C", "Cedertoften", "751", "1082", "2021", "2021", "20", "false"]
    assert c[8:-2] == [""] * 18 + ["false"] * 5  # shares, criteria, lists empty/false
    assert c[-2:] == ["0", "false"]


def test_national_json(first_run):
    out, _ = first_run
    text = (out / str(Y) / "national.json").read_text(encoding="utf-8")
    nat = json.loads(text)
    assert text == json.dumps(nat, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert nat["list_year"] == 2021 and nat["ruleset"] == "2021"
    assert set(nat) == {
        "list_year", "ruleset", "conviction_counts", "conviction_share", "conviction_threshold",
        "prevention_conviction_threshold", "region_mean_income", "parameters",
    }  # fmt: skip
    # 10 convicted-free outsiders + 1 convicted per year (national_crime), 2,030 adults in 2020/21
    assert nat["conviction_counts"]["last"] == {"convicted": 1, "persons": 2030}
    assert nat["conviction_share"]["mean"] == float(Fraction(1, 2030))
    assert nat["conviction_threshold"] == float(Fraction(3, 2030))  # exact, then rounded once
    assert nat["prevention_conviction_threshold"] == float(Fraction(2, 2030))
    assert nat["region_mean_income"]["1082"] == 150000.0


def test_manifest_records_inputs_and_parameters(first_run, data_dir):
    out, _ = first_run
    m = json.loads((out / str(Y) / "manifest.json").read_text())
    assert m["list_year"] == 2021 and m["ruleset"] == "2021" and m["history_mode"] == "official"
    assert m["history_sources"] == {str(y): "file" for y in range(2014, 2021)}
    assert "registers/kraf_2019.parquet" in m["inputs"] and "boundaries/parcels.csv" in m["inputs"]
    assert len(m["inputs"]["registers/bef_2021.parquet"]["sha256"]) == 64
    assert m["package"]["version"]


def test_rerun_is_byte_identical(first_run, data_dir):
    out, _ = first_run
    before = {n: (out / str(Y) / n).read_bytes() for n in ("areas.csv", "national.json")}
    result = CliRunner().invoke(main, ["run", "--year", str(Y), "--data", str(data_dir), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert {n: (out / str(Y) / n).read_bytes() for n in before} == before
    with duckdb.connect(str(out / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from stg_bef where year = 2021").fetchall() == [(2030,)]  # no duplicates after a rerun


def test_missing_register_names_the_file_and_publishes_nothing(first_run, data_dir, tmp_path):
    out, _ = first_run
    broken = tmp_path / "data"
    shutil.copytree(data_dir, broken)
    (broken / "registers" / "kraf_2019.parquet").unlink()
    before = (out / str(Y) / "areas.csv").read_bytes()
    result = CliRunner().invoke(main, ["run", "--year", str(Y), "--data", str(broken), "--out", str(out), "--quiet"])
    assert result.exit_code == 1
    line = result.output.strip().splitlines()[-1]
    assert "kraf_2019.parquet" in line and "year 2019" in line
    assert "Traceback" not in result.output
    assert (out / str(Y) / "areas.csv").read_bytes() == before


def test_a_range_with_a_list_year_missing_an_extract_publishes_no_year_of_it(first_run, data_dir):
    """`--years A-B` is one run: when one list year of it lacks an extract, the line names the
    file, its data year and the list year that reads it, and no year of the range is published
    (the last good outputs of list year Y stay as they were)."""
    out, _ = first_run
    before = {n: (out / str(Y) / n).read_bytes() for n in ("areas.csv", "national.json", "manifest.json")}
    result = CliRunner().invoke(
        main, ["run", "--years", f"{Y - 1}-{Y}", "--data", str(data_dir), "--out", str(out), "--quiet"]
    )
    assert result.exit_code == 1
    line = result.output.strip().splitlines()[-1]
    assert line.endswith(f"read by list year {Y - 1}; no list year of {Y - 1}-{Y} was published"), line
    assert "register extract is missing" in line and "Traceback" not in result.output
    assert not (out / str(Y - 1)).exists()
    assert {n: (out / str(Y) / n).read_bytes() for n in before} == before


def test_two_extracts_of_one_register_year_are_an_error(first_run, data_dir, tmp_path):
    """A corrected CSV beside the old Parquet file: neither is taken by its extension."""
    import polars as pl

    out, _ = first_run
    both = tmp_path / "data"
    shutil.copytree(data_dir, both)
    pl.read_parquet(both / "registers" / "akm_2020.parquet").write_csv(both / "registers" / "akm_2020.csv")
    before = (out / str(Y) / "areas.csv").read_bytes()
    result = CliRunner().invoke(main, ["run", "--year", str(Y), "--data", str(both), "--out", str(out), "--quiet"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        f"boliglister: error: file {both / 'registers' / 'akm_2020.parquet'}, year 2020: "
        f"2 extracts of akm for 2020 (akm_2020.parquet, akm_2020.csv): keep one, read by list year {Y}; nothing was published"
    )
    assert (out / str(Y) / "areas.csv").read_bytes() == before
    check = CliRunner().invoke(main, ["check", "--data", str(both), "--year", str(Y), "--out", str(tmp_path / "c")])
    assert check.exit_code == 1 and "2 extracts of akm for 2020" in check.output


def test_a_year_without_decisions_publishes_with_a_warning(data_dir, tmp_path):
    """DATA_CONTRACT does not require a kraf extract to have rows: an empty one is a year without
    decisions (no resident convicted), so the run publishes, and the quality report warns."""
    import polars as pl

    empty = tmp_path / "data"
    shutil.copytree(data_dir, empty)
    kraf = empty / "registers" / f"kraf_{Y - 1}.parquet"
    pl.read_parquet(kraf).clear().write_parquet(kraf)
    out = tmp_path / "o"
    result = CliRunner().invoke(main, ["run", "--year", str(Y), "--data", str(empty), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    nat = json.loads((out / str(Y) / "national.json").read_text(encoding="utf-8"))
    assert nat["conviction_counts"]["last"]["convicted"] == 0
    summary = json.loads((out / str(Y) / "quality" / "summary.json").read_text(encoding="utf-8"))
    warned = [(c["suite"], c["check"], c["year"]) for c in summary["checks"] if not c["success"]]
    assert ("kraf", "has_rows", Y - 1) in warned
    assert all(c["severity"] == "warning" for c in summary["checks"] if not c["success"])


def test_a_register_suite_error_names_file_column_and_year(data_dir, tmp_path):
    """A crime code under none of crime_laws.csv's prefixes fails the kraf suite (an error): the
    one line names the extract's file, the column and the year, like the checks at the load."""
    import polars as pl

    bad = tmp_path / "data"
    shutil.copytree(data_dir, bad)
    kraf = bad / "registers" / f"kraf_{Y - 1}.parquet"
    decisions = pl.read_parquet(kraf)
    assert decisions.height > 0
    decisions.with_columns(pl.lit("9000001").alias("afg_ger7")).write_parquet(kraf)
    result = CliRunner().invoke(main, ["run", "--year", str(Y), "--data", str(bad), "--out", str(tmp_path / "o"), "--quiet"])
    assert result.exit_code == 1
    line = result.output.strip().splitlines()[-1]
    assert f"kraf_{Y - 1}.parquet" in line and "column afg_ger7" in line and f"year {Y - 1}" in line
    assert "afg_ger7_law_known" in line
    assert not (tmp_path / "o" / str(Y)).exists()


def test_a_coverage_error_names_the_extract(data_dir, tmp_path):
    """A truncated akm extract (a third of its rows) stops the run in the list year's coverage
    suite: the one line names the extract's file, like the register's own checks."""
    import polars as pl

    cut = tmp_path / "data"
    shutil.copytree(data_dir, cut)
    akm = cut / "registers" / f"akm_{Y - 1}.parquet"
    rows = pl.read_parquet(akm)
    rows.head(rows.height // 3).write_parquet(akm)
    result = CliRunner().invoke(main, ["run", "--year", str(Y), "--data", str(cut), "--out", str(tmp_path / "o"), "--quiet"])
    assert result.exit_code == 1
    line = result.output.strip().splitlines()[-1]
    assert line.startswith(f"boliglister: error: file {akm}, column pnr, year {Y - 1}: data-quality error in table akm: "), line
    assert "[check coverage." in line and f"report: {tmp_path / 'o' / 'rejected' / str(Y) / 'quality'}" in line


def test_unknown_rule_set_is_one_line(data_dir, tmp_path):
    result = CliRunner().invoke(main, ["run", "--year", str(Y), "--data", str(data_dir), "--out", str(tmp_path),
                                       "--rules", "1999", "--quiet"])  # fmt: skip
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "1999" in result.output
    assert not (tmp_path / str(Y)).exists()


def test_a_misspelt_key_in_a_rules_file_is_one_line_naming_file_and_key(data_dir, tmp_path):
    """A parameter written under a wrong name would otherwise leave the built-in value in force
    without a word: the run stops before anything is read or written."""
    from pipeline.rules import RULES_DIR

    rules = tmp_path / "mine.toml"
    rules.write_text((RULES_DIR / "2021.toml").read_text(encoding="utf-8").replace(
        "transformation_years = 5", "transformation_year = 4"), encoding="utf-8")  # fmt: skip
    result = CliRunner().invoke(main, ["run", "--year", str(Y), "--data", str(data_dir), "--out", str(tmp_path / "o"),
                                       "--rules", str(rules), "--quiet"])  # fmt: skip
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert "mine.toml" in result.output and "unknown key transformation_year " in result.output
    assert not (tmp_path / "o" / str(Y)).exists()


def test_history_gap_is_an_error_naming_the_year(data_dir, tmp_path):
    no_history = tmp_path / "data"
    shutil.copytree(data_dir, no_history)
    (no_history / "history" / "lists.csv").unlink()
    result = CliRunner().invoke(main, ["run", "--year", str(Y), "--data", str(no_history), "--out", str(tmp_path / "o"), "--quiet"])
    assert result.exit_code == 1
    assert "year 2014" in result.output.splitlines()[-1]


def test_corrected_boundaries_reuse_the_ingested_registers(first_run, data_dir):
    out, _ = first_run
    with duckdb.connect(str(out / "warehouse.duckdb"), read_only=True) as con:
        before = con.execute("select table_name, year, ingested_at from meta_ingest order by all").fetchall()
    result = CliRunner().invoke(main, ["run", "--year", str(Y), "--data", str(data_dir), "--out", str(out),
                                       "--boundaries", str(data_dir / "boundaries_corrected"), "--quiet"])  # fmt: skip
    assert result.exit_code == 0, result.output
    with duckdb.connect(str(out / "warehouse.duckdb"), read_only=True) as con:
        after = con.execute("select table_name, year, ingested_at from meta_ingest order by all").fetchall()
    assert [r for r in after if r[0] != "history"] == [r for r in before if r[0] != "history"]
    with (out / str(Y) / "areas.csv").open(encoding="utf-8", newline="") as fh:
        rows = {r["area_id"]: r for r in csv.DictReader(fh)}
    assert (rows["B"]["residents"], rows["B"]["eligible"]) == ("1020", "true")  # C's 20 moved to B
    assert (rows["C"]["residents"], rows["C"]["eligible"]) == ("0", "false")


def test_a_rerun_leaves_out_the_steps_of_unchanged_registers(first_run, data_dir, tmp_path):
    """Registers already loaded from the same files, and validated on them, get no ingestion step;
    a changed file does."""
    from assets.resources import Settings
    from assets.runner import run_list_years

    out = tmp_path / "o"
    shutil.copytree(first_run[0], out)
    labels: list[str] = []
    settings = Settings(data_dir=str(data_dir), out_dir=str(out), boundaries_dir=str(data_dir / "boundaries_corrected"))
    run_list_years([Y], settings, progress=lambda label, i, n: labels.append(label))
    assert not [x for x in labels if x.startswith("ingest")]
    # the years of residents and of counts are independent: one Dagster run each
    assert f"residents 1 January {Y - 1}-{Y}" in labels and f"counts of data years {Y - 2}-{Y - 1}" in labels
    assert [x for x in labels if x.startswith("registers")] == [  # the year with most extracts first
        f"registers bef akm udda ind kraf adresser {Y - 1}: unchanged, kept from the warehouse",
        f"registers akm kraf {Y - 2}: unchanged, kept from the warehouse",
        f"registers bef adresser {Y}: unchanged, kept from the warehouse",
    ]
    changed = tmp_path / "data"
    shutil.copytree(data_dir, changed)
    kraf = changed / "registers" / f"kraf_{Y - 2}.parquet"
    import polars as pl

    decisions = pl.read_parquet(kraf)
    pl.concat([decisions, decisions.head(1)]).write_parquet(kraf)  # another file: a decision twice
    labels.clear()
    run_list_years([Y], Settings(data_dir=str(changed), out_dir=str(out)), progress=lambda label, i, n: labels.append(label))
    assert [x for x in labels if x.startswith(("ingest", "registers"))] == [
        f"registers bef akm udda ind kraf adresser {Y - 1}: unchanged, kept from the warehouse",
        f"ingest akm kraf {Y - 2}",
        f"registers bef adresser {Y}: unchanged, kept from the warehouse",
    ]


def test_check_passes_on_good_data_and_writes_the_report(data_dir, tmp_path):
    result = CliRunner().invoke(main, ["check", "--data", str(data_dir), "--out", str(tmp_path), "--year", str(Y)])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "check" / str(Y) / "quality" / "summary.json").read_text())
    assert summary["has_errors"] is False
    assert (tmp_path / "check" / str(Y) / "quality" / "index.html").is_file()


def test_check_exits_1_on_an_error_and_names_file_column_year(data_dir, tmp_path):
    import polars as pl

    broken = tmp_path / "data"
    shutil.copytree(data_dir, broken)
    bef = pl.read_parquet(broken / "registers" / "bef_2021.parquet")
    bef.with_columns(pl.when(pl.int_range(pl.len()) == 0).then(130).otherwise(pl.col("alder")).alias("alder")).write_parquet(
        broken / "registers" / "bef_2021.parquet"
    )
    result = CliRunner().invoke(main, ["check", "--data", str(broken), "--out", str(tmp_path / "o"), "--year", str(Y)])
    assert result.exit_code == 1
    line = result.output.strip().splitlines()[-1]
    assert "bef_2021.parquet" in line and "column alder" in line and "year 2021" in line


def test_check_validates_the_registers_of_the_history_years_the_run_computes(tmp_path):
    """On the samples the history file covers 2008-2013, so `run --year 2016` computes 2014 and
    2015 from the registers too and stops on a duplicate pnr in bef_2014, which list year 2016
    itself does not read: `check --year 2016` must stop on it as well."""
    import polars as pl

    samples = Path(__file__).resolve().parents[1] / "data_samples"
    broken = tmp_path / "data"
    shutil.copytree(samples, broken)
    bef = pl.read_parquet(broken / "registers" / "bef_2014.parquet")
    pl.concat([bef, bef.head(1)]).write_parquet(broken / "registers" / "bef_2014.parquet")
    result = CliRunner().invoke(main, ["check", "--data", str(broken), "--out", str(tmp_path / "o"), "--year", "2016"])
    assert result.exit_code == 1, result.output
    line = result.output.strip().splitlines()[-1]
    assert "bef_2014.parquet" in line and "column pnr" in line and "year 2014" in line
    summary = json.loads((tmp_path / "o" / "check" / "2016" / "quality" / "summary.json").read_text())
    assert summary["has_errors"] is True
    failed = [c for c in summary["checks"] if not c["success"]]
    assert [(c["suite"], c["severity"]) for c in failed] == [("ingestion", "error")]
    assert "bef_2014.parquet" in failed[0]["description"]
    # the report's row names the extract, column and year at fault, as the line does
    assert (failed[0]["table"], failed[0]["column"], failed[0]["year"]) == ("bef", "pnr", 2014)
    # and summary.json's line is the command's line, said once (not wrapped in a second prefix)
    assert summary["error_line"] == line.removeprefix("boliglister: error: ")


def test_a_register_missing_for_a_history_year_is_named(tmp_path):
    """On the samples the history of 2024 computes 2014-2023 from the registers; udda_2016 is
    read only by list year 2017. Without it the error names that file and its year."""
    samples = Path(__file__).resolve().parents[1] / "data_samples"
    data = tmp_path / "data"
    shutil.copytree(samples, data)
    (data / "registers" / "udda_2016.parquet").unlink()
    result = CliRunner().invoke(main, ["run", "--year", "2024", "--data", str(data), "--out", str(tmp_path / "o"), "--quiet"])
    assert result.exit_code == 1
    line = result.output.strip().splitlines()[-1]
    assert "udda_2016.parquet" in line and "year 2016" in line and "list year 2017" in line
    assert not (tmp_path / "o" / "2024").exists()


def test_rule_set_switch_2020_to_2021(data_dir, tmp_path):
    """The same registers under the rule set of 2020 and 2021: combined letting exists only
    until 2020, prevention only from 2021, and the Danish list names follow the rule set."""
    out = tmp_path / "o"
    for rules in ("2018", "2021"):
        result = CliRunner().invoke(main, ["run", "--year", str(Y), "--data", str(data_dir), "--out", str(out / rules),
                                           "--rules", rules, "--quiet"])  # fmt: skip
        assert result.exit_code == 0, result.output
    r18 = {r["area_id"]: r for r in csv.DictReader((out / "2018" / str(Y) / "areas.csv").open(encoding="utf-8"))}
    r21 = {r["area_id"]: r for r in csv.DictReader((out / "2021" / str(Y) / "areas.csv").open(encoding="utf-8"))}
    assert (r18["A"]["ruleset"], r21["A"]["ruleset"]) == ("2018", "2021")
    assert (r18["A"]["combined_letting"], r21["A"]["combined_letting"]) == ("true", "false")  # labour share 100 %
    assert json.loads((out / "2018" / str(Y) / "national.json").read_text())["prevention_conviction_threshold"] is None
    assert json.loads((out / "2021" / str(Y) / "national.json").read_text())["prevention_conviction_threshold"] is not None


def test_the_annual_job_materialises_the_list_year(data_dir, tmp_path):
    """The scheduled job runs the same runner on the schedule's instance (nested in-process runs)."""
    import dagster as dg

    from assets.definitions import build_defs
    from assets.publication import run_config_for
    from assets.resources import Settings

    settings = Settings(data_dir=str(data_dir), out_dir=str(tmp_path / "o"))
    job = build_defs(settings).get_job_def("annual_lists")
    with dg.instance_for_test() as instance:
        result = job.execute_in_process(run_config=run_config_for(Y), instance=instance)
        assert result.success
        steps = {r.tags.get("boliglister/step") for r in instance.get_runs()} - {None}
    assert f"list year {Y} (publish)" in steps
    assert (tmp_path / "o" / str(Y) / "areas.csv").is_file()


def test_the_console_process_publishes_the_same_files_with_and_without_the_worker(data_dir, tmp_path):
    """In its own process the command validates in the GX worker process and draws the documents
    while the suites run (pipeline.publish.documents); without the worker it validates and draws
    in one process. Both publish the same bytes, quality summary included."""
    import os
    import subprocess
    import sys

    def run(out: Path, worker: bool) -> Path:
        env = {**os.environ, "BOLIGLISTER_GX_WORKER": "1" if worker else "0"}
        proc = subprocess.run(
            [sys.executable, "-m", "assets.cli", "run", "--year", str(Y), "--data", str(data_dir), "--out", str(out),
             "--quiet"],
            capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1], timeout=600, env=env,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert not list(out.glob(".*"))  # no staging or temporary folder left in OUT
        return out / str(Y)

    a, b = run(tmp_path / "worker", True), run(tmp_path / "alone", False)
    for name in ("areas.csv", "national.json", "report.html", "quality/summary.json"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    import openpyxl

    def cells(path: Path) -> dict:
        wb = openpyxl.load_workbook(path, read_only=True)
        return {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb.worksheets}

    assert cells(a / "lists.xlsx") == cells(b / "lists.xlsx")


def test_consecutive_years():
    from pipeline.contract import year_runs as _consecutive

    assert _consecutive({2016, 2013, 2014, 2015, 2018, 2020, 2019}) == [(2013, 2016), (2018, 2020)]
    assert _consecutive({2024}) == [(2024, 2024)]
    assert _consecutive(set()) == []


# ---------------------------------------------------------------- usage errors: one line, exit 2

USAGE_ERRORS = [
    (["run", "--year", "2024", "--history", "foo"],
     "boliglister: error: Invalid value for '--history': 'foo' is not one of 'official', 'recompute'. "
     "(see boliglister run --help)"),
    (["run"], "boliglister: error: give exactly one of --year Y or --years A-B (see boliglister run --help)"),
    (["run", "--year", "2024", "--years", "2020-2021"],
     "boliglister: error: give exactly one of --year Y or --years A-B (see boliglister run --help)"),
    (["run", "--year", "2024", "--nope"],
     "boliglister: error: No such option '--nope'. (see boliglister run --help)"),
    (["--nope"], "boliglister: error: No such option '--nope'. (see boliglister --help)"),
    (["compare"], "boliglister: error: Missing argument 'OUT_A'. (see boliglister compare --help)"),
    (["nope"], "boliglister: error: No such command 'nope'. (see boliglister --help)"),
    (["run", "--years"], "boliglister: error: Option '--years' requires an argument. (see boliglister run --help)"),
    (["run", "--years", "2020-2019"],
     "boliglister: error: Invalid value: '2020-2019': the range ends before it starts (see boliglister run --help)"),
    (["run", "--year", "2024", "--out", "pyproject.toml"],
     "boliglister: error: Invalid value for '--out': Directory 'pyproject.toml' is a file. (see boliglister run --help)"),
    (["check", "--out", "pyproject.toml"],
     "boliglister: error: Invalid value for '--out': Directory 'pyproject.toml' is a file. (see boliglister check --help)"),
    (["run", "--year", "2024", "--rules", " "],  # an empty value is not the default rule set
     "boliglister: error: Invalid value for '--rules': give a rule set name (2014, 2018, 2021) or a TOML file, "
     "or leave the option out (see boliglister run --help)"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "line"), USAGE_ERRORS, ids=lambda a: " ".join(a) if isinstance(a, list) else "")
def test_usage_error_is_one_line_and_exit_2(args, line):
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert result.stderr == line + "\n"
    assert result.stdout == ""


def test_usage_errors_in_the_console_process():
    """The same lines from `python -m assets.cli` (entry: standalone mode, then os._exit with the
    command's code)."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    for args, line in USAGE_ERRORS[:4]:
        proc = subprocess.run([sys.executable, "-m", "assets.cli", *args], capture_output=True, text=True,
                              cwd=root, timeout=120)  # fmt: skip
        assert (proc.returncode, proc.stderr, proc.stdout) == (2, line + "\n", ""), args
    for args in (["--help"], ["run", "--help"], ["--version"]):
        proc = subprocess.run([sys.executable, "-m", "assets.cli", *args], capture_output=True, text=True,
                              cwd=root, timeout=120)  # fmt: skip
        assert proc.returncode == 0 and proc.stderr == "" and proc.stdout, args


@pytest.mark.parametrize("args", [["--help"], ["-h"], ["run", "--help"], ["compare", "--help"]])
def test_help_still_exits_0(args):
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: ") and "--help" in result.stdout
    assert result.stderr == ""


def test_version_still_exits_0():
    from pipeline import __version__

    result = CliRunner().invoke(main, ["--version"])
    assert (result.exit_code, result.stdout) == (0, f"boliglister, version {__version__}\n")
