"""bench/registrants.py at a tiny size (40 people, 12 cancelled): the benchmark runs end to end and checks what it says.

Runs the script as a process against a PostgreSQL database of its own (this test
database's name + "_registrants", dropped afterwards), a private redis-server on a
free port, the Zoom simulator and a real Celery worker. Needs `redis-server` on the
PATH and PostgreSQL.
"""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

from bench.harness import ROOT, free_port


def run_database_url() -> str:
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return (
        f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}_registrants"
    )


@pytest.mark.postgres
@pytest.mark.worker
@pytest.mark.timeout(180)
def test_the_registrants_benchmark_registers_and_cancels_each_person_once_within_zooms_limits(tmp_path):
    result_path = tmp_path / "registrants.json"
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    command = [
        sys.executable,
        "bench/registrants.py",
        "--people",
        "40",
        "--cancel",
        "12",
        "--workers",
        "1",
        "--database-url",
        run_database_url(),
        "--redis-port",
        str(free_port()),
        "--timeout",
        "60",
        "--workdir",
        str(tmp_path / "run"),
        "--json",
        str(result_path),
        "--no-docs",
    ]
    finished = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=170)
    output = finished.stdout + finished.stderr
    assert result_path.exists(), f"The benchmark did not finish:\n{output[-5000:]}"
    result = json.loads(result_path.read_text())

    register, cancel = result["phases"]
    # 40 people: two batch registrations (30 + 10) on the Heavy bucket, nothing else.
    assert [(e["route"], e["label"], e["status"], e["calls"]) for e in register["by_endpoint"]] == [
        ("registrants.batch", "Heavy", "200", 2)
    ]
    # 12 cancelled: one status change (Medium) of all 12.
    assert [(e["route"], e["label"], e["status"], e["calls"]) for e in cancel["by_endpoint"]] == [
        ("registrants.status", "Medium", "204", 1)
    ]
    at_zoom_registered, at_zoom_cancelled = result["checks"]
    assert at_zoom_registered["wanted_approved_with_their_link"] == at_zoom_registered["registrants_at_zoom"] == 40
    assert at_zoom_cancelled["by_status"] == {"approved": 28, "cancelled": 12}
    assert at_zoom_cancelled["cancelled_at_zoom"] == 12
    assert at_zoom_registered["duplicates"] == at_zoom_cancelled["duplicates"] == 0
    assert at_zoom_registered["emails_sent_by_zoom"] == at_zoom_cancelled["emails_sent_by_zoom"] == 0
    assert register["answers_429"] == cancel["answers_429"] == 0
    assert register["wall_s"] > 0 and register["per_label"]["Heavy"]["limit"] == 10
    assert result["verdict"] == dict.fromkeys(result["verdict"], True)
    assert finished.returncode == 0, output[-5000:]
