"""User errors: exit 2 and one line naming the problem and the fix, never a traceback; signals: 130.

Each case stands for a class: every path, number and file a user names. The CLI cases run the real
command in a subprocess; the fast ones run it with a TensorFlow that cannot be imported, which
proves they are refused before the seconds TensorFlow takes to load (and before anything is written).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tuner_app.config import ConfigError, SearchConfig
from tuner_app.distributed import DistributedError, check_port_free, wait_for_chief

REPO = Path(__file__).resolve().parent.parent
NOBODY = 65534


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120, user: int | None = None
) -> subprocess.CompletedProcess:
    prefix = []
    if user is not None:
        prefix = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups"]
    return subprocess.run(
        [*prefix, sys.executable, "-m", "tuner_app.search", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})},
    )


@pytest.fixture(scope="session")
def without_tensorflow() -> Iterator[dict[str, str]]:
    """An environment in which importing TensorFlow, Keras or KerasTuner fails loudly (in a folder
    every user can read: some tests run the command as another user)."""
    shadow = Path(tempfile.mkdtemp(prefix="no_tensorflow_"))
    shadow.chmod(0o755)
    for name in ("tensorflow", "keras", "keras_tuner"):
        (shadow / name).mkdir(mode=0o755)
        (shadow / name / "__init__.py").write_text(
            f"raise ImportError('{name} imported: too slow a refusal')\n"
        )
    yield {"PYTHONPATH": os.pathsep.join([str(shadow), str(REPO)])}
    shutil.rmtree(shadow)


def assert_usage_error(result: subprocess.CompletedProcess, *needles: str) -> str:
    """Exit 2, exactly one `error:` line that names the problem, no traceback; returns that line."""
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, result.stderr
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


def test_project_dir_that_is_a_file(tmp_path, without_tensorflow):
    afile = tmp_path / "notes.txt"
    afile.write_text("x")
    result = run_cli("--project-dir", str(afile), env=without_tensorflow)
    assert_usage_error(result, str(afile), "is a file, not a folder", "--project-dir")


def test_project_dir_under_a_file(tmp_path, without_tensorflow):
    afile = tmp_path / "notes.txt"
    afile.write_text("x")
    result = run_cli("--project-dir", str(afile / "runs" / "a"), env=without_tensorflow)
    assert_usage_error(result, f"lies under {afile}, which is a file")
    assert afile.read_text() == "x"


@pytest.fixture
def read_only_mount(tmp_path):
    mount_point = tmp_path / "ro"
    mount_point.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(mount_point)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a read-only tmpfs here: {done.stderr.decode().strip() or 'not root'}")
    yield mount_point
    subprocess.run(["umount", str(mount_point)], check=False)


@pytest.mark.parametrize("inside", ["", "new/project"])
def test_project_dir_on_a_read_only_mount(read_only_mount, without_tensorflow, inside):
    project = read_only_mount / inside if inside else read_only_mount
    for resume in ([], ["--resume"]):
        result = run_cli("--project-dir", str(project), *resume, env=without_tensorflow)
        assert_usage_error(result, str(project), "read-only file system")


def test_read_only_mount_met_only_when_writing_is_a_usage_error(tmp_path, small_npz):
    """What validation cannot see (here: a mount made after it, as happens on network file systems)
    the engine reports the same way when it creates the folder."""
    from tuner_app.engine import ProjectDirError, SearchEngine

    mount_point = tmp_path / "later_ro"
    mount_point.mkdir()
    engine = SearchEngine(
        SearchConfig(max_trials=1, epochs=1, subset=300, data_path=small_npz, project_dir=mount_point / "p")
    )
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(mount_point)])
    if done.returncode != 0:
        pytest.skip("cannot mount a read-only tmpfs here")
    try:
        with pytest.raises(ProjectDirError, match="read-only file system"):
            engine.run()
    finally:
        subprocess.run(["umount", str(mount_point)], check=False)


@pytest.fixture
def other_user() -> int | None:
    """Run a command as `nobody` (root passes permission bits, so a chmod test needs another user)."""
    if os.geteuid() != 0:
        return None  # already an ordinary user: run directly
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: cannot test permissions as an ordinary user")
    probe = subprocess.run(  # the checkout or venv may sit under a folder only root can enter
        ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", sys.executable, "-c",
         "import tuner_app.search"],
        capture_output=True, text=True, cwd=REPO, timeout=60,
    )  # fmt: skip
    if probe.returncode != 0:
        pytest.skip(f"user nobody cannot run this checkout: {probe.stderr.strip()[-200:]}")
    return NOBODY


@pytest.fixture
def open_tmp():
    """A folder every user can traverse (pytest's own tmp root is private to its user)."""
    folder = Path(tempfile.mkdtemp(prefix="user_errors_"))
    folder.chmod(0o755)
    yield folder
    for path in folder.rglob("*"):
        if path.is_dir():
            path.chmod(0o755)
    shutil.rmtree(folder)


def test_project_dir_without_write_permission(open_tmp, other_user, without_tensorflow):
    locked = open_tmp / "locked"
    locked.mkdir()
    if other_user is not None:
        os.chown(locked, other_user, other_user)
    locked.chmod(0o500)
    for project in (locked, locked / "new"):
        result = run_cli("--project-dir", str(project), env=without_tensorflow, user=other_user)
        assert_usage_error(result, "cannot write in", str(locked), "--project-dir")
    assert list(locked.iterdir()) == []


def test_unreadable_data_file(open_tmp, other_user, without_tensorflow, small_npz):
    data = open_tmp / "mnist.npz"
    shutil.copy(small_npz, data)
    data.chmod(0o000)
    project = open_tmp / "p"
    result = run_cli(
        "--data", str(data), "--project-dir", str(project), env=without_tensorflow, user=other_user
    )
    assert_usage_error(result, str(data), "cannot be read", "chmod")
    assert not project.exists()


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--seed", "-1"], ["--seed", "0 to 4294967295", "-1"]),
        (["--seed", "99999999999"], ["--seed", "0 to 4294967295"]),
        (["--seed", "1.5"], ["--seed", "1.5"]),
        (["--time-limit", "inf"], ["--time-limit", "'inf'", "finite"]),
        (["--time-limit", "nan"], ["--time-limit", "'nan'"]),
        (["--time-limit", "1e999"], ["--time-limit", "finite"]),
        (["--time-limit", "1e400h"], ["--time-limit", "1e400h"]),
        (["--target", "nan"], ["--target"]),
        (["--target", "inf"], ["--target"]),
        (["--worker-timeout", "nan"], ["--worker-timeout"]),
        (["--worker-timeout", "inf"], ["--worker-timeout"]),
        (["--max-retries", "-1"], ["--max-retries"]),
        (["--role", "chief", "--oracle", "127.0.0.1:99999"], ["HOST:PORT"]),
        (["--data", "/dev/null"], ["/dev/null", "not a regular file", ".npz"]),
    ],
)
def test_bad_numbers_and_files_exit_2_before_tensorflow(tmp_path, without_tensorflow, args, needles):
    project = tmp_path / "p"
    result = run_cli(*args, "--project-dir", str(project), env=without_tensorflow)
    assert_usage_error(result, *needles)
    assert not project.exists()


