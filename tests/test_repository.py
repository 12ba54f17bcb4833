"""Repository hygiene (govcookiecutter-style): raw data never committed, samples small, the
shipped code lists are the shared reference lists, and no network address in the code."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_REFERENCE = ROOT.parent / "shared" / "reference"


def tracked() -> list[Path]:
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [ROOT / p for p in out.decode().split("\0") if p]


def test_no_data_files_outside_the_samples_and_fixtures():
    data_suffixes = {".parquet", ".sas7bdat", ".duckdb", ".wal", ".xlsx"}
    allowed = ("data_samples/", "tests/fixtures/")
    bad = [p.relative_to(ROOT).as_posix() for p in tracked() if p.suffix in data_suffixes]
    assert [p for p in bad if not p.startswith(allowed)] == []
    assert not any(p.relative_to(ROOT).as_posix().startswith("output/") for p in tracked())


def test_no_large_files_and_small_samples():
    sizes = {p.relative_to(ROOT).as_posix(): p.stat().st_size for p in tracked() if p.is_file()}
    assert [p for p, n in sizes.items() if n > 20 * 2**20] == []
    samples = sum(n for p, n in sizes.items() if p.startswith("data_samples/"))
    assert 0 < samples < 30 * 2**20


@pytest.mark.skipif(not SHARED_REFERENCE.is_dir(), reason="shared/ is not beside the repository")
def test_shipped_code_lists_are_the_shared_reference_lists():
    shipped = ROOT / "pipeline" / "reference"
    names = sorted(p.name for p in SHARED_REFERENCE.glob("*.csv"))
    assert names == sorted(p.name for p in shipped.glob("*.csv"))
    for name in names:
        assert (shipped / name).read_bytes() == (SHARED_REFERENCE / name).read_bytes(), name


def test_no_network_address_in_the_code():
    """Code and templates name no remote host (the real data live on machines without internet)."""
    url = re.compile(r"https?://(?!127\.0\.0\.1|localhost)[\w.-]+")
    hits = []
    for p in tracked():
        if p.suffix in (".py", ".sql", ".j2", ".html", ".toml", ".json") and "tests/" not in p.as_posix():
            for m in url.finditer(p.read_text(encoding="utf-8", errors="replace")):
                hits.append(f"{p.relative_to(ROOT)}: {m.group(0)}")
    assert hits == []
