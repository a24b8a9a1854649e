"""Settings come from the environment; production settings pass Django's deployment checks."""

import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "x7!k2-production-secret-for-the-check-only-9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0",
    "ALLOWED_HOSTS": "lms.example.com",
    "SITE_URL": "https://lms.example.com",
    "SECURE_SSL_REDIRECT": "1",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
    "SECURE_HSTS_PRELOAD": "1",
    "FIELD_ENCRYPTION_KEYS": "Xk4zX1q7b0b6c8V7y0jv1l5s9Q2mN3pR4tU5wY6zA8c=",
}


def run_manage(*args, env):
    # The test run's own switches (e.g. DJANGO_ALLOW_ASYNC_UNSAFE for browser tests) are not production's.
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV and k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_passes_without_warnings_with_the_documented_production_variables(tmp_path):
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING", env={**PRODUCTION_ENV, "LMS_VAR_DIR": str(tmp_path)}
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_warns_when_debug_is_on(tmp_path):
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={**PRODUCTION_ENV, "DEBUG": "1", "LMS_VAR_DIR": str(tmp_path)},
    )
    assert result.returncode != 0
    assert "DEBUG" in result.stdout + result.stderr


def test_database_and_broker_come_from_the_environment(tmp_path):
    code = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'lms.settings'); django.setup(); "
        "from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.DATABASES['default']['NAME'], s.CELERY_BROKER_URL)"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    default = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env={**env, "LMS_VAR_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert default.stdout.split() == ["django.db.backends.sqlite3", str(tmp_path / "lms.sqlite3"), "filesystem://"]
    configured = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env={
            **env,
            "LMS_VAR_DIR": str(tmp_path),
            "DATABASE_URL": "postgres://u@db.example:5432/lms",
            "CELERY_BROKER_URL": "redis://broker.example:6379/0",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert configured.stdout.split() == ["django.db.backends.postgresql", "lms", "redis://broker.example:6379/0"]