def test_data_that_is_a_folder(tmp_path, without_tensorflow, small_npz):
    folder = tmp_path / "datasets"
    folder.mkdir()
    shutil.copy(small_npz, folder / "mnist.npz")
    result = run_cli("--data", str(folder), "--project-dir", str(tmp_path / "p"), env=without_tensorflow)
    line = assert_usage_error(result, str(folder), "is a folder", ".npz file itself", "mnist.npz")
    assert "does not exist" not in line


def test_grid_over_a_continuous_space_is_refused(tmp_path):
    project = tmp_path / "p"
    result = run_cli("--tuner", "grid", "--family", "dense", "--project-dir", str(project))
    assert_usage_error(result, "--tuner grid", "continuous", "--space seed")
    assert not project.exists(), "refused before anything is written"


def test_grid_check_finds_continuous_hyperparameters_of_every_family():
    from search_spaces import FAMILIES, make_hypermodel
    from tuner_app.input_checks import continuous_hyperparameter

    for family in FAMILIES:
        assert continuous_hyperparameter(make_hypermodel(family, "full")) is not None, family
        assert continuous_hyperparameter(make_hypermodel(family, "notebook")) is None, family


def test_grid_check_follows_conditional_scopes():
    import keras
    import keras_tuner as kt

    from tuner_app.input_checks import continuous_hyperparameter

    class Branchy(kt.HyperModel):
        def build(self, hp):
            kind = hp.Choice("kind", ["a", "b"])
            with hp.conditional_scope("kind", ["b"]):
                if kind == "b":  # declared only once the branch is taken
                    hp.Float("rate", 0.1, 0.9)
            return keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])

    class Finite(kt.HyperModel):
        def build(self, hp):
            hp.Float("rate", 0.1, 0.9, step=0.2)
            hp.Int("units", 1, 4)
            return keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])

    assert continuous_hyperparameter(Branchy()) == "rate"
    assert continuous_hyperparameter(Finite()) is None


