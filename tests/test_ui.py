"""`boliglister ui`: the real Dagster web UI answers GraphQL on a local port and lists the
ingestion assets; telemetry is off in its DAGSTER_HOME."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from assets.resources import Settings
from assets.ui import DAGSTER_YAML, run_ui, ui_environment
from pipeline.errors import InputError
from tests.ingest_helpers import make_data_dir

QUERY = "{ assetNodes { assetKey { path } groupName } }"
INGESTION = {"reference", "boundaries", "history", "bef", "akm", "udda", "ind", "kraf", "adresser"}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_environment_passes_settings_and_disables_telemetry(tmp_path):
    s = Settings(data_dir=str(tmp_path / "d"), out_dir=str(tmp_path / "o"), history="recompute")
    env = ui_environment(s, base={})
    assert env["DAGSTER_DISABLE_TELEMETRY"] == "1"
    assert env["BOLIGLISTER_DATA"] == str(tmp_path / "d")
    assert env["BOLIGLISTER_OUT"] == str(tmp_path / "o")
    assert env["BOLIGLISTER_HISTORY"] == "recompute"
    assert env["DAGSTER_HOME"] == str(tmp_path / "o" / ".dagster_home")
    assert (tmp_path / "o" / ".dagster_home" / "dagster.yaml").read_text() == DAGSTER_YAML


def test_instance_launches_runs_without_a_daemon_and_keeps_telemetry_off(tmp_path):
    """The UI's instance starts a launched run at once: with Dagster's default queued coordinator
    a run launched from the UI would wait for a dagster-daemon that `boliglister ui` never starts."""
    import dagster as dg
    from dagster._core.run_coordinator import DefaultRunCoordinator

    s = Settings(data_dir=str(tmp_path / "d"), out_dir=str(tmp_path / "o"))
    home = ui_environment(s, base={})["DAGSTER_HOME"]
    instance = dg.DagsterInstance.from_config(home)
    try:
        assert type(instance.run_coordinator) is DefaultRunCoordinator
        assert instance.telemetry_enabled is False
    finally:
        instance.dispose()


def test_only_loopback(tmp_path):
    s = Settings(data_dir=str(tmp_path), out_dir=str(tmp_path / "o"))
    with pytest.raises(InputError, match="loopback"):
        run_ui(s, host="0.0.0.0", port=_free_port())


@pytest.mark.slow
def test_web_ui_lists_the_ingestion_assets(tmp_path):
    data = make_data_dir(tmp_path)
    out = tmp_path / "out"
    port = _free_port()
    code = (
        "import sys\n"
        "from assets.resources import Settings\n"
        "from assets.ui import run_ui\n"
        f"sys.exit(run_ui(Settings(data_dir={str(data)!r}, out_dir={str(out)!r}), port={port}))\n"
    )
    log = (tmp_path / "ui.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        nodes = None
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                r = requests.post(f"http://127.0.0.1:{port}/graphql", json={"query": QUERY}, timeout=5)
                if r.status_code == 200 and r.json().get("data", {}).get("assetNodes"):
                    nodes = r.json()["data"]["assetNodes"]
                    break
            except requests.RequestException:
                pass
            time.sleep(1)
        assert nodes is not None, (tmp_path / "ui.log").read_text(errors="replace")[-3000:]
        groups = {"/".join(n["assetKey"]["path"]): n["groupName"] for n in nodes}
        assert INGESTION <= set(groups)
        assert {groups[k] for k in INGESTION} == {"ingestion"}
        home = out / ".dagster_home"
        assert (home / "dagster.yaml").read_text() == DAGSTER_YAML
        assert not (home / "logs" / "event.log").exists()  # no telemetry log written
    finally:
        if proc.poll() is None:
            proc.terminate()  # run_ui forwards SIGTERM to the webserver
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the session this test started (code server too)
        except ProcessLookupError:
            pass
        log.close()
    assert proc.returncode == 0
