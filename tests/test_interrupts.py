"""A Ctrl-C that Dagster notes and drops still stops the run before it publishes
(pipeline.interrupts; found when a Ctrl-C during the second step let a whole run publish)."""

from __future__ import annotations

import os
import signal

import pytest
from dagster._utils.interrupts import capture_interrupts

from assets import runner
from assets.resources import Settings
from pipeline import interrupts
from pipeline.outputs import staged_year_folder


def _ctrl_c_dropped_by_dagster() -> None:
    """What happens to a Ctrl-C after a step's last checkpoint: Dagster's handler notes it and
    forgets it when the execution ends; nothing is raised."""
    with capture_interrupts():
        os.kill(os.getpid(), signal.SIGINT)


def test_a_dropped_ctrl_c_is_seen_only_while_watching():
    _ctrl_c_dropped_by_dagster()
    assert not interrupts.interrupted()
    interrupts.raise_if_interrupted()  # outside watching(): nothing
    with interrupts.watching():
        assert not interrupts.interrupted()
        _ctrl_c_dropped_by_dagster()
        assert interrupts.interrupted() and interrupts.interrupted()  # stays seen
        with pytest.raises(KeyboardInterrupt):
            interrupts.raise_if_interrupted()
    assert not interrupts.interrupted()
    with interrupts.watching():
        assert not interrupts.interrupted()  # a new watch starts clean


def test_a_dropped_ctrl_c_stops_the_publication_and_keeps_the_last_good_outputs(tmp_path):
    with staged_year_folder(tmp_path, 2024) as folder:
        (folder / "areas.csv").write_text("good\n")
    with interrupts.watching():
        with pytest.raises(KeyboardInterrupt), staged_year_folder(tmp_path, 2024) as folder:
            (folder / "areas.csv").write_text("new\n")
            _ctrl_c_dropped_by_dagster()
    assert (tmp_path / "2024" / "areas.csv").read_text() == "good\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2024"]


def test_a_dropped_ctrl_c_stops_the_run_before_its_next_step(tmp_path, monkeypatch):
    steps = [runner.Step(f"step {i}", (f"asset_{i}",), "2024") for i in (1, 2, 3)]
    monkeypatch.setattr(runner, "plan_steps", lambda settings, requested, con: steps)
    ran: list[str] = []

    def run(step: runner.Step) -> None:
        ran.append(step.label)
        if step.label == "step 1":
            _ctrl_c_dropped_by_dagster()

    settings = Settings(data_dir=str(tmp_path), out_dir=str(tmp_path / "out"))
    with pytest.raises(KeyboardInterrupt):
        runner._run_steps(settings, [2024], run, progress=None)
    assert ran == ["code lists, boundaries, history", "step 1"]
    ran.clear()
    folders = runner._run_steps(settings, [2024], lambda step: ran.append(step.label), progress=None)
    assert ran == ["code lists, boundaries, history", "step 1", "step 2", "step 3"]  # none noted: all run
    assert folders == [tmp_path / "out" / "2024"]
