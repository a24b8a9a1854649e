"""Per-user facts every page needs (the site-admin flag, the bell, the viewer's time zone), cached.

Every page used to pay a query or two for each of them. Here they are computed together, kept in the
cache under the user's id, and read back in one cache round trip (`get_many` of the facts and the two
generation tokens they were computed under).

Invalidation is by generation (lms.generations), so a reader can never store a stale value for later readers:
- `user_changed(user_id)` gives the user a new generation token (a notification arrived or was read,
  the profile's time zone changed, the user's flags, groups or permissions changed);
- `everyone_changed()` gives every user a new one (a group's permissions changed).
A reader tags what it computed with the tokens it read *before* computing; a change in between gives
new tokens, so the value it stores is never read. Both give a new token at once and again after the
surrounding transaction commits: a reader that read the old rows before the commit tagged them with the
first new token.

The user row is cached the same way (`cached_user`, for lms.auth.CachedModelBackend), read in the same round
trip as the facts.

Facts are registered by the apps that own them (`register`), so this module imports no app: `lms`
registers the site-admin flag, `seminars` the bell and the zone. A request computes them at most once
(memoised on the user object).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.cache import cache

from lms import generations

_FACTS: dict[str, Callable[[Any], Any]] = {}
_MEMO = "_lms_userfacts"
EVERYONE = "userfacts:gen:all"
TIMEOUT = 24 * 3600  # facts a user has not needed for a day are computed again


def register(name: str, compute: Callable[[Any], Any]) -> None:
    """`compute(user)` gives the fact `name` for a user (an active, authenticated one)."""
    _FACTS[name] = compute


def _user_gen_key(user_id) -> str:
    return f"userfacts:gen:{user_id}"


def _facts_key(user_id) -> str:
    return f"userfacts:{user_id}"


def _user_key(user_id) -> str:
    return f"userfacts:user:{user_id}"


# The user row itself (lms.auth.CachedModelBackend) is kept a shorter time: a change that bypasses the model's
# save() and delete() (a bulk update in a shell) is seen within this many seconds at the latest.
USER_TIMEOUT = 300


def _tokens(user_id, found: dict) -> tuple[str, str]:
    """The user's and everyone's generation tokens (made when missing: lms.generations)."""
    return generations.tokens([_user_gen_key(user_id), EVERYONE], found)


def facts(user) -> dict[str, Any]:
    """All registered facts of `user`, from the cache when they are current."""
    memo = getattr(user, _MEMO, None)
    if memo is not None:
        return memo
    keys = [_facts_key(user.pk), _user_gen_key(user.pk), EVERYONE]
    found = cache.get_many(keys)
    tokens = _tokens(user.pk, found)
    entry = found.get(keys[0])
    if isinstance(entry, dict) and entry.get("tokens") == tokens and set(entry.get("facts", ())) == set(_FACTS):
        values = entry["facts"]
    else:
        values = {name: compute(user) for name, compute in _FACTS.items()}
        cache.set(keys[0], {"tokens": tokens, "facts": values}, timeout=TIMEOUT)
    setattr(user, _MEMO, values)
    return values


def cached_user(user_id, load: Callable[[Any], Any]):
    """The user `user_id` from the cache when current, else `load(user_id)` (stored for the next request); None when
    `load` finds none. Read in the same round trip as the user's facts, which are then ready for the request."""
    return cached_user_from(user_id, cache.get_many(user_keys(user_id)), load)


def fact(user, name: str):
    return facts(user)[name]


def forget_memo(user) -> None:
    """Drop what this request already read for `user` (after the request itself changed it)."""
    if hasattr(user, _MEMO):
        delattr(user, _MEMO)


def user_changed(user_id) -> None:
    """The facts of this user changed: readers compute them again."""
    generations.changed(_user_gen_key(user_id))


def everyone_changed() -> None:
    """Facts of any user may have changed (a group's permissions): all are computed again."""
    generations.changed(EVERYONE)


def reset() -> None:
    """Every user's cached facts out of date at once, outside any transaction (test isolation, a cache restore)."""
    generations.bump(EVERYONE)


# --- Read with the request's session (lms.sessions) ----------------------------------------------------------
# The session store reads the user's entries in the same round trip as the session when it knows whose session
# it is; the request's user is then made from what it found (lms.auth), by the same rule as `cached_user`.


def user_keys(user_id) -> list[str]:
    """The cache keys of a user's row and facts and of the generation tokens they were stored under, as
    `cached_user` reads them: for a caller that reads them with keys of its own, in one round trip."""
    return [_user_key(user_id), _facts_key(user_id), _user_gen_key(user_id), EVERYONE]


def cached_user_from(user_id, found: dict | None, load: Callable[[Any], Any]):
    """`cached_user(user_id, load)` from `found`, what a `get_many` of (at least) `user_keys(user_id)` returned
    just now in this request; None: read them now."""
    keys = user_keys(user_id)
    if found is None:
        found = cache.get_many(keys)
    tokens = _tokens(user_id, found)
    entry = found.get(keys[0])
    if isinstance(entry, dict) and entry.get("tokens") == tokens:
        user = entry["user"]
    else:
        user = load(user_id)
        if user is None:
            return None
        cache.set(keys[0], {"tokens": tokens, "user": user}, timeout=USER_TIMEOUT)
    facts_entry = found.get(keys[1])
    if (
        isinstance(facts_entry, dict)
        and facts_entry.get("tokens") == tokens
        and set(facts_entry.get("facts", ())) == set(_FACTS)
    ):
        setattr(user, _MEMO, facts_entry["facts"])
    return user
