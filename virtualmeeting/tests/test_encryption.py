"""Secrets at rest: the raw columns never hold plaintext; keys rotate."""

import pytest
from cryptography.fernet import Fernet
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.core.serializers.base import DeserializationError
from django.db import connection
from django.test import override_settings

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


# --- Dumps carry ciphertext; loading one back restores working values ----------------------------------
def _secrets_everywhere(owner):
    config = ProviderConfig.objects.get(provider="test")
    config.client_secret = "client-secret-plain"
    config.webhook_secret = "webhook-secret-plain"
    config.save()
    OAuthState.objects.create(
        state="s1", user=owner, provider="test", code_verifier="verifier-plain", redirect_uri="http://testserver/cb"
    )
    meeting = put(owner)
    run(meeting)
    connection_row = ProviderConnection.objects.get(user=owner)
    return {
        (ProviderConfig, "client_secret"): "client-secret-plain",
        (ProviderConfig, "webhook_secret"): "webhook-secret-plain",
        (ProviderConnection, "access_token"): connection_row.access_token,
        (ProviderConnection, "refresh_token"): connection_row.refresh_token,
        (OAuthState, "code_verifier"): "verifier-plain",
        (VirtualMeeting, "password"): VirtualMeeting.objects.get(pk=meeting.pk).password,
    }


def _dump(tmp_path, *args) -> str:
    path = tmp_path / "dump.json"
    call_command("dumpdata", "virtualmeeting", *args, output=str(path), verbosity=0)
    return path.read_text()


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_dumpdata_writes_ciphertext_and_loaddata_restores_working_values(owner, tmp_path, fmt):
    secrets = _secrets_everywhere(owner)
    assert all(secrets.values())

    dump = _dump(tmp_path, "--format", fmt)
    for plaintext in secrets.values():
        assert plaintext not in dump
    assert dump.count("gAAAA") >= len(secrets)  # the tokens are there

    # A fresh database: the rows are gone, then the dump is loaded.
    for model in (VirtualMeeting, OAuthState, ProviderConnection, ProviderConfig):
        model.objects.all().delete()
    path = tmp_path / f"dump.{fmt}"
    path.write_text(dump)
    call_command("loaddata", str(path), verbosity=0)

    for (model, field), plaintext in secrets.items():
        row = model.objects.get()
        assert getattr(row, field) == plaintext, field  # decrypts to the original
        column = raw(model, model._meta.get_field(field).column, row.pk)
        assert plaintext not in column and column.startswith("gAAAA"), field  # stored encrypted, once

    # Rotation still works on loaded rows.
    settings_keys = [NEW_KEY, *django_settings.FIELD_ENCRYPTION_KEYS]
    with override_settings(FIELD_ENCRYPTION_KEYS=settings_keys):
        call_command("rotate_encryption_keys", stdout=open("/dev/null", "w"))
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY]):
        for (model, field), plaintext in secrets.items():
            assert getattr(model.objects.get(), field) == plaintext, field


def test_loading_a_dump_made_with_other_keys_is_refused_not_stored_garbled(owner, tmp_path, settings):
    _secrets_everywhere(owner)
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD_KEY, *settings.FIELD_ENCRYPTION_KEYS]):
        dump = _dump(tmp_path)  # written with a key this site does not have
    ProviderConfig.objects.all().delete()
    path = tmp_path / "other.json"
    path.write_text(dump)

    with pytest.raises(DeserializationError, match="cannot be decrypted") as excinfo:
        call_command("loaddata", str(path), verbosity=0)
    assert "client-secret-plain" not in str(excinfo.value)
    assert not ProviderConfig.objects.exists()


def test_a_secret_typed_by_a_person_is_kept_as_typed(db):
    from virtualmeeting.fields import EncryptedTextField

    field = EncryptedTextField()
    for typed in ("client-secret-plain", "gAAAA-looks-like-a-start", "eyJhbGciOiJIUzUxMiJ9.e30.abc", ""):
        assert field.to_python(typed) == typed


def test_rotation_counts_in_words(db, settings):
    import io
    import re

    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, *settings.FIELD_ENCRYPTION_KEYS]
    out = io.StringIO()
    call_command("rotate_encryption_keys", stdout=out)
    said = out.getvalue().strip()
    assert "(s)" not in said
    count = int(re.search(r"Re-encrypted (\d+) value", said).group(1))
    assert said == f"Re-encrypted {count} value{'' if count == 1 else 's'} with the first key."
