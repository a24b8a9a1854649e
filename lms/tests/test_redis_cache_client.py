"""lms.cache: Django's Redis cache with one client per connection pool (needs the Redis of REDIS_URL)."""

import os
import uuid

import pytest
import redis
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache

from lms.cache import RedisCache


@pytest.fixture
def redis_url():
    url = os.environ.get("REDIS_URL", "") or "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        if os.environ.get("LMS_REQUIRE_SERVICES") == "1":
            raise
        pytest.skip(f"Redis at {url} is not reachable: {exc} (CI sets LMS_REQUIRE_SERVICES=1: never skipped there)")
    return url


def test_every_call_uses_the_same_client_and_answers_as_djangos(redis_url):
    prefix = uuid.uuid4().hex
    ours = RedisCache(redis_url, {"KEY_PREFIX": prefix})
    theirs = DjangoRedisCache(redis_url, {"KEY_PREFIX": prefix})

    ours.set("a", {"x": 1})
    ours.set_many({"b": [1, 2], "c": "three"})
    assert theirs.get_many(["a", "b", "c"]) == {"a": {"x": 1}, "b": [1, 2], "c": "three"}
    assert ours.add("a", "other") is False and ours.get("a") == {"x": 1}
    theirs.set("d", 4)
    assert ours.get("d") == 4 and ours.incr("d") == 5
    ours.delete_many(["a", "b", "c", "d"])
    assert theirs.get_many(["a", "b", "c", "d"]) == {}

    client = ours._cache.get_client(write=True)
    assert ours._cache.get_client("any", write=True) is client
    assert ours._cache.get_client() is ours._cache.get_client()


def test_a_forked_process_gets_its_own_connections(redis_url):
    """The pool, not the client, holds connections; redis-py's pool opens new ones in a child process."""
    cache = RedisCache(redis_url, {"KEY_PREFIX": uuid.uuid4().hex})
    cache.set("parent", 1)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: reads through the same client object
        try:
            os.write(write, b"1" if cache.get("parent") == 1 else b"0")
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(read, 1) == b"1"
    assert cache.get("parent") == 1
