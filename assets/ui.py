"""`boliglister ui`: the Dagster web UI over `assets.definitions`, on the loopback interface only.

The webserver runs as a child process (`python -m dagster_webserver`) with
- DAGSTER_HOME = OUT/.dagster_home, whose dagster.yaml turns telemetry off (and
  DAGSTER_DISABLE_TELEMETRY=1): nothing is written for upload, nothing leaves the machine;
  and launches a run started from the UI at once (no dagster-daemon is needed for that; the
  yearly schedule does need one: README, "The web UI and the schedule");
- the run's settings passed as the BOLIGLISTER_* variables that
  `assets.resources.default_settings()` reads when the code location loads.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from assets.resources import REPO_ROOT, Settings
from pipeline.errors import InputError

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")

DAGSTER_YAML = """\
# Written by `boliglister ui`: a tool for confidential data must not report usage anywhere.
telemetry:
  enabled: false
# A run launched from the UI starts at once, in the webserver's own launcher. Dagster's default,
# the queued coordinator, hands runs to a dagster-daemon process, which `boliglister ui` does not
# start: every run would stay queued.
run_coordinator:
  module: dagster._core.run_coordinator
  class: DefaultRunCoordinator
"""


def dagster_home(settings: Settings) -> Path:
    """OUT/.dagster_home with a dagster.yaml that disables telemetry (created if needed)."""
    home = settings.out_path.resolve() / ".dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    cfg = home / "dagster.yaml"
    if not cfg.is_file() or cfg.read_text(encoding="utf-8") != DAGSTER_YAML:
        cfg.write_text(DAGSTER_YAML, encoding="utf-8")
    return home


def ui_environment(settings: Settings, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of the webserver: DAGSTER_HOME, telemetry off, BOLIGLISTER_* settings."""
    env = dict(os.environ if base is None else base)
    env.update(
        {
            "DAGSTER_HOME": str(dagster_home(settings)),
            "DAGSTER_DISABLE_TELEMETRY": "1",
            "BOLIGLISTER_DATA": str(Path(settings.data_dir).resolve()),
            "BOLIGLISTER_BOUNDARIES": str(Path(settings.boundaries_dir).resolve()) if settings.boundaries_dir else "",
            "BOLIGLISTER_OUT": str(settings.out_path.resolve()),
            "BOLIGLISTER_RULES": settings.rules,
            "BOLIGLISTER_HISTORY": settings.history,
        }
    )
    return env


def ui_command(host: str, port: int) -> list[str]:
    return [
        sys.executable, "-m", "dagster_webserver",
        "--host", host,
        "--port", str(port),
        "--module-name", "assets.definitions",
        "--working-directory", str(REPO_ROOT),
    ]


def run_ui(settings: Settings, host: str = "127.0.0.1", port: int = 3000) -> int:
    """Start the Dagster web UI on host:port (loopback only) and block until interrupted.

    Returns the webserver's exit code (0 after Ctrl-C or SIGTERM).
    """
    if host not in LOOPBACK_HOSTS:
        raise InputError(f"the web UI only listens on the loopback interface (127.0.0.1), not on {host!r}")
    settings.out_path.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(ui_command(host, port), env=ui_environment(settings), cwd=str(REPO_ROOT))
    stopping = False

    def _forward(signum, _frame):
        nonlocal stopping
        stopping = True
        if proc.poll() is None:
            proc.send_signal(signum)

    previous = signal.signal(signal.SIGTERM, _forward)
    try:
        while True:
            try:
                code = proc.wait()
                return 0 if stopping or code in (-signal.SIGTERM, -signal.SIGINT) else code
            except KeyboardInterrupt:
                # Ctrl-C reaches the webserver too (same process group); wait for it to stop.
                stopping = True
                if proc.poll() is None:
                    proc.send_signal(signal.SIGINT)
    finally:
        signal.signal(signal.SIGTERM, previous)
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
