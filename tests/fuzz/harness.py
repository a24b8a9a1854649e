"""What every fuzz example checks: no server error, and a refusal leaves the database as it was.

Each example runs in a savepoint that is rolled back, so every example starts from the
scene the test built. Requests go through Django's test client, which re-raises an
exception from a view: a 500 fails the example with its traceback.
"""

import hashlib
import os
from collections.abc import Callable
from contextlib import contextmanager
from urllib.parse import quote_plus

from django.apps import apps
from django.contrib.messages import constants as message_levels
from django.contrib.messages import get_messages
from django.db import connection, transaction
from django.forms import BaseForm, BaseFormSet
from django.template import Context
from django.test import Client
from hypothesis import HealthCheck, event, settings
from hypothesis.errors import InvalidArgument

# The tables a refusal must leave alone: everything the product stores (and who is who).
SNAPSHOT_APPS = ("seminars", "virtualmeeting", "virtualmeeting_zoom", "auth", "axes")
# `LMS_FUZZ_SCALE=10` runs ten times the examples (a deeper search before a release).
SCALE = max(1, int(os.environ.get("LMS_FUZZ_SCALE", "1")))


def fuzz_settings(max_examples: int):
    """Reproducible in CI: the same examples every run, no example database on disk."""
    return settings(
        max_examples=max_examples * SCALE,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def fuzzes(*routes: str):
    """Names the URL routes a test drives (tests/fuzz/test_routes.py checks every route is driven)."""

    def mark(test):
        test.fuzzed_routes = routes
        return test

    return mark


# --- Database snapshots ---------------------------------------------------------------------------


def snapshot_models(exclude: tuple[str, ...] = ()) -> list:
    return [
        model
        for model in apps.get_models()
        if model._meta.app_label in SNAPSHOT_APPS and model._meta.label not in exclude
    ]


def snapshot(exclude: tuple[str, ...] = ()) -> dict[str, tuple[int, str]]:
    """Per table: the row count and a hash of every row (all columns, in primary key order)."""
    models = snapshot_models(exclude)
    if connection.vendor == "postgresql":
        return _snapshot_in_one_query(models)
    state = {}
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for model in models:
            # Raw rows, as stored (no decrypting of encrypted columns on the way).
            cursor.execute(f"SELECT * FROM {quote(model._meta.db_table)} ORDER BY {quote(model._meta.pk.column)}")
            rows = cursor.fetchall()
            digest = hashlib.sha256(repr(rows).encode("utf-8", "backslashreplace")).hexdigest()
            state[model._meta.label] = (len(rows), digest)
    return state


def _snapshot_in_one_query(models) -> dict[str, tuple[int, str]]:
    # Each row as PostgreSQL writes it out (every column), hashed in the database: one round trip
    # for all tables instead of fetching every row, so a few hundred examples stay quick.
    quote = connection.ops.quote_name
    selects = [
        f"SELECT %s, count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t.{quote(model._meta.pk.column)}), ''))"
        f" FROM {quote(model._meta.db_table)} t"
        for model in models
    ]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(selects), [model._meta.label for model in models])
        return {label: (count, digest) for label, count, digest in cursor.fetchall()}


def changed_tables(before: dict, after: dict) -> list[str]:
    return sorted(label for label in before if before[label] != after.get(label))


@contextmanager
def rolled_back():
    """Run one example in a savepoint and undo whatever it wrote."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


# --- Requests -------------------------------------------------------------------------------------


def _encode(value) -> str:
    # Lone surrogates cannot be UTF-8; sent as the bytes a broken client would send (ED A0 80),
    # which the server must decode (replacing them) rather than choke on.
    raw = value if isinstance(value, bytes) else str(value).encode("utf-8", "surrogatepass")
    return quote_plus(raw)


def urlencoded(data: dict) -> str:
    """application/x-www-form-urlencoded, with lists as repeated keys and any bytes allowed."""
    pairs = []
    for key, value in data.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append(f"{_encode(key)}={_encode(item)}")
    return "&".join(pairs)


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def send(client: Client, method: str, url: str, data: dict | None = None, **extra):
    """A request with form data in the body (POST) or in the query string (GET and the rest)."""
    data = data or {}
    if method == "POST":
        return client.post(url, urlencoded(data), content_type="application/x-www-form-urlencoded", **extra)
    query = urlencoded(data)
    target = f"{url}{'&' if '?' in url else '?'}{query}" if query else url
    return client.generic(method, target, **extra)


# --- Outcomes ---------------------------------------------------------------------------------------


def _forms_in(response):
    # One template rendered: a Context (iterating it gives its dicts); several: a list of Contexts.
    contexts = [response.context] if isinstance(response.context, Context) else response.context or []
    for context in contexts:
        for value in context.flatten().values():
            if isinstance(value, (BaseForm, BaseFormSet)) and value.is_bound:
                yield value


def form_errors(response) -> bool:
    return any(not form.is_valid() for form in _forms_in(response))


def error_messages(response) -> list[str]:
    """Messages at warning level or above that the view queued for the next page."""
    request = getattr(response, "wsgi_request", None)
    if request is None or not hasattr(request, "_messages"):
        return []
    return [str(m) for m in get_messages(request) if m.level >= message_levels.WARNING]


def is_refusal(response) -> bool:
    """4xx; a form shown again with its errors (our views redirect after every accepted POST);
    or a redirect carrying an error message ("Attendance was not saved: ...")."""
    if response.status_code >= 400:
        return True
    if response.wsgi_request.method == "POST" and response.status_code == 200:
        return True
    return bool(form_errors(response) or error_messages(response))


def _count(outcome: str) -> None:
    """Tally the outcomes of a Hypothesis test (`pytest --hypothesis-show-statistics` shows them)."""
    try:
        event(outcome)
    except InvalidArgument:
        pass  # called outside a Hypothesis test


def _rows(instances) -> list:
    return [type(row)._base_manager.filter(pk=row.pk).values_list().first() for row in instances]


def check(
    request: Callable[[], object],
    *,
    refused: Callable[[object], bool] = is_refusal,
    may_write: Callable[[object], bool] | None = None,
    exclude: tuple[str, ...] = (),
    untouchable: tuple = (),
):
    """Send one request and check what it did.

    - never a server error (the test client raises a view's exception; a 5xx fails here);
    - a refusal changes no table (`exclude` names tables a refusal may write by design);
    - a request that `may_write` says must not write changes no table either;
    - a form shown again says what is wrong;
    - the `untouchable` rows (out of the actor's reach) are the same whatever the answer.
    """
    before, protected = snapshot(exclude), _rows(untouchable)
    response = request()
    assert response.status_code < 500, f"server error {response.status_code}: {response.content[:500]!r}"
    changed = changed_tables(before, snapshot(exclude))
    outcome = "refused" if refused(response) else "accepted"
    _count(f"{response.wsgi_request.method} {response.status_code} {outcome}")
    if outcome == "refused":
        assert not changed, f"refused with {response.status_code}, but changed {changed}"
    elif may_write is not None and not may_write(response):
        assert not changed, f"a request that must not write ({response.status_code}) changed {changed}"
    if response.wsgi_request.method == "POST" and response.status_code == 200 and any(_forms_in(response)):
        assert form_errors(response) or error_messages(response), "a form was shown again without saying why"
    assert _rows(untouchable) == protected, "a row out of the actor's reach changed"
    return response


def post_form(user, url: str, data: dict, **expectations):
    """One example: log in as `user`, POST `data` to `url`, check the outcome, roll everything back."""
    with rolled_back():
        client = client_for(user)
        return check(lambda: send(client, "POST", url, data), **expectations)
