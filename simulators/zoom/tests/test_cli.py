import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[3]


def _run(*args, timeout=30):
    return subprocess.run(
        [sys.executable, "-m", "simulators.zoom", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_help_lists_the_seeded_logins():
    result = _run("--help")
    assert result.returncode == 0
    for login in (
        "pro@zoomsim.test",
        "basic@zoomsim.test",
        "other@otheraccount.test",
        "zoom-password",
        "zoomsim-client-id",
    ):
        assert login in result.stdout


@pytest.fixture
def served(tmp_path):
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "simulators.zoom",
            "--port",
            str(port),
            "--db",
            str(tmp_path / "sim.sqlite3"),
            "--seed",
            "--redirect-uri",
            "http://localhost:8123/cb",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            requests.get(f"{url}/_sim/state", timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.1)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def test_server_process_and_ctl_commands(served):
    def ctl(*args):
        result = _run("ctl", "--url", served, *args)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    apps = {app["client_id"]: app for app in ctl("apps")}
    assert apps["zoomsim-client-id"]["redirect_uri"] == "http://localhost:8123/cb"
    before = ctl("clock")["unix"]
    after = ctl("clock", "--advance", "86400")["unix"]
    assert after - before >= 86400
    assert ctl("quota", "pro@zoomsim.test", "--exhaust")["used"] == 100
    assert ctl("faults", "next", "--route", "meetings.create", "--fault", "drop")["queued"] == {
        "meetings.create": ["drop"]
    }
    assert ctl("faults", "set", "--route", "*", "--error-500", "0.2", "--seed", "3")["rates"] == {
        "*": {"error_500": 0.2}
    }
    assert ctl("limits", "--daily-variant", "bare")["daily_variant"] == "bare"
    assert ctl("limits", "--participants-delay", "0")["participants_delay_seconds"] == 0
    assert ctl("webhooks", "--off")["enabled"] is False
    assert ctl("meetings") == []
    assert ctl("reset") == {"status": "reset"}
    assert ctl("faults", "show")["rates"] == {}


def test_ctl_reports_errors(served):
    result = _run("ctl", "--url", served, "quota", "nobody@nowhere.test")
    assert result.returncode == 1
    assert "no user nobody@nowhere.test" in result.stderr
