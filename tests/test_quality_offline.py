"""The quality page renders in headless Chromium with the network off: it loads nothing from
outside (no URL at all in the page) and the screenshot is not blank."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pipeline.quality.result import Outcome, QualityResult
from pipeline.quality.report import write_quality_report

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _result() -> QualityResult:
    return QualityResult([
        Outcome("bef", "alder_in_0_125", "expect_column_max_to_be_between", "error", False, "bef", "alder", 2024,
                "alder is between 0 and 125", {"observed_value": 3}),
        Outcome("coverage", "akm_last", "expect_column_min_to_be_between", "warning", False, "akm", "pnr", 2023,
                "at least 95 % of bef persons aged 18-64 have an akm record", {"observed_value": 0.9312}),
        Outcome("boundary_residents", "has_residents", "expect_column_values_to_be_between", "warning", True,
                "areas.csv", "area_id", 2024, "every area has residents", {"element_count": 12, "unexpected_count": 0}),
    ])


@pytest.mark.skipif(not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)), reason="chromium not installed")
def test_report_renders_offline_in_headless_chromium(tmp_path):
    out = tmp_path / "quality"
    write_quality_report([_result()], out)
    html = (out / "index.html").read_text(encoding="utf-8")
    for token in ("http:", "https:", "//cdn", "<script", "<link", "<img", "src=", "url(", "@import"):
        assert token not in html  # nothing to fetch: the page is self-contained
    shot = tmp_path / "shot.png"
    flags = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
        "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9", "--window-size=1200,900",
    ]
    url = (out / "index.html").as_uri()
    dom = subprocess.run([*flags, "--dump-dom", url], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-500:]
    assert "Stopped: 1 error" in dom.stdout and "alder_in_0_125" in dom.stdout
    run = subprocess.run([*flags, f"--screenshot={shot}", url], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and shot.is_file(), run.stderr[-500:]
    import matplotlib.image as mpimg
    import numpy as np

    img = mpimg.imread(shot)[..., :3]
    assert img.shape[0] >= 800 and img.shape[1] >= 1100
    # not blank: the header band is dark blue, the verdict is red, most of the page is light
    dark = (img.sum(axis=2) < 1.2).mean()
    reddish = ((img[..., 0] > 0.9) & (img[..., 1] < 0.93) & (img[..., 2] < 0.93)).mean()
    assert dark > 0.02 and reddish > 0.002 and len(np.unique(img.reshape(-1, 3), axis=0)) > 50
