"""Convergence under faults (issue 5), at the issue's size: 200 sessions across 5 trainers.

Runs bench/convergence.py as a process against a PostgreSQL database of its own
(this test database's name + "_convergence", dropped afterwards), a private
redis-server on a free port (it is restarted mid-run), the Zoom simulator and
real Celery workers, one of which is SIGKILLed. The script does the checks
against the simulator's admin API and writes its counts as JSON; this test
asserts them. Needs `redis-server` on the PATH and PostgreSQL.
"""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

from bench.harness import ROOT, free_port

pytestmark = [pytest.mark.postgres, pytest.mark.worker]


def run_database_url() -> str:
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}_convergence"


@pytest.mark.timeout(600)
def test_meetings_converge_after_faults_a_killed_worker_and_a_redis_restart(tmp_path):
    result_path = tmp_path / "convergence.json"
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    command = [
        sys.executable, "bench/convergence.py",
        "--sessions", "200", "--trainers", "5", "--workers", "3",
        "--database-url", run_database_url(),
        "--redis-port", str(free_port()),
        "--settle-timeout", "180",
        "--workdir", str(tmp_path / "run"),
        "--json", str(result_path),
    ]
    finished = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=540)
    output = finished.stdout + finished.stderr
    assert result_path.exists(), f"The convergence run did not finish:\n{output[-5000:]}"
    result = json.loads(result_path.read_text())
    print(finished.stdout)

    # The faults, the crash and the restart really happened.
    assert result["faults_injected"] >= 50, output
    assert result["workers_killed"] == 1 and result["redis_restarts"] == 1
    assert result["sessions_changed"] >= 200 // 3
    assert all(result["changes"][kind] > 0 for kind in ("cancel", "move", "edit", "remove")), result["changes"]
    # And the system still converged.
    assert result["settled"], output[-5000:]
    assert result["sessions_found"] == result["sessions_expected"] == 200 - result["changes"]["remove"]
    assert result["bookings_found"] == result["bookings_expected"] > 0
    assert result["meetings_found"] == result["meetings_expected"] == result["zoom_meetings_alive"] > 0
    for problem in ("duplicates", "orphans", "missing", "not_available", "wrong_time", "wrong_zone", "wrong_topic",
                    "wrong_host", "failed"):
        assert result[problem] == [], f"{problem}: {result[problem]}\n{output[-3000:]}"
    assert result["still_pending"] == 0
    assert result["converged"] is True
    assert finished.returncode == 0, output[-5000:]
