"""report.html: self-contained, exact contents from the hand-made fixtures, and a headless
Chromium render (network blocked) whose screenshot shows the charts."""

from __future__ import annotations

import re
from html import unescape
import shutil
import subprocess
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from pipeline.publish import read_areas_csv, write_report

F = Path(__file__).parent / "fixtures" / "publish"
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)

NATIONAL_2021 = {
    "list_year": 2021,
    "ruleset": "2021",
    "conviction_counts": {"prev": {"convicted": 63803, "persons": 4790097},
                          "last": {"convicted": 63753, "persons": 4848590}},
    "conviction_share": {"prev": 0.0133, "last": 0.0131, "mean": 0.0132},
    "conviction_threshold": 0.0396,
    "prevention_conviction_threshold": 0.0264,
    "region_mean_income": {"1081": 320000.0, "1082": 340000.0, "1083": 330000.0, "1084": 380000.0,
                           "1085": 335000.0},
    "parameters": {"labour_share": {"op": ">", "value": 0.4}},
}
# as the pipeline gives it: every list flag every year, 0 where the rule set has no such list
COUNTS = pl.DataFrame({
    "list_year": [2019] * 5 + [2020] * 5 + [2021] * 5,
    "list": ["vulnerable", "parallel", "transformation", "combined_letting", "prevention"] * 3,
    "n": [3, 3, 1, 2, 0, 4, 3, 1, 4, 0, 4, 3, 1, 0, 1],
}, schema_overrides={"list_year": pl.Int32})


def areas(year: int) -> pl.DataFrame:
    return read_areas_csv(F / "out_a" / str(year) / "areas.csv")


@pytest.fixture(scope="module")
def report_2021(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("rep") / "2021" / "report.html"
    write_report(path, areas(2021), areas(2020), COUNTS, NATIONAL_2021, 2021, "2021")
    return path


def _text(html: str) -> str:
    """Visible text of the page outside the SVG charts, whitespace collapsed."""
    html = re.sub(r"<svg.*?</svg>", "", html, flags=re.S)
    html = re.sub(r"<style.*?</style>", "", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def test_self_contained(report_2021):
    html = report_2021.read_text(encoding="utf-8")
    low = html.lower()
    assert "http://" not in low and "https://" not in low and "//" not in re.sub(r"<svg.*?</svg>", "", low, flags=re.S)
    assert "<script" not in low and "<link" not in low and "<img" not in low and "<iframe" not in low
    assert "@import" not in low and "src=" not in low
    assert not re.search(r"url\(\s*(?!#)", low)  # only same-document references (clip paths)
    assert not re.search(r'href="(?!#)', low)
    assert low.count("<svg") == 3  # criteria, counts over years, movements


def test_summary_and_tables(report_2021):
    text = _text(report_2021.read_text(encoding="utf-8"))
    assert "7 boligområder i afgrænsningen, heraf 6 med mindst 1.000 beboere" in text
    assert "4 Udsatte boligområder +1 nye · −1 udgået" in text
    assert "1 Forebyggelsesområder +1 nye · −0 udgået" in text
    # the parallel table, in municipality order, Danish number format, threshold row
    assert ("Parallelsamfund (3) Kommune Boligområde Beboere Andel uden for arbejdsmarked og uddannelse "
            "Dømte (andel) Dømte (gange landsgennemsnit) Andel kun grundskole "
            "Gennemsnitlig bruttoindkomst i pct. af regionen "
            "Andel ikke-vestlige Opfyldte kriterier Ny på listen År på listen "
            "Tærskel > 40,0 % ≥ 3,0 × landsgennemsnittet > 60,0 % < 55,0 % > 50,0 % "
            "Aalborg Ny Vest 3.000 45,0 % 4,6 % 3,50 70,0 % 50,0 % 55,0 % "
            "arbejdsmarked, dømte, grundskole, indkomst, ikke-vestlige Ja 1 "
            "Aarhus Gellerupparken 5.437 39,0 % 3,3 % 2,50 62,0 % 48,0 % 79,0 % grundskole, indkomst, ikke-vestlige Nej 3 "
            "København Mjølnerparken 1.766 43,0 % 4,2 % 3,20 65,0 % 50,0 % 82,0 %") in text
    # prevention: its own thresholds; conviction exactly 2.0 meets ">= 2"
    assert ("Forebyggelsesområder (1) Kommune Boligområde Beboere") in text
    assert ("Tærskel > 30,0 % ≥ 2,0 × landsgennemsnittet > 60,0 % < 65,0 % > 30,0 % "
            "Aalborg Skovparken 1.200 32,0 % 2,6 % 2,00 55,0 % 60,0 % 35,0 % "
            "arbejdsmarked, dømte, indkomst, ikke-vestlige Ja") in text


def test_met_cells_marked(report_2021):
    html = report_2021.read_text(encoding="utf-8")
    vollsmose = re.search(r"<tr><td>Odense</td><td>Vollsmose</td>.*?</tr>", html).group(0)
    cells = re.findall(r'<td class="num( met)?">([^<]*)</td>', vollsmose)
    # the conviction share (percent) beside its multiple of the national share, both unmarked
    assert cells == [("", "7.000"), (" met", "41,0 %"), ("", "2,8 %"), ("", "2,10"), ("", "59,0 %"), (" met", "52,0 %"),
                     ("", "45,0 %")]


def test_movements_and_counts(report_2021):
    text = _text(report_2021.read_text(encoding="utf-8"))
    assert "Udsatte boligområder Nye på listen: Ny Vest (Aalborg). Udgået: Lille Område (København): under 1.000 beboere." in text
    assert "Parallelsamfund Nye på listen: Ny Vest (Aalborg). Udgået: Vollsmose (Odense): opfylder ikke længere kriterierne." in text
    assert "Omdannelsesområder Nye på listen: ingen. Udgået: ingen." in text
    # counts over years: lists that did not exist that year (prevention before 2021, combined
    # letting from 2021) are blank, not 0
    assert ("Liste 2019 2020 2021 Udsatte boligområder 3 4 4 Parallelsamfund (før 2021: ghettoområder) 3 3 3 "
            "Omdannelsesområder (2018-2020: hårde ghettoområder) 1 1 1 Forebyggelsesområder 1 "
            "Kombineret udlejning 2 4") in text
    assert "Tærskel for dømte (forebyggelsesområder) 2,6 %" in text
    assert "Gennemsnitlig bruttoindkomst, Region Hovedstaden 380.000 kr." in text


def test_counts_completed_with_this_year(tmp_path):
    path = tmp_path / "r.html"
    write_report(path, areas(2021), areas(2020), COUNTS.filter(pl.col("list_year") < 2021), NATIONAL_2021, 2021, "2021")
    text = _text(path.read_text(encoding="utf-8"))
    assert ("Liste 2019 2020 2021 Udsatte boligområder 3 4 4 Parallelsamfund (før 2021: ghettoområder) 3 3 3 "
            "Omdannelsesområder (2018-2020: hårde ghettoområder) 1 1 1 Forebyggelsesområder 1 "
            "Kombineret udlejning 2 4") in text


def test_deterministic(tmp_path):
    a, b = tmp_path / "a.html", tmp_path / "b.html"
    for p in (a, b):
        write_report(p, areas(2021), areas(2020), COUNTS, NATIONAL_2021, 2021, "2021")
    assert a.read_bytes() == b.read_bytes()


def test_rule_set_2014_without_previous_year_or_listed_areas(tmp_path):
    path = tmp_path / "report.html"
    empty = pl.DataFrame(schema={"list_year": pl.Int64, "list": pl.String, "n": pl.Int64})
    write_report(path, areas(2015), None, empty, {"list_year": 2015, "ruleset": "2014"}, 2015, "2014")
    html = path.read_text(encoding="utf-8")
    text = _text(html)
    assert "Ghettoområder (1)" in text and "Kombineret udlejning (2)" in text
    assert "Listerne for 2014 indgår ikke i denne kørsel, så bevægelserne kan ikke vises." in text
    assert "Dømte (andel)" in text and "Tærskel > 40,0 % > 2,7 % > 50,0 % < 55,0 % > 50,0 %" in text
    assert html.count("<svg") == 2  # no movements chart
    # nobody listed: no criteria chart, a sentence instead
    nobody = areas(2015).with_columns(pl.lit(False).alias("parallel"), pl.lit(False).alias("combined_letting"))
    write_report(path, nobody, None, empty, {}, 2015, "2014")
    html = path.read_text(encoding="utf-8")
    assert "Ingen områder er på listerne i 2015." in html and html.count("<svg") == 1


def _screenshot(html: Path, png: Path, profile: Path) -> None:
    cmd = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
        "--host-resolver-rules=MAP * ~NOTFOUND", f"--screenshot={png}", "--window-size=1400,3000",
        html.resolve().as_uri(),
    ]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)")
