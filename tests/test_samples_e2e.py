"""End to end on the shipped `data_samples/`: list years 2014-2024 in one run, checked for internal
consistency and against committed snapshots of areas.csv; then the corrected boundary version on a
copy of the warehouse (registers reused), and `compare` between the two runs.

Regenerate the snapshots deliberately with `UPDATE_SNAPSHOTS=1 pytest tests/test_samples_e2e.py`.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from assets.cli import main

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data_samples"
SNAPSHOTS = Path(__file__).parent / "snapshots" / "data_samples"
YEARS = range(2014, 2025)

# counts per list year, as computed by METHOD.md (and by the generator's own rough check)
EXPECTED = {
    #     eligible, vulnerable, parallel, transformation, prevention, combined_letting, development_plan
    2014: (26, 0, 5, 0, 0, 15, 0),
    2015: (26, 0, 5, 0, 0, 15, 0),
    2016: (26, 0, 6, 0, 0, 14, 0),
    2017: (26, 0, 5, 0, 0, 17, 0),
    2018: (26, 8, 4, 4, 0, 16, 4),
    2019: (26, 7, 4, 4, 0, 15, 4),
    2020: (26, 8, 4, 4, 0, 15, 4),
    2021: (26, 8, 4, 4, 5, 0, 4),
    2022: (26, 10, 5, 4, 2, 0, 4),
    2023: (26, 9, 5, 4, 3, 0, 4),
    2024: (26, 8, 4, 4, 6, 0, 4),
}
FLAGS = ("eligible", "vulnerable", "parallel", "transformation", "prevention", "combined_letting", "development_plan")


def read(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def official(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("official")
    result = CliRunner().invoke(main, ["run", "--years", "2014-2024", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def corrected(official, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("corrected")
    shutil.copy(official / "warehouse.duckdb", out / "warehouse.duckdb")
    result = CliRunner().invoke(main, ["run", "--year", "2024", "--out", str(out), "--quiet",
                                       "--boundaries", str(SAMPLES / "boundaries_corrected")])  # fmt: skip
    assert result.exit_code == 0, result.output
    return out


def test_every_year_is_published(official):
    for y in YEARS:
        assert sorted(p.name for p in (official / str(y)).iterdir()) == [
            "areas.csv", "areas.parquet", "lists.xlsx", "manifest.json", "national.json", "quality", "report.html",
        ]  # fmt: skip


def test_the_quality_report_covers_every_extract_the_manifest_lists(official):
    """The history of 2024 is computed from the registers for 2014-2023 (the file covers
    2008-2013): the report holds the suites of each register extract read, as manifest.json lists
    them, not only those of list year 2024's own ten."""
    import json

    folder = official / "2024"
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    read = {k.removeprefix("registers/").rsplit(".", 1)[0] for k in manifest["inputs"] if k.startswith("registers/")}
    summary = json.loads((folder / "quality" / "summary.json").read_text(encoding="utf-8"))
    validated = {f"{c['table']}_{c['year']}" for c in summary["checks"] if c["suite"] == c["table"]}
    # list year 2014 reads akm and kraf of 2012, the six of 2013; 2024 reads bef and adresser of 2024
    assert len(read) == 2 + 6 * 11 + 2 and read == validated
    assert {"akm_2012", "kraf_2012", "bef_2013", "bef_2024", "kraf_2023"} <= validated


@pytest.mark.parametrize("year", YEARS)
def test_areas_csv_matches_snapshot(official, year):
    got = (official / str(year) / "areas.csv").read_bytes()
    snap = SNAPSHOTS / f"areas_{year}.csv"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1" or not snap.exists():
        snap.parent.mkdir(parents=True, exist_ok=True)
        snap.write_bytes(got)
    assert got == snap.read_bytes()


def test_list_counts_per_year(official):
    for y in YEARS:
        rows = read(official / str(y) / "areas.csv")
        counts = tuple(sum(r[f] == "true" for r in rows) for f in FLAGS)
        assert counts == EXPECTED[y], y


def test_internal_consistency(official):
    for y in YEARS:
        for r in read(official / str(y) / "areas.csv"):
            t = {f: r[f] == "true" for f in FLAGS}
            assert r["ruleset"] == ("2014" if y < 2018 else "2018" if y < 2021 else "2021")
            assert t["eligible"] == (int(r["residents"]) >= 1000)
            if y >= 2018:
                assert not t["parallel"] or t["vulnerable"]  # parallel ⊆ vulnerable
            assert not t["transformation"] or t["parallel"]  # transformation ⊆ parallel
            assert not (t["prevention"] and t["vulnerable"])
            assert not t["transformation"] or int(r["years_on_parallel_list"]) >= 5
            assert (int(r["years_on_parallel_list"]) > 0) == t["parallel"]
            assert not t["transformation"] or t["development_plan"]
            if t["eligible"]:
                crits = [r[c] == "true" for c in ("crit_labour", "crit_conviction", "crit_education", "crit_income",
                                                  "crit_nonwestern")]  # fmt: skip
                assert int(r["n_criteria"]) == (sum(crits) if y < 2018 else sum(crits[:4]))
                for col in ("labour_share", "conviction_share", "basic_edu_share", "nonwestern_share"):
                    assert 0.0 <= float(r[col]) <= 1.0
            else:
                assert r["labour_share"] == "" and r["n_criteria"] == "" and not any(
                    t[f] for f in ("vulnerable", "parallel", "transformation", "prevention", "combined_letting")
                )


