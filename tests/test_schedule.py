"""The annual schedule and job: cron, timezone, the list year of a tick, and that the job calls
the runner with that year and the run's settings."""

import sys
import types
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

import assets.publication as pub
from assets.resources import Settings, resources_for
from pipeline.errors import InputError

CPH = ZoneInfo("Europe/Copenhagen")


def _evaluate(schedule: dg.ScheduleDefinition, when: datetime) -> list[dg.RunRequest]:
    data = schedule.evaluate_tick(dg.build_schedule_context(scheduled_execution_time=when))
    return list(data.run_requests or [])


def test_default_cron_timezone_and_target():
    s = pub.annual_lists_schedule
    assert s.name == "annual_lists_schedule"
    assert s.cron_schedule == "0 6 15 11 *"  # 15 November 06:00
    assert s.execution_timezone == "Europe/Copenhagen"
    assert s.job_name == "annual_lists"
    assert [n.name for n in pub.annual_lists.nodes] == ["run_annual_lists"]


def test_tick_targets_the_calendar_year():
    (req,) = _evaluate(pub.annual_lists_schedule, datetime(2025, 11, 15, 6, 0, tzinfo=CPH))
    assert req.run_key == "annual_lists_2025"
    assert req.run_config == {"ops": {"run_annual_lists": {"config": {"year": 2025}}}}
    assert req.tags["boliglister/list_year"] == "2025"


def test_year_is_taken_in_copenhagen_time():
    # 31 December 23:30 UTC is already 1 January in Copenhagen
    (req,) = _evaluate(pub.build_annual_schedule("30 0 1 1 *"), datetime(2024, 12, 31, 23, 30, tzinfo=timezone.utc))
    assert req.run_config["ops"]["run_annual_lists"]["config"]["year"] == 2025
    assert pub.list_year_of_tick(datetime(2024, 12, 31, 23, 30)) == 2024  # naive = Copenhagen


def test_cron_from_environment(monkeypatch):
    monkeypatch.setenv("BOLIGLISTER_SCHEDULE_CRON", "30 7 20 11 *")
    assert pub.schedule_cron() == "30 7 20 11 *"
    assert pub.build_annual_schedule().cron_schedule == "30 7 20 11 *"
    monkeypatch.setenv("BOLIGLISTER_SCHEDULE_CRON", "  ")
    assert pub.schedule_cron() == "0 6 15 11 *"
    monkeypatch.setenv("BOLIGLISTER_SCHEDULE_CRON", "61 * * * *")
    with pytest.raises(InputError, match="BOLIGLISTER_SCHEDULE_CRON: '61 \\* \\* \\* \\*' is not a valid cron"):
        pub.build_annual_schedule()


def test_job_runs_the_runner_for_the_scheduled_year(monkeypatch, tmp_path):
    calls = []
    fake = types.ModuleType("assets.runner")

    def run_list_years(years, settings, instance=None, progress=None):
        calls.append((years, settings.out_dir, settings.data_dir, instance is not None))
        progress("code lists, boundaries, history", 0, 0)
        progress("list year 2026 (publish)", 2, 2)

    fake.run_list_years = run_list_years
    monkeypatch.setitem(sys.modules, "assets.runner", fake)
    settings = Settings(data_dir=str(tmp_path / "data"), out_dir=str(tmp_path / "out"))
    defs = dg.Definitions.merge(pub.defs, dg.Definitions(resources=resources_for(settings)))
    job = defs.resolve_job_def("annual_lists")
    (req,) = _evaluate(pub.annual_lists_schedule, datetime(2026, 11, 15, 6, 0, tzinfo=CPH))
    instance = dg.DagsterInstance.ephemeral()
    result = job.execute_in_process(run_config=req.run_config, instance=instance)
    assert result.success
    assert calls == [([2026], str(tmp_path / "out"), str(tmp_path / "data"), True)]
    messages = [e.user_message for e in instance.all_logs(result.run_id)]
    assert "list year 2026: step 2/2: list year 2026 (publish)" in messages
    assert "code lists, boundaries, history" in messages


def test_registered_in_the_definitions():
    from assets.definitions import build_defs

    defs = build_defs(Settings(data_dir="data", out_dir="out"))
    assert defs.resolve_job_def("annual_lists").name == "annual_lists"
    assert defs.resolve_schedule_def("annual_lists_schedule").cron_schedule == pub.schedule_cron()
