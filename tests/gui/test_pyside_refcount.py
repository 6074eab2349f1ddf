"""Regression: the installed PySide6 survives many Signal.emit() calls (6.12.0 aborts on Python 3.11).

PySide6 6.12.0 drops a reference to `True` on each emit from Python; CPython < 3.12 then dies with
`Fatal Python error: bool_dealloc` (a bare QCoreApplication after ~570 emits, the full window after
~40,000 pad mouse moves). pyproject excludes that release. Each check runs tests/gui/emit_soak.py in
its own process so that the abort fails this test instead of killing pytest.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

DRIVER = Path(__file__).with_name("emit_soak.py")
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("what", "count", "expected"),
    [
        ("signal", 200_000, 200_000),  # slot calls
        ("pad", 50_000, 50_000 + 50),  # `changed` emits: one per segment, one per Clear (every 1000)
    ],
)
def test_many_emits_do_not_abort_the_interpreter(what: str, count: int, expected: int) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONFAULTHANDLER": "1"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, str(DRIVER), what, str(count)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    tail = done.stderr[-3000:]
    assert "bool_dealloc" not in done.stderr, tail
    assert done.returncode == 0, f"exit {done.returncode}\n{tail}"
    assert done.stdout.strip().splitlines()[-1:] == [f"done {what} {expected}"], done.stdout + tail