def test_years_on_list_run_year_to_year(official):
    prev: dict[str, int] = {}
    for y in YEARS:
        rows = {r["area_id"]: r for r in read(official / str(y) / "areas.csv")}
        for a, r in rows.items():
            n = int(r["years_on_parallel_list"])
            if n > 1 and prev:
                assert prev.get(a) == n - 1, (y, a)
        prev = {a: int(r["years_on_parallel_list"]) for a, r in rows.items()}


def test_national_conviction_share_is_about_0_8_percent(official):
    for y in YEARS:
        nat = json.loads((official / str(y) / "national.json").read_text())
        assert 0.006 < nat["conviction_share"]["mean"] < 0.01
        assert nat["list_year"] == y
        assert (nat["conviction_threshold"] is None) == (y < 2018)
        assert (nat["prevention_conviction_threshold"] is None) == (y < 2021)


def test_corrected_boundaries_reuse_registers_and_split_the_area(official, corrected):
    with duckdb.connect(str(official / "warehouse.duckdb")) as a, duckdb.connect(str(corrected / "warehouse.duckdb")) as b:
        q = "select table_name, year, sha256, ingested_at from meta_ingest where year is not null order by all"
        assert a.execute(q).fetchall() == b.execute(q).fetchall()  # not one register re-ingested
    rows = {r["area_id"]: r for r in read(corrected / "2024" / "areas.csv")}
    assert "A0014" not in rows and {"A0038", "A0039"} <= set(rows)
    m = json.loads((corrected / "2024" / "manifest.json").read_text())
    assert m["boundaries"].endswith("boundaries_corrected")


def test_compare_the_two_boundary_versions(official, corrected, tmp_path):
    out_csv = tmp_path / "compare.csv"
    result = CliRunner().invoke(main, ["compare", str(official), str(corrected), "--year", "2024", "--csv", str(out_csv)])
    assert result.exit_code == 0, result.output
    rows = read(out_csv)
    ids = {r["area_id"] for r in rows}
    assert {"A0014", "A0038", "A0039"} <= ids  # the split area and its two parts
    a = {r["area_id"]: r for r in read(official / "2024" / "areas.csv")}
    b = {r["area_id"]: r for r in read(corrected / "2024" / "areas.csv")}
    changed = {i for i in set(a) & set(b) if a[i]["residents"] != b[i]["residents"]}
    assert changed <= ids


def _texts(root: Path):
    """The text of every file a run wrote (inside the workbook's zip, and the Parquet as CSV);
    the warehouse is internal and holds person-level rows by design."""
    import zipfile

    import polars as pl

    for p in sorted(root.rglob("*")):
        if not p.is_file() or p.suffix in (".duckdb", ".wal"):
            continue
        if p.suffix == ".xlsx":
            with zipfile.ZipFile(p) as z:
                for name in z.namelist():
                    yield f"{p}:{name}", z.read(name).decode("utf-8", "replace")
        elif p.suffix == ".parquet":
            yield str(p), pl.read_parquet(p).write_csv()
        else:
            yield str(p), p.read_bytes().decode("utf-8", "replace")


def test_no_person_level_value_in_any_output_file(official, corrected):
    import re

    import polars as pl

    reg = SAMPLES / "registers"
    pnrs: set[str] = set()
    addresses: set[str] = set()
    incomes: set[str] = set()
    for y in range(2012, 2025):
        bef = pl.read_parquet(reg / f"bef_{y}.parquet", columns=["pnr", "adresse_id"])
        pnrs.update(bef["pnr"].to_list())
        addresses.update(a for a in bef["adresse_id"].to_list() if a)
        inc = pl.read_parquet(reg / f"ind_{y}.parquet", columns=["perindkialt_13"])["perindkialt_13"].drop_nulls()
        incomes.update(repr(float(v)) for v in inc.to_list() if abs(v) >= 1000)
    assert len(pnrs) > 150_000 and len(addresses) > 60_000
    # A published mean income is an aggregate; with whole-krone incomes it can equal some
    # person's income by chance, so the means themselves are not counted as leaks.
    means = set()
    for root in (official, corrected):
        for f in root.glob("*/areas.csv"):
            for r in read(f):
                means.update(v for k, v in r.items() if k.endswith("mean_income") and v)
    incomes -= means
    leaks = []
    for root in (official, corrected):
        for name, text in _texts(root):
            tokens = set(re.findall(r"[0-9A-Za-z][0-9A-Za-z.\-]*", text))
            found = (tokens & pnrs) | (tokens & addresses) | (tokens & incomes)
            if found:
                leaks.append((name, len(found)))
    assert leaks == []


def _check_yardstick():
    """benchmarks/check_yardstick.py (the benchmarks are scripts, not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("check_yardstick", ROOT / "benchmarks" / "check_yardstick.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("year", range(2021, 2025))
def test_the_benchmark_yardstick_computes_the_published_counts(official, year):
    """The yardstick of the benchmarks (one DuckDB query with the code lists of rule set 2021 written
    in) gives every count the run publishes, so the ratio of the two compares like work."""
    areas, diffs = _check_yardstick().compare(SAMPLES, official, year)
    assert areas == len(read(official / str(year) / "areas.csv"))
    assert diffs == []


def test_the_yardstick_check_reports_a_changed_value(official, tmp_path):
    (tmp_path / "2024").mkdir()
    shutil.copy(official / "2024" / "national.json", tmp_path / "2024" / "national.json")
    rows = read(official / "2024" / "areas.csv")
    eligible = next(r for r in rows if r["eligible"] == "true")
    eligible["basic_edu_share"] = str(float(eligible["basic_edu_share"]) + 1e-9)
    with (tmp_path / "2024" / "areas.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    _, diffs = _check_yardstick().compare(SAMPLES, tmp_path, 2024)
    assert len(diffs) == 1 and diffs[0].startswith(f"{eligible['area_id']}: basic_edu_share")
