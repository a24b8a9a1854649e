"""Encryption at rest for secrets (client secrets, OAuth tokens).

Values are encrypted with cryptography's MultiFernet built from
settings.FIELD_ENCRYPTION_KEYS: the first key encrypts, every key decrypts, so
a new key can be put first and old rows re-encrypted with
`manage.py rotate_encryption_keys` before the old key is dropped. The column
never holds plaintext; the empty string is stored as is (nothing to hide).

Serialization (`manage.py dumpdata`) writes the ciphertext too, never the
secret, and `loaddata` of such a dump decrypts it back with the site's keys
(a dump from a site with other keys is refused, not stored garbled).
"""

import base64
import binascii
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.signals import setting_changed
from django.db import models
from django.utils.translation import gettext_lazy as _


@lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    keys = settings.FIELD_ENCRYPTION_KEYS
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty.")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS holds a key that is not a Fernet key.") from exc


def _reset(*, setting, **kwargs):
    if setting == "FIELD_ENCRYPTION_KEYS":
        _fernet.cache_clear()


setting_changed.connect(_reset)


def encrypt(value: str) -> str:
    if not value:
        return ""
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        # Never include the token in the message.
        raise ImproperlyConfigured(
            "An encrypted value cannot be decrypted with FIELD_ENCRYPTION_KEYS (was a key removed too early?)."
        ) from exc


def rotate(token: str) -> str:
    """Re-encrypt a stored token with the first (newest) key."""
    if not token:
        return ""
    return _fernet().rotate(token.encode()).decode()


def is_token(value: str) -> bool:
    """True for a string shaped like a Fernet token (version byte, timestamp, IV, blocks, HMAC).

    A secret a person or a provider gives us (a client secret, an OAuth token) never has this shape.
    """
    try:
        raw = base64.urlsafe_b64decode(value.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return False
    # 1 version + 8 timestamp + 16 IV + n * 16 ciphertext + 32 HMAC.
    return len(raw) >= 73 and raw[0] == 0x80 and (len(raw) - 57) % 16 == 0


class EncryptedTextField(models.TextField):
    """A TextField whose column holds a Fernet token; Python code sees the plaintext."""

    def value_to_string(self, obj):
        # What serializers write (dumpdata): the ciphertext, never the secret.
        return encrypt(self.value_from_object(obj))

    def to_python(self, value):
        # A serialized value (loaddata) is a token: read it back as the plaintext it holds.
        value = super().to_python(value)
        if not value or not is_token(value):
            return value
        try:
            return _fernet().decrypt(value.encode()).decode()
        except InvalidToken:
            raise ValidationError(
                _("This encrypted value cannot be decrypted with this site's FIELD_ENCRYPTION_KEYS."),
                code="undecryptable",
            ) from None

    def from_db_value(self, value, expression, connection):
        if value is None:
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None:
            return value
        return encrypt(value)
