"""The atomic publication of OUT/Y (pipeline.outputs.staged_year_folder)."""

from __future__ import annotations

import os

import pytest

from pipeline import outputs
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


def test_a_new_publication_replaces_the_last_in_one_swap(tmp_path):
    with staged_year_folder(tmp_path, 2024) as folder:
        (folder / "areas.csv").write_text("first\n")
        (folder / "only_in_first.txt").write_text("x")
    with staged_year_folder(tmp_path, 2024) as folder:
        (folder / "areas.csv").write_text("second\n")
    assert sorted(p.name for p in (tmp_path / "2024").iterdir()) == ["areas.csv"]
    assert (tmp_path / "2024" / "areas.csv").read_text() == "second\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2024"]


def test_without_the_swap_a_failed_second_rename_puts_the_last_good_outputs_back(tmp_path, monkeypatch):
    with staged_year_folder(tmp_path, 2024) as folder:
        (folder / "areas.csv").write_text("good\n")
    monkeypatch.setattr(outputs, "_exchange", lambda a, b: False)  # a file system that cannot swap
    real_replace, calls = os.replace, []

    def replace(src, dst):
        calls.append((os.path.basename(src), os.path.basename(dst)))
        if len(calls) == 2:  # the new folder into place: the disk fails, or Ctrl-C lands here
            raise KeyboardInterrupt
        real_replace(src, dst)

    monkeypatch.setattr(outputs.os, "replace", replace)
    with pytest.raises(KeyboardInterrupt), staged_year_folder(tmp_path, 2024) as folder:
        (folder / "areas.csv").write_text("new\n")
    assert calls[0][0] == "2024" and calls[1][1] == "2024" and calls[2] == (calls[0][1], "2024")
    assert (tmp_path / "2024" / "areas.csv").read_text() == "good\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2024"]


@pytest.mark.skipif(not os.sys.platform.startswith("linux"), reason="renameat2 is Linux's")
def test_two_folders_are_swapped_in_one_step(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    (a / "from_a").write_text("")
    (b / "from_b").write_text("")
    assert outputs._exchange(a, b) is True
    assert [p.name for p in a.iterdir()] == ["from_b"] and [p.name for p in b.iterdir()] == ["from_a"]
    assert outputs._exchange(a, tmp_path / "missing") is False  # nothing to swap with: the caller renames
