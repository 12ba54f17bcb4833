"""Ctrl-C that nothing else may lose.

Dagster's in-process execution replaces the SIGINT handler for the length of each `materialize`
(`dagster._utils.interrupts.capture_interrupts`): an interrupt is only noted, raised at the
execution's next checkpoint, and forgotten when the execution ends. A Ctrl-C that lands after a
step's last checkpoint (the step's own end, the run's shutdown) is therefore dropped, and the run
went on to the next step and published. `watching()` records every SIGINT and SIGTERM at the C
level instead (`signal.set_wakeup_fd`: the interpreter writes the signal's number to a pipe
whatever Python handler is installed), and `raise_if_interrupted()` turns one that was noted
into a KeyboardInterrupt: the runner calls it after every step, the publication before it moves a
staged year into place.

Outside `watching()` (a test's `materialize`, another thread) both are no-ops.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_WATCHED = {int(signal.SIGINT), int(signal.SIGTERM)}
_state: dict = {"fd": None, "seen": False}


@contextmanager
def watching() -> Iterator[None]:
    """Note every SIGINT/SIGTERM received while the block runs (main thread only)."""
    if threading.current_thread() is not threading.main_thread() or _state["fd"] is not None:
        yield
        return
    read_fd, write_fd = os.pipe()
    os.set_blocking(read_fd, False)
    os.set_blocking(write_fd, False)
    previous = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    _state.update(fd=read_fd, seen=False)
    try:
        yield
    finally:
        signal.set_wakeup_fd(previous)
        _state.update(fd=None, seen=False)
        os.close(read_fd)
        os.close(write_fd)


def interrupted() -> bool:
    """Whether a SIGINT or SIGTERM arrived since `watching()` began (once seen, stays seen)."""
    fd = _state["fd"]
    if fd is None:
        return False
    while not _state["seen"]:
        try:
            got = os.read(fd, 512)
        except BlockingIOError:
            break
        if not got:
            break
        _state["seen"] = any(b in _WATCHED for b in got)
    return _state["seen"]


def raise_if_interrupted() -> None:
    """KeyboardInterrupt when `interrupted()`; the CLI's one line and exit 130 follow."""
    if interrupted():
        raise KeyboardInterrupt
