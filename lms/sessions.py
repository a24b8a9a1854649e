"""The session engine: Django's cached_db sessions, read in the same cache round trip as the signed-in user.

Every request of a signed-in person reads their session, then their user row and header facts
(lms.userfacts.cached_user): two round trips to the cache, one after the other, because the user's id is in the
session. This store remembers, per process, whose session each session key was the last time it was read (the
user's id is no secret: the session key is), and reads the session and that user's entries in one `get_many`.
The read-ahead entries serve only when the session read says it is still that user's; lms.auth's backend then
makes the user from them by cached_user's own rule (lms.userfacts.cached_user_from). Anything else (the first
request of a session in this process, a session not in the cache, another user's) reads as cached_db does, and
the user as before.

Nothing is decided from the remembered id: the session itself still says who is signed in, and Django checks
the session's auth hash against the user as before (a changed password signs out); the backend still refuses
inactive users.
"""

from __future__ import annotations

import threading
from contextvars import ContextVar

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore
from django.core.signals import request_finished

from lms import userfacts

# Sessions remembered per process: a few hundred bytes each. When full, the oldest are forgotten (their next
# read takes two round trips again).
REMEMBERED = 20_000

_user_of_session: dict[str, str] = {}
_remembering = threading.Lock()

# The user's entries read with this request's session: (user id, what get_many found), taken by the user's read.
_read_ahead: ContextVar[tuple[str, dict] | None] = ContextVar("lms_sessions_read_ahead", default=None)


class SessionStore(CachedDBStore):
    def load(self):
        _read_ahead.set(None)
        user_id = _user_of_session.get(self.session_key)
        data = super().load() if user_id is None else self._load_with_user(user_id)
        _remember(self.session_key, data)
        return data

    def _load_with_user(self, user_id: str) -> dict:
        keys = [self.cache_key, *userfacts.user_keys(user_id)]
        try:
            found = self._cache.get_many(keys)
        except Exception:  # what cached_db does when the cache fails: read the database
            return super().load()
        data = found.get(self.cache_key)
        if data is None:  # not in the cache (evicted, or written by another store): cached_db's way
            return super().load()
        if str(data.get(SESSION_KEY)) == user_id:
            _read_ahead.set((user_id, found))
        return data

    def save(self, must_create=False):
        super().save(must_create)
        _remember(self.session_key, self._session)

    def delete(self, session_key=None):
        _user_of_session.pop(session_key or self.session_key, None)
        super().delete(session_key)


def user_read_ahead(user_id) -> dict | None:
    """The cache entries of `user_id` read with this request's session (lms.userfacts.user_keys), once; None when
    there are none (they were not read ahead, were read for another user, or were taken already)."""
    ahead = _read_ahead.get()
    _read_ahead.set(None)
    if ahead is None or ahead[0] != str(user_id):
        return None
    return ahead[1]


def _remember(session_key: str | None, data: dict) -> None:
    user_id = data.get(SESSION_KEY)
    if session_key is None or user_id is None:
        return
    with _remembering:  # threaded workers (gunicorn's gthread): another thread may be forgetting the oldest too
        if len(_user_of_session) >= REMEMBERED and session_key not in _user_of_session:
            _user_of_session.pop(next(iter(_user_of_session), None), None)
        _user_of_session[session_key] = str(user_id)


def _forget_read_ahead(**kwargs) -> None:
    _read_ahead.set(None)


request_finished.connect(_forget_read_ahead, dispatch_uid="lms.sessions.forget_read_ahead")
