"""Settings come from the environment; production settings pass Django's deployment checks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

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


# The test run's own switches are not production's: its settings module (lms.settings_test, which
# makes keys), DJANGO_ALLOW_ASYNC_UNSAFE for browser tests, and every variable production sets.
TEST_RUN_ONLY = {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE", *PRODUCTION_ENV}


def run_manage(*args, env):
    clean = {k: v for k, v in os.environ.items() if k not in TEST_RUN_ONLY}
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


# --- Production refuses the published development keys ------------------------------------------------
DEV_SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"
DEV_FERNET_KEY = "ZGV2ZWxvcG1lbnQta2V5LW5vdC1mb3ItcHJvZC11c2U="
START_WEB = ("-c", "import lms.wsgi")  # what gunicorn imports
START_WORKER = ("-c", "from lms.celery import app; app.loader.import_default_modules()")  # what celery -A lms does


def run_python(*args, env):
    clean = {k: v for k, v in os.environ.items() if k not in TEST_RUN_ONLY}
    return subprocess.run(
        [sys.executable, *args], cwd=BASE_DIR, env={**clean, **env}, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("start", [("manage.py", "check"), START_WEB, START_WORKER], ids=["manage", "web", "worker"])
def test_with_debug_off_the_development_secret_key_refuses_to_start(start, tmp_path):
    result = run_python(*start, env={**PRODUCTION_ENV, "SECRET_KEY": DEV_SECRET_KEY, "LMS_VAR_DIR": str(tmp_path)})

    assert result.returncode != 0
    assert "SECRET_KEY is the public development key" in result.stderr
    assert "get_random_secret_key()" in result.stderr  # how to make one
    assert "FIELD_ENCRYPTION_KEYS" not in result.stderr  # that one is fine


@pytest.mark.parametrize("start", [("manage.py", "check"), START_WEB, START_WORKER], ids=["manage", "web", "worker"])
def test_with_debug_off_the_development_encryption_key_refuses_to_start(start, tmp_path):
    env = {**PRODUCTION_ENV, "FIELD_ENCRYPTION_KEYS": DEV_FERNET_KEY, "LMS_VAR_DIR": str(tmp_path)}
    result = run_python(*start, env=env)

    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS starts with the public development key" in result.stderr
    assert "Fernet.generate_key()" in result.stderr
    assert "SECRET_KEY is" not in result.stderr


def test_with_debug_off_and_no_keys_set_it_refuses_to_start_naming_both(tmp_path):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k not in ("SECRET_KEY", "FIELD_ENCRYPTION_KEYS")}
    result = run_manage("check", env={**env, "LMS_VAR_DIR": str(tmp_path)})

    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
    assert "FIELD_ENCRYPTION_KEYS is not set" in result.stderr
    assert "For development, set DEBUG=1" in result.stderr


def test_the_development_encryption_key_may_stay_behind_a_new_one_while_rotating_but_check_deploy_says_so(tmp_path):
    keys = f"{PRODUCTION_ENV['FIELD_ENCRYPTION_KEYS']},{DEV_FERNET_KEY}"
    env = {**PRODUCTION_ENV, "FIELD_ENCRYPTION_KEYS": keys, "LMS_VAR_DIR": str(tmp_path)}

    assert run_manage("check", env=env).returncode == 0  # rotate_encryption_keys can run
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0
    assert "lms.W002" in result.stderr + result.stdout
    assert "rotate_encryption_keys" in result.stderr + result.stdout


def test_check_deploy_reports_both_development_keys_when_debug_is_on(tmp_path):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k not in ("SECRET_KEY", "FIELD_ENCRYPTION_KEYS")}
    result = run_manage("check", "--deploy", env={**env, "DEBUG": "1", "LMS_VAR_DIR": str(tmp_path)})

    output = result.stdout + result.stderr
    assert "lms.W001" in output and "SECRET_KEY is the public development key" in output
    assert "lms.W002" in output and "FIELD_ENCRYPTION_KEYS holds the public development key" in output
    # Development (DEBUG=1) itself starts fine on them: plain `check` passes.
    assert run_manage("check", env={**env, "DEBUG": "1", "LMS_VAR_DIR": str(tmp_path)}).returncode == 0


def test_a_field_encryption_key_that_is_not_a_fernet_key_is_an_error_that_does_not_repeat_it(settings):
    from lms.checks import check_field_encryption_keys_are_fernet_keys

    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), "not-a-key-at-all"]
    errors = check_field_encryption_keys_are_fernet_keys(None)

    assert [e.id for e in errors] == ["lms.E002"]
    assert "entry 2" in errors[0].msg and "not-a-key-at-all" not in errors[0].msg
    settings.FIELD_ENCRYPTION_KEYS = []
    assert [e.id for e in check_field_encryption_keys_are_fernet_keys(None)] == ["lms.E001"]


def test_the_test_run_does_not_use_the_development_keys(settings):
    assert settings.SECRET_KEY != DEV_SECRET_KEY
    assert DEV_FERNET_KEY not in settings.FIELD_ENCRYPTION_KEYS
