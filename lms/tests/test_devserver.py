"""`make run`'s supervisor (lms.devserver): SIGTERM stops everything it started, as Ctrl-C does,
and a second copy runs beside the first on the ports SITE_URL, ZOOMSIM_PORT and MSSIM_PORT give it.

A real devserver starts in a subprocess on free ports with its own LMS_VAR_DIR
(SQLite, filesystem broker, the simulator's database), so it touches nothing of
the test run or of another copy.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
# The test run's own variables are not a developer's: make run uses the embedded defaults.
NOT_INHERITED = {
    "DJANGO_SETTINGS_MODULE",
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "REDIS_URL",
    "ZOOM_CLIENT_ID",
    "ZOOM_OAUTH_BASE_URL",
    "ZOOM_API_BASE_URL",
    "SECRET_KEY",
    "FIELD_ENCRYPTION_KEYS",
    "LMS_REQUIRE_SERVICES",
    "TEAMS_CLIENT_ID",
    "TEAMS_AUTH_BASE_URL",
    "GRAPH_API_BASE_URL",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _descendants(pid: int) -> set[int]:
    """Every live process below `pid` (Linux /proc), children of children included."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if fields[0] != "Z":
                parents[int(entry.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory):
    """A migrated LMS_VAR_DIR of its own (SQLite database, broker, simulator files)."""
    path = tmp_path_factory.mktemp("var")
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=BASE_DIR,
        env={**env, "DEBUG": "1", "LMS_VAR_DIR": str(path)},
        check=True,
        timeout=300,
    )
    return path


@pytest.fixture
def devserver_env(var_dir):
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    web_port, sim_port, mssim_port = _free_port(), _free_port(), _free_port()
    env.update(
        DEBUG="1",
        SITE_URL=f"http://localhost:{web_port}",
        ZOOMSIM_PORT=str(sim_port),
        MSSIM_PORT=str(mssim_port),
        LMS_VAR_DIR=str(var_dir),
        PYTHONUNBUFFERED="1",
    )
    return env, web_port, sim_port, mssim_port


def _start(env, log):
    return subprocess.Popen(
        [sys.executable, "-m", "lms.devserver"], cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
    )


def _wait_for_banner(proc, log_path, seconds=120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if "LMS is running at" in log_path.read_text():
            return
        assert proc.poll() is None, log_path.read_text()
        time.sleep(0.3)
    raise AssertionError("the devserver did not start:\n" + log_path.read_text())


def test_sigterm_stops_the_web_server_the_worker_and_the_simulators(devserver_env, tmp_path):
    env, web_port, sim_port, mssim_port = devserver_env
    log_path = tmp_path / "devserver.log"
    with log_path.open("w") as log:
        proc = _start(env, log)
    children = set()
    try:
        _wait_for_banner(proc, log_path)
        children = _descendants(proc.pid)
        assert _listening(web_port) and _listening(sim_port) and _listening(mssim_port)
        assert len(children) >= 4  # runserver, the Celery worker (and its pool), the two simulators
        log = log_path.read_text()
        assert "trainer@contoso.test" in log  # the Microsoft sign-in accounts in the banner
        assert f"Microsoft Teams uses the Microsoft simulator at http://127.0.0.1:{mssim_port}" in log  # configured

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert [pid for pid in children if _alive(pid)] == [], log_path.read_text()
        assert not _listening(web_port) and not _listening(sim_port) and not _listening(mssim_port)
    finally:
        # Whatever a failing run left behind, by id: the devserver and the process groups it made.
        for pid in {proc.pid} | children:
            for kill in (os.killpg, os.kill):
                try:
                    kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        proc.wait(timeout=10)


@pytest.mark.parametrize("which, variable", [(2, "ZOOMSIM_PORT"), (3, "MSSIM_PORT")])
def test_a_second_copy_on_a_taken_port_says_which_variable_to_set_and_starts_nothing(devserver_env, which, variable):
    env, web_port = devserver_env[0], devserver_env[1]
    sim_port = devserver_env[which]
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", sim_port))
        taken.listen()
        result = subprocess.run(
            [sys.executable, "-m", "lms.devserver"],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert f"Port {sim_port} is in use" in result.stderr and variable in result.stderr
    assert not _listening(web_port)
