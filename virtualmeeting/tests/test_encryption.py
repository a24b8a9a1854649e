"""Secrets at rest: the raw columns never hold plaintext; keys rotate."""

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from virtualmeeting.models import OAuthState, ProviderConfig, ProviderConnection, VirtualMeeting
from virtualmeeting.tests.helpers import put, run

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


def raw(model, column, pk):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {model._meta.db_table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_raw_columns_never_hold_plaintext(owner):
    config = ProviderConfig.objects.get(provider="test")
    config.client_secret = "client-secret-plain"
    config.webhook_secret = "webhook-secret-plain"
    config.save()
    conn = ProviderConnection.objects.get(user=owner)
    state = OAuthState.objects.create(
        state="s1", user=owner, provider="test", code_verifier="verifier-plain", redirect_uri="http://testserver/cb"
    )
    meeting = put(owner)
    run(meeting)
    meeting = VirtualMeeting.objects.get(pk=meeting.pk)
    assert meeting.password

    stored = {
        "client_secret": (raw(ProviderConfig, "client_secret", config.pk), "client-secret-plain"),
        "webhook_secret": (raw(ProviderConfig, "webhook_secret", config.pk), "webhook-secret-plain"),
        "access_token": (raw(ProviderConnection, "access_token", conn.pk), conn.access_token),
        "refresh_token": (raw(ProviderConnection, "refresh_token", conn.pk), conn.refresh_token),
        "code_verifier": (raw(OAuthState, "code_verifier", state.pk), "verifier-plain"),
        "password": (raw(VirtualMeeting, "password", meeting.pk), meeting.password),
    }
    for name, (column, plaintext) in stored.items():
        assert plaintext, name
        assert plaintext not in column, name
        assert column.startswith("gAAAA"), name  # a Fernet token
    # And Python code sees the plaintext.
    assert ProviderConfig.objects.get(pk=config.pk).client_secret == "client-secret-plain"
    assert OAuthState.objects.get(pk=state.pk).code_verifier == "verifier-plain"


def test_key_rotation(owner, settings):
    original = list(settings.FIELD_ENCRYPTION_KEYS)  # the owner's tokens were written with it
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY, *original]
    config = ProviderConfig.objects.get(provider="test")
    config.client_secret = "rotate-me"
    config.save()
    before = raw(ProviderConfig, "client_secret", config.pk)

    # A new key first: old values still decrypt.
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY, *original]
    assert ProviderConfig.objects.get(pk=config.pk).client_secret == "rotate-me"

    call_command("rotate_encryption_keys", stdout=open("/dev/null", "w"))
    after = raw(ProviderConfig, "client_secret", config.pk)
    assert after != before
    assert "rotate-me" not in after

    # After rotation only the new key is needed...
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    assert ProviderConfig.objects.get(pk=config.pk).client_secret == "rotate-me"
    assert ProviderConnection.objects.get(user=owner).access_token == "access-tom"
    # ... and the old key alone no longer reads it.
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    with pytest.raises(ImproperlyConfigured, match="cannot be decrypted"):
        ProviderConfig.objects.get(pk=config.pk)


def test_rotation_stops_on_a_value_no_key_decrypts(db, settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    config = ProviderConfig.objects.get(provider="test")
    config.client_secret = "lost"
    config.save()
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    with pytest.raises(CommandError, match="cannot be decrypted with any key") as excinfo:
        call_command("rotate_encryption_keys")
    assert "lost" not in str(excinfo.value)


def test_rotation_command_documents_the_procedure():
    from virtualmeeting.management.commands.rotate_encryption_keys import Command

    assert "put it FIRST in FIELD_ENCRYPTION_KEYS" in Command.help
