"""System checks of the site's keys (`manage.py check`, `check --deploy`).

With DEBUG off the settings already refuse to load on a development key
(lms/keys.py); these checks say the same for a site run with DEBUG on, so that
`check --deploy` names every key still to set.
"""

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from lms.keys import (
    DEVELOPMENT_FIELD_ENCRYPTION_KEY,
    GENERATE_FIELD_ENCRYPTION_KEY,
    secret_key_problem,
)


@register(Tags.security, deploy=True)
def check_secret_key(app_configs, **kwargs):
    problem = secret_key_problem(settings.SECRET_KEY)
    return [Warning(problem, id="lms.W001")] if problem else []


@register(Tags.security, deploy=True)
def check_field_encryption_keys_are_not_the_development_key(app_configs, **kwargs):
    if DEVELOPMENT_FIELD_ENCRYPTION_KEY not in settings.FIELD_ENCRYPTION_KEYS:
        return []
    return [
        Warning(
            "FIELD_ENCRYPTION_KEYS holds the public development key from the repository: anyone can decrypt "
            "the client secrets and OAuth tokens it protects.",
            hint=(
                f"Generate a key with: {GENERATE_FIELD_ENCRYPTION_KEY}. Put it first in FIELD_ENCRYPTION_KEYS, "
                "run `python manage.py rotate_encryption_keys`, then remove the development key."
            ),
            id="lms.W002",
        )
    ]


@register(Tags.security)
def check_field_encryption_keys_are_fernet_keys(app_configs, **kwargs):
    keys = settings.FIELD_ENCRYPTION_KEYS
    hint = f"Generate a key with: {GENERATE_FIELD_ENCRYPTION_KEY}"
    if not keys:
        return [Error("FIELD_ENCRYPTION_KEYS is empty.", hint=hint, id="lms.E001")]
    errors = []
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            # The key itself is never repeated in the message.
            errors.append(
                Error(
                    f"FIELD_ENCRYPTION_KEYS entry {position} is not a Fernet key (32 url-safe base64-encoded bytes).",
                    hint=hint,
                    id="lms.E002",
                )
            )
    return errors