def test_sigterm_while_starting_stops_at_once_with_130(tmp_path, small_npz):
    for signum in (signal.SIGTERM, signal.SIGINT):
        project = tmp_path / f"p{signum}"
        proc = subprocess.Popen(
            [sys.executable, "-m", "tuner_app.search", "--max-trials", "1", "--epochs", "1",
             "--subset", "300", "--data", small_npz, "--project-dir", str(project)],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        time.sleep(0.7)  # TensorFlow is still importing
        sent = time.monotonic()
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=60)
        took = time.monotonic() - sent
        assert proc.returncode == 130, (signum, proc.returncode, err[-2000:])
        assert took < 15, f"took {took:.1f} s to stop"
        assert "Traceback" not in err and "Stopped before the search started" in err
        assert "Trial" not in out
        assert not (project / "results.jsonl").exists()


def test_wait_for_chief_says_it_is_waiting():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    said: list[str] = []
    start = time.monotonic()
    with pytest.raises(DistributedError, match=f"No chief answered at 127.0.0.1:{port} within 3 s"):
        wait_for_chief(f"127.0.0.1:{port}", 3.0, report_every_s=1.0, say=said.append, poll_s=0.1)
    assert 3.0 <= time.monotonic() - start < 6
    assert 2 <= len(said) <= 4, said
    assert said[0] == f"waiting for the chief at 127.0.0.1:{port} (1 s so far; gives up after 3 s)"


def test_wait_for_chief_returns_when_the_chief_answers_or_on_stop():
    with socket.socket() as chief:
        chief.bind(("127.0.0.1", 0))
        chief.listen()
        address = f"127.0.0.1:{chief.getsockname()[1]}"
        assert wait_for_chief(address, 5.0, say=pytest.fail) is True
    start = time.monotonic()
    assert wait_for_chief(address, 60.0, should_stop=lambda: time.monotonic() - start > 0.5) is False
    assert time.monotonic() - start < 3


def test_busy_port_is_refused_and_a_closed_one_is_free():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        address = f"127.0.0.1:{busy.getsockname()[1]}"
        with pytest.raises(DistributedError, match="in use"):
            check_port_free(address)
    check_port_free(address)  # closed: free again


# -- resuming: a real project (a short real search) -------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize(
    ("state_file", "content"),
    [
        ("oracle.json", "{}"),
        ("oracle.json", "[]"),
        ("oracle.json", "null"),
        ("oracle.json", '{"ongoing_trials": 5}'),
        ("trial_0/trial.json", "[]"),
    ],
)
def test_resume_with_wrongly_shaped_keras_tuner_state(finished_project, project_copy, state_file, content):
    project = project_copy(finished_project)
    (project / "keras_tuner" / state_file).write_text(content)
    log_before = (project / "results.jsonl").read_bytes()
    result = run_cli("--resume", "--project-dir", str(project), "--max-trials", "2")
    assert_usage_error(result, "Cannot resume", "damaged", state_file.split("/")[-1], "--project-dir")
    assert (project / "results.jsonl").read_bytes() == log_before


@pytest.mark.slow
def test_chief_resume_on_a_busy_port_exits_2_and_touches_nothing(finished_project, project_copy):
    project = project_copy(finished_project)
    before = {p: p.read_bytes() for p in project.rglob("*") if p.is_file()}
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli(
            "--role", "chief", "--oracle", f"127.0.0.1:{port}", "--resume", "--project-dir", str(project)
        )
    assert_usage_error(result, f"127.0.0.1:{port}", "in use", "--oracle")
    after = {p: p.read_bytes() for p in project.rglob("*") if p.is_file()}
    assert after == before, "nothing in the project was written"
    assert json.loads((project / "summary.json").read_text())["state"] == "finished"


@pytest.mark.slow
def test_worker_stopped_while_waiting_for_its_chief_exits_130(tmp_path, small_npz):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "tuner_app.search", "--role", "worker", "--oracle", f"127.0.0.1:{port}",
         "--worker-id", "w1", "--epochs", "1", "--subset", "300", "--data", small_npz,
         "--project-dir", str(tmp_path / "shared")],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    time.sleep(15)  # past TensorFlow's import and the data: waiting for the chief
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err[-2000:]
    assert "Traceback" not in err
    assert "while waiting for the chief" in out


def test_project_dir_on_read_only_mount_is_refused_by_validation(read_only_mount):
    for project in (read_only_mount, read_only_mount / "a" / "b"):
        with pytest.raises(ConfigError, match="read-only file system"):
            SearchConfig(project_dir=project).validated()
