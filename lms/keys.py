"""The published development keys, and what a production site must set instead.

Both development keys are in this repository, so anyone can sign sessions or
decrypt stored secrets with them. With DEBUG on (development) they are the
defaults. With DEBUG off the settings refuse to load on them, so no web process,
Celery worker, beat or management command starts; `check --deploy` reports the
same problems (lms.checks) for a site that runs with DEBUG on.

This module imports nothing from Django's configured parts: settings.py uses it
while it loads.
"""

DEVELOPMENT_SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"
DEVELOPMENT_FIELD_ENCRYPTION_KEY = "ZGV2ZWxvcG1lbnQta2V5LW5vdC1mb3ItcHJvZC11c2U="

GENERATE_SECRET_KEY = (
    'python -c "from django.core.management.utils import get_random_secret_key; print(get_random_secret_key())"'
)
GENERATE_FIELD_ENCRYPTION_KEY = (
    'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)


def secret_key_problem(secret_key: str) -> str:
    """What is wrong with SECRET_KEY for production ('' when nothing is)."""
    if not secret_key:
        reason = "SECRET_KEY is not set."
    elif secret_key == DEVELOPMENT_SECRET_KEY:
        reason = "SECRET_KEY is the public development key from the repository."
    else:
        return ""
    return (
        f"{reason} Set SECRET_KEY to a long random value kept secret, for example the output of: {GENERATE_SECRET_KEY}"
    )


def field_encryption_keys_problem(keys: list[str]) -> str:
    """What is wrong with FIELD_ENCRYPTION_KEYS for production ('' when nothing is).

    The development key may stay after the first place while rows written with it
    are re-encrypted (`manage.py rotate_encryption_keys`); it must never encrypt.
    """
    if not keys:
        reason = "FIELD_ENCRYPTION_KEYS is not set."
    elif keys[0] == DEVELOPMENT_FIELD_ENCRYPTION_KEY:
        reason = "FIELD_ENCRYPTION_KEYS starts with the public development key from the repository."
    else:
        return ""
    return (
        f"{reason} Set FIELD_ENCRYPTION_KEYS to a Fernet key of this site's own, for example the output of: "
        f"{GENERATE_FIELD_ENCRYPTION_KEY} (if secrets were already stored with the development key, put the new "
        "key first and the development key after it, run `python manage.py rotate_encryption_keys`, then remove "
        "the development key)."
    )


def production_key_problems(*, secret_key: str, field_encryption_keys: list[str]) -> list[str]:
    return [p for p in (secret_key_problem(secret_key), field_encryption_keys_problem(field_encryption_keys)) if p]
