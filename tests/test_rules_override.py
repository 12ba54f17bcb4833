"""`boliglister run --rules FILE` with a changed parameter publishes under that rule set: the
output's blocking consistency checks follow the rule set in use (METHOD.md § 8: every parameter
is overridable), so a lowered `min_residents` makes a small area eligible instead of stopping
the run."""

from __future__ import annotations

import csv
import re

from click.testing import CliRunner

from assets.cli import main
from pipeline.rules import RULES_DIR
from tests.test_calculation import Y
from tests.test_cli import _world


def test_a_rules_file_with_a_lower_min_residents_publishes(tmp_path):
    data = _world().write_data_dir(tmp_path / "data")
    text = (RULES_DIR / "2021.toml").read_text(encoding="utf-8")
    text, n = re.subn(r"(?m)^min_residents = 1000$", "min_residents = 10", text)
    assert n == 1
    text = re.sub(r'(?m)^name = "2021"$', 'name = "lowered"', text)
    rules = tmp_path / "lowered.toml"
    rules.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["run", "--year", str(Y), "--data", str(data), "--out", str(out),
                                       "--rules", str(rules), "--quiet"])  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = {r["area_id"]: r for r in csv.DictReader((out / str(Y) / "areas.csv").open(encoding="utf-8"))}
    # area C has 20 residents: eligible under min_residents 10, not under the built-in 1000
    assert (rows["C"]["residents"], rows["C"]["eligible"], rows["C"]["ruleset"]) == ("20", "true", "lowered")
    assert not (out / "rejected").exists()
    # the manifest names the rules file read, with its SHA-256 (OUTPUTS.md: every input file read)
    import hashlib
    import json

    inputs = json.loads((out / str(Y) / "manifest.json").read_text(encoding="utf-8"))["inputs"]
    assert inputs["rules/--rules/lowered.toml"] == {"sha256": hashlib.sha256(rules.read_bytes()).hexdigest(),
                                                    "origin": "file", "path": str(rules.resolve())}  # fmt: skip
    assert not any(k.startswith("rules/") and k != "rules/--rules/lowered.toml" for k in inputs)


def test_yearly_counts_metadata_reports_the_national_counts_of_its_own_rule_set(tmp_path):
    """int_national_convictions keeps one row per data year and parameter key (another rule set's
    crime codes give other counts); the asset's metadata reports the row of the rule set it ran
    with, whichever keys the warehouse already holds."""
    import dagster as dg

    from assets.calculation import yearly_counts
    from assets.resources import Settings, warehouse_for

    w = _world()
    t = Y - 1
    adults = [r["pnr"] for r in w.rows["bef"] if r["year"] == t and r["alder"] >= 18]
    w.kraf(t, adults[:3], afgtyp=1)  # criminal convictions
    w.kraf(t, adults[3:5], afgtyp=4)  # tiltalefrafald: guilty under the code lists
    data = w.write_data_dir(tmp_path / "data")
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["run", "--year", str(Y), "--data", str(data), "--out", str(out),
                                     "--quiet"]).exit_code == 0  # fmt: skip
    text = (RULES_DIR / "2021.toml").read_text(encoding="utf-8")
    text = re.sub(r'(?m)^name = "2021"$', 'name = "criminal-only"', text)
    text = re.sub(r"(?m)^# guilty_decision_types = .*$", "guilty_decision_types = [1]", text)
    rules = tmp_path / "criminal-only.toml"
    rules.write_text(text, encoding="utf-8")

    def convicted(rules_arg: str) -> int:
        settings = Settings(data_dir=str(data), out_dir=str(out), rules=rules_arg, requested_years=[Y])
        result = dg.materialize([yearly_counts], partition_key=str(t),
                                resources={"settings": settings, "warehouse": warehouse_for(settings)})
        (mat,) = result.asset_materializations_for_node("yearly_counts")
        return mat.metadata[f"national_convicted_{t}"].value

    assert convicted(str(rules)) == 3
    assert convicted("") == 5  # the built-in rule set, with both keys in the warehouse
    assert convicted(str(rules)) == 3
