"""Zoom's webhook signature: `x-zm-signature: v0=hex(HMAC_SHA256(secret, "v0:{timestamp}:{raw body}"))`."""

import hashlib
import hmac
import json
import time

MAX_AGE_SECONDS = 300
# Epoch seconds have 10 digits until the year 2286; anything much longer is not a timestamp
# (and a 400-digit one would overflow the float arithmetic below).
MAX_TIMESTAMP_DIGITS = 12


def sign(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_for(secret: str, timestamp: str, body: bytes) -> str:
    return "v0=" + sign(secret, b"v0:" + timestamp.encode() + b":" + body)


def verify(*, secret: str, timestamp: str, signature: str, body: bytes, now: float | None = None) -> bool:
    """True when the signature matches the raw body and the timestamp is within 5 minutes."""
    if not (secret and timestamp and signature) or not _is_epoch_number(timestamp) or not signature.isascii():
        return False
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > MAX_AGE_SECONDS:
        return False
    return hmac.compare_digest(signature_for(secret, timestamp, body), signature)


def _is_epoch_number(text: str) -> bool:
    # ASCII digits only: str.isdigit() also accepts "²" and other digits int() refuses.
    return 0 < len(text) <= MAX_TIMESTAMP_DIGITS and text.isascii() and text.isdigit()


def parse_event(body: bytes) -> dict | None:
    """The event a (verified) body holds, or None when it is not a JSON object we can read
    (malformed, not UTF-8, or nested too deeply for the parser)."""
    try:
        event = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return event if isinstance(event, dict) else None


def is_plain_token(value) -> bool:
    """A plainToken we can sign: non-empty text that is valid Unicode (JSON may carry a lone
    surrogate, "\\ud800", which has no UTF-8 bytes to sign)."""
    if not isinstance(value, str) or not value:
        return False
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def url_validation_answer(secret: str, plain_token: str) -> dict:
    return {"plainToken": plain_token, "encryptedToken": sign(secret, plain_token.encode())}
