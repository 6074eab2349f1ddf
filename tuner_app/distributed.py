"""KerasTuner's own distributed mode (a chief oracle and workers over gRPC), made safe for long runs.

Roles are set through KerasTuner's environment variables. This module holds what both sides
need without importing KerasTuner: addresses, the wait for a chief, and the workers' heartbeat files
that the chief (`tuner_app.chief`) reads to tell a lost worker from a busy one.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

HEARTBEAT_DIR = "workers"
HEARTBEAT_PERIOD_S = 2.0
CHIEF_WAIT_S = 300.0  # a worker started before its chief waits this long for it
CHIEF_WAIT_REPORT_S = 30.0  # ... and says so this often


class DistributedError(RuntimeError):
    """The distributed setup cannot work (port in use, bad address); the message says what to do."""


def parse_address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"Oracle address {text!r} must look like HOST:PORT, e.g. 127.0.0.1:8000.")
    return host, int(port)


def configure_environment(address: str, tuner_id: str) -> None:
    """Set KerasTuner's variables; it reads them whenever a tuner is built or searches."""
    host, port = parse_address(address)
    os.environ["KERASTUNER_TUNER_ID"] = tuner_id
    os.environ["KERASTUNER_ORACLE_IP"] = host
    os.environ["KERASTUNER_ORACLE_PORT"] = str(port)


def check_port_free(address: str) -> None:
    host, port = parse_address(address)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As gRPC does: a port left in TIME_WAIT by a chief that just ended is free, a listening one not.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
            probe.listen(1)
        except OSError as exc:
            raise DistributedError(
                f"The chief cannot listen on {host}:{port} ({exc.strerror}): the port is in use or "
                "the address is not on this machine. Pick another with --oracle HOST:PORT."
            ) from None


def wait_for_chief(
    address: str,
    timeout_s: float,
    report_every_s: float = CHIEF_WAIT_REPORT_S,
    say: Callable[[str], None] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    poll_s: float = 0.5,
) -> bool:
    """Block until the chief accepts connections (True), saying so every `report_every_s` seconds;
    False if `should_stop` turned true first (Ctrl+C). KerasTuner's client would wait, silent, forever."""
    host, port = parse_address(address)
    say = say or _say_on_stderr
    start = time.monotonic()
    deadline = start + timeout_s
    next_report = start + report_every_s
    while True:
        if should_stop():
            return False
        try:
            with socket.create_connection((host, port), timeout=min(2.0, max(poll_s, 0.1))):
                return True
        except OSError:
            now = time.monotonic()
            if now > deadline:
                raise DistributedError(
                    f"No chief answered at {host}:{port} within {timeout_s:.0f} s. Start it with "
                    f"--role chief --oracle {host}:{port}, or check the address."
                ) from None
            if now >= next_report:
                say(
                    f"waiting for the chief at {host}:{port} ({now - start:.0f} s so far; gives up "
                    f"after {timeout_s:.0f} s)"
                )
                next_report += report_every_s
            time.sleep(poll_s)


def _say_on_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Heartbeat:
    """A worker's proof of life: a file in PROJECT/workers/ touched every few seconds."""

    def __init__(self, project_dir: Path, worker_id: str, period_s: float = HEARTBEAT_PERIOD_S):
        self.path = project_dir / HEARTBEAT_DIR / f"{worker_id}.alive"
        self.period_s = period_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.touch()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.path.unlink(missing_ok=True)

    def _run(self) -> None:
        while not self._stop.wait(self.period_s):
            self.path.touch()


def heartbeat_age(project_dir: Path, worker_id: str, now: float | None = None) -> float | None:
    """Seconds since the worker's last heartbeat, or None if it never had one (or left cleanly)."""
    path = project_dir / HEARTBEAT_DIR / f"{worker_id}.alive"
    try:
        return (time.time() if now is None else now) - path.stat().st_mtime
    except FileNotFoundError:
        return None