def test_renders_in_headless_chromium_offline(report_2021, tmp_path):
    from matplotlib.image import imread

    png = tmp_path / "report.png"
    _screenshot(report_2021, png, tmp_path / "profile")
    img = (imread(png)[:, :, :3] * 255).round().astype(np.uint8)
    assert img.shape[:2] == (3000, 1400)
    non_white = (img < 245).any(axis=2).mean()
    assert non_white > 0.05
    colours = {tuple(c) for c in img[::4, ::4].reshape(-1, 3)}
    assert len(colours) > 200

    def has(rgb: str) -> int:
        want = np.array([int(rgb[i:i + 2], 16) for i in (1, 3, 5)])
        return int((np.abs(img.astype(int) - want).max(axis=2) <= 3).sum())

    assert has("#67001f") > 500  # transformation bars in the criteria chart
    assert has("#4393c3") > 500  # prevention bar and its dashed threshold
    assert has("#1b7837") > 500  # "new" bars in the movements chart
    assert has("#b2182b") > 500  # "left" bars


def test_year_ranges():
    from pipeline.publish.common import year_ranges

    assert year_ranges([2019, 2014, 2015, 2016, 2016]) == "2014-2016, 2019"
    assert year_ranges([2020]) == "2020" and year_ranges([]) == ""


def test_figures_are_rounded_as_the_workbook_shows_them():
    """report.html's figures round as the workbook's cells display (Excel: 15 significant digits,
    half away from zero), not on the binary double: 401 of 2,000 is 20.05 %, shown 20,1 %."""
    from pipeline.publish.common import fmt_int, fmt_num, fmt_pct

    assert fmt_pct(401 / 2000) == "20,1 %"
    assert fmt_pct(0.4) == "40,0 %" and fmt_pct(1 / 3) == "33,3 %" and fmt_pct(None) == ""
    assert f"{2.675:.2f}" == "2.67" and fmt_num(2.675, 2) == "2,68"  # the double is 2.67499999...
    assert fmt_num(-0.04, 1) == "0,0" and fmt_num(-0.06, 1) == "-0,1"
    assert fmt_num(1234567.5, 0) == "1.234.568" and fmt_int(5000) == "5.000"
