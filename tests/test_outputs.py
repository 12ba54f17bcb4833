"""The atomic publication of OUT/Y (pipeline.outputs.staged_year_folder)."""

from __future__ import annotations

import pytest

from pipeline.outputs import staged_year_folder


def test_a_failed_publication_leaves_the_last_good_outputs_and_no_temporary_folder(tmp_path):
    with staged_year_folder(tmp_path, 2024) as folder:
        (folder / "areas.csv").write_text("good\n")
    with pytest.raises(RuntimeError), staged_year_folder(tmp_path, 2024) as folder:
        (folder / "areas.csv").write_text("half\n")
        raise RuntimeError("stopped")
    assert (tmp_path / "2024" / "areas.csv").read_text() == "good\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2024"]


def test_publishing_a_year_removes_the_report_of_its_earlier_stopped_run(tmp_path):
    for y in (2023, 2024):
        (tmp_path / "rejected" / str(y) / "quality").mkdir(parents=True)
        (tmp_path / "rejected" / str(y) / "quality" / "summary.json").write_text("{}")
    with pytest.raises(RuntimeError), staged_year_folder(tmp_path, 2024):
        raise RuntimeError("stopped again")  # a failed run keeps it
    assert (tmp_path / "rejected" / "2024" / "quality" / "summary.json").exists()
    with staged_year_folder(tmp_path, 2024) as folder:
        (folder / "areas.csv").write_text("good\n")
    assert not (tmp_path / "rejected" / "2024").exists()
    assert (tmp_path / "rejected" / "2023" / "quality" / "summary.json").exists()  # another year's stays
    with staged_year_folder(tmp_path, 2023) as folder:
        (folder / "areas.csv").write_text("good\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2023", "2024"]
