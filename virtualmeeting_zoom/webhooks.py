"""Zoom's webhook signature: `x-zm-signature: v0=hex(HMAC_SHA256(secret, "v0:{timestamp}:{raw body}"))`."""

import hashlib
import hmac
import time

MAX_AGE_SECONDS = 300


def sign(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_for(secret: str, timestamp: str, body: bytes) -> str:
    return "v0=" + sign(secret, b"v0:" + timestamp.encode() + b":" + body)


def verify(*, secret: str, timestamp: str, signature: str, body: bytes, now: float | None = None) -> bool:
    """True when the signature matches the raw body and the timestamp is within 5 minutes."""
    if not (secret and timestamp and signature) or not timestamp.isdigit():
        return False
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > MAX_AGE_SECONDS:
        return False
    return hmac.compare_digest(signature_for(secret, timestamp, body), signature)


def url_validation_answer(secret: str, plain_token: str) -> dict:
    return {"plainToken": plain_token, "encryptedToken": sign(secret, plain_token.encode())}
