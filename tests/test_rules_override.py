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
