"""Cached values that are never served stale: each is stored with the generation tokens it was computed under.

A generation is a random token kept in the cache under a key that names what it stands for (one event, all of
them). Whoever changes that thing calls `changed(key)`, which gives it a new token at once and again after the
surrounding transaction commits. A reader reads the tokens *before* it computes a value and stores the value
with them (`entry_fresh`, `entry`); a change in between gives new tokens, so what it stored is never read. The
token given again at commit drops what a reader on another connection stored from the old rows before the
commit.

lms.userfacts (per user) and seminars.page_cache (per event) keep their values this way.
"""

from __future__ import annotations

import logging
import uuid

from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)


def _new_token() -> str:
    return uuid.uuid4().hex


def tokens(keys: list[str], found: dict) -> tuple[str, ...]:
    """The tokens of `keys`, from `found` (what a `get_many` that asked for them returned) or made when missing
    (evicted, or never set). `add` keeps a token another process made meanwhile, so both read the same one."""
    result = []
    for key in keys:
        token = found.get(key)
        if token is None:
            cache.add(key, _new_token(), timeout=None)
            token = cache.get(key)
        result.append(token)
    return tuple(result)


def entry(value, tokens: tuple[str, ...]) -> dict:
    """What to store: the value with the tokens read before it was computed."""
    return {"tokens": list(tokens), "value": value}


def entry_fresh(stored, tokens: tuple[str, ...]) -> bool:
    """Whether a stored entry was computed under these tokens (and so after every change they stand for)."""
    return isinstance(stored, dict) and stored.get("tokens") == list(tokens)


def bump(*keys: str) -> None:
    """New tokens for `keys` now, outside any transaction logic (a cache restore, test isolation)."""
    if not keys:
        return
    try:
        cache.set_many({key: _new_token() for key in keys}, timeout=None)
    except Exception:  # the cache is down: readers cannot read stale values from it either
        logger.warning("Could not mark cached values out of date (%s)", ", ".join(keys[:5]), exc_info=True)


def changed(*keys: str) -> None:
    """What `keys` stand for changed: new tokens now (this transaction's own later reads see the change) and again
    once the transaction commits (a reader that read the old rows in between stored them under the first)."""
    if not keys:
        return
    bump(*keys)
    transaction.on_commit(lambda: bump(*keys), robust=True)
