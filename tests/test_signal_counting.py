"""Two Ctrl+C that reach the CLI while its main thread is inside one long C call (a TensorFlow
step) must still abort: CPython runs the Python-level handler once for both."""

import subprocess
import sys
import textwrap

from tuner_app.exit_codes import ExitCode

SCRIPT = textwrap.dedent(
    """
    import os, signal, sys, threading, time
    import hashlib
    from tuner_app.search import _stop_on_signals

    class Engine:
        def cancel(self):
            print("cancelled", flush=True)

    signals = _stop_on_signals()
    signals.attach(Engine())
    inside = threading.Event()

    def send_two():
        inside.wait()
        time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=send_two).start()
    inside.set()
    began = time.monotonic()
    hashlib.pbkdf2_hmac('sha256', b'x', b'y', 5_000_000)  # one C call, no bytecode runs inside it
    print(f"returned after {time.monotonic() - began:.2f} s", flush=True)
    """
)


def test_two_signals_during_one_long_c_call_abort():
    ran = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert ran.returncode == ExitCode.INTERRUPTED, ran.stdout + ran.stderr
    assert "cancelled" not in ran.stdout, "the first signal was handled alone: the second came later"
    assert "Aborted" in ran.stderr and "Traceback" not in ran.stderr


def test_another_signal_handled_in_python_does_not_count_as_a_second_ctrl_c():
    """A library's Python-level handler (here SIGUSR1) writes to the same wakeup pipe."""
    script = SCRIPT.replace(
        "os.kill(os.getpid(), signal.SIGINT)", "os.kill(os.getpid(), signal.SIGUSR1)"
    ).replace(
        "inside = threading.Event()",
        "inside = threading.Event()\nsignal.signal(signal.SIGUSR1, lambda *a: None)",
    )
    ran = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "cancelled" in ran.stdout and "Aborted" not in ran.stderr, ran.stdout + ran.stderr
