"""End to end: a real browser, the live server, a real Celery worker on Redis, and the Zoom simulator.

The pieces, all in this process so that one `time_machine.travel` moves every clock at once
(the live server's threads, the worker's thread and the simulator's clock, which is real time
plus its own offset):

- `zoom`: the simulator (simulators.zoom) on a free port with a throw-away SQLite file, its seeded apps
  registered with this live server's Redirect URL; the product reaches it through
  ZOOM_OAUTH_BASE_URL / ZOOM_API_BASE_URL only, and SITE_URL is the live server's URL.
- `zoom_configured`: Zoom Meeting set up for the simulator's app, as `make run` does.
- `microsoft`: the Microsoft simulator (simulators.microsoft) for Microsoft Teams, likewise on a free port.
- `worker`: Celery's in-process worker consuming from the real broker (Redis db 9 unless
  CELERY_BROKER_URL says otherwise); tasks are queued after commit exactly as in production.
- `cast`: a course with a seminar, a site admin, an editing trainer and two learners.
- `browse(user)`: a logged-in page of its own browser context (1280 wide) for each person.

Redis is required: with LMS_REQUIRE_SERVICES=1 these tests fail without it, otherwise they skip
saying why. On SQLite the test database lives in memory and every thread shares the test's one
connection (as pytest-django's live server does); a lock keeps a task's transaction from
interleaving with a request's on that shared connection. On PostgreSQL each thread has its own.
"""

import io
import os
import threading
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import connections

# Playwright's sync API runs an event loop in the test's thread; the ORM calls here are synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "correct horse battery staple"
ZOOM_PASSWORD = "zoom-password"
ZOOM_PRO = "pro@zoomsim.test"
ZOOM_OTHER_ACCOUNT = "other@otheraccount.test"
CALLBACK_PATH = "/integrations/virtualmeeting/auth_callback/zoom"
TEAMS_CALLBACK_PATH = "/integrations/virtualmeeting/auth_callback/teams"
TEAMS_TRAINER = "trainer@contoso.test"
WAIT_MS = 30_000  # the longest a page waits for the worker and the simulator


def _redis_url(env_name: str, default: str) -> str:
    value = os.environ.get(env_name, "")
    return value if value.startswith("redis://") else default


BROKER_URL = _redis_url("CELERY_BROKER_URL", "redis://127.0.0.1:6379/9")
CACHE_URL = _redis_url("REDIS_URL", "redis://127.0.0.1:6379/10")


def wait_for(condition, *, what: str, timeout: float = WAIT_MS / 1000):
    """Poll `condition` (bounded) until it returns something truthy, and return that."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout:.0f} s waiting for {what}.")
        time.sleep(0.1)


# --- services ---------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def redis_available():
    import redis

    try:
        for url in (BROKER_URL, CACHE_URL):
            redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
    except redis.RedisError as exc:
        reason = f"the end-to-end tests need Redis at {BROKER_URL} and {CACHE_URL}: {exc}"
        if os.environ.get("LMS_REQUIRE_SERVICES") == "1":
            pytest.fail(f"LMS_REQUIRE_SERVICES=1 but {reason}")
        pytest.skip(reason)


@pytest.fixture
def e2e_settings(settings, live_server, redis_available):
    """The live server as the site, a Redis cache of our own (Zoom's quota and rate counters), plain cookies."""
    prefix = f"e2e-{uuid.uuid4().hex[:12]}"  # keys of this test only: other runs may share the Redis db
    settings.SITE_URL = live_server.url
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": prefix,
        }
    }
    settings.CELERY_TASK_ALWAYS_EAGER = False
    yield settings
    _forget(CACHE_URL, f"{prefix}:")


# --- the Zoom simulator ------------------------------------------------------------------------------
@pytest.fixture
def zoom(e2e_settings, live_server, tmp_path):
    from simulators.zoom.server import start_server

    sim = start_server(
        port=0,
        db_path=str(tmp_path / "zoomsim.sqlite3"),
        redirect_uri=live_server.url + CALLBACK_PATH,
        webhook_url=live_server.url + "/integrations/virtualmeeting/zoom/webhook",
    )
    e2e_settings.ZOOM_OAUTH_BASE_URL = sim.oauth_base_url
    e2e_settings.ZOOM_API_BASE_URL = sim.api_base_url
    yield sim
    sim.stop()


@pytest.fixture
def zoom_configured(zoom):
    """Zoom Meeting enabled with the simulator's seeded app (what `make run` does)."""
    call_command("virtualmeeting_zoom_configure", simulator=zoom.url, stdout=io.StringIO())
    return zoom


def live_meetings(zoom, host=ZOOM_PRO):
    return [m for m in zoom.meetings(host=host) if not m["deleted"]]


# --- the Microsoft simulator (Teams) ------------------------------------------------------------------
@pytest.fixture
def microsoft(e2e_settings, live_server, tmp_path):
    """The Microsoft simulator (simulators.microsoft) on a free port, its app registered with this live server's
    Redirect URL; the product reaches it through TEAMS_AUTH_BASE_URL / GRAPH_API_BASE_URL only."""
    from simulators.microsoft.server import start_server

    sim = start_server(
        port=0, db_path=str(tmp_path / "mssim.sqlite3"), redirect_uris=(live_server.url + TEAMS_CALLBACK_PATH,)
    )
    e2e_settings.TEAMS_AUTH_BASE_URL = sim.auth_base_url
    e2e_settings.GRAPH_API_BASE_URL = sim.graph_base_url
    yield sim
    sim.stop()


def connect_teams(page, dialog):
    """ "Connect" in the room dialog; in the popup, the simulated Microsoft sign-in, then Accept."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import expect

    from simulators.microsoft.seed import PASSWORD

    with page.expect_popup() as popup_info:
        dialog.get_by_role("button", name="Connect").click()
    popup = popup_info.value
    popup.get_by_label("Email").fill(TEAMS_TRAINER)
    popup.get_by_label("Password").fill(PASSWORD)
    popup.get_by_role("button", name="Sign in").click()
    expect(popup.get_by_role("heading", name="Permissions requested")).to_be_visible()
    popup.get_by_role("button", name="Accept").click()
    try:
        popup.wait_for_event("close", timeout=10_000)
    except PlaywrightError:
        if not popup.is_closed():
            raise AssertionError(f"The popup stayed open at {popup.url}:\n{popup.inner_text('body')}") from None


# --- the Celery worker -------------------------------------------------------------------------------
class _SharedSQLite:
    """Requests, tasks and the test's own queries take turns on the in-memory SQLite connection all threads share.

    A request or a task holds the turn from start to end (its transactions must not interleave with
    another thread's on the same connection); the test thread takes it for each query it runs.
    """

    def __init__(self, connection):
        self.connection = connection
        self.lock = threading.RLock()
        self.held = threading.local()

    def acquire(self, **kwargs):
        self.held.yes = self.lock.acquire(timeout=60)

    def release(self, **kwargs):
        if getattr(self.held, "yes", False):
            self.held.yes = False
            self.lock.release()

    def task_starts(self, **kwargs):
        connections["default"] = self.connection  # this thread uses the test's connection
        self.acquire()

    def query(self, execute, sql, params, many, context):
        # Re-entrant: a request or task already holding the turn goes straight through.
        took = self.lock.acquire(timeout=60)
        try:
            return execute(sql, params, many, context)
        finally:
            if took:
                self.lock.release()


def _forget(url: str, prefix: str) -> None:
    """Delete this test's keys (queue, unacknowledged tasks, bindings) from the Redis db."""
    import redis

    client = redis.Redis.from_url(url)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)


@pytest.fixture
def worker(e2e_settings, transactional_db):
    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun, task_prerun

    from lms.celery import app

    was = {key: app.conf[key] for key in ("broker_url", "broker_transport_options", "task_always_eager")}
    # Every broker key of this test gets its own prefix: another run's worker on the same Redis db
    # (a colleague's suite, CI) must not take this test's tasks, nor this worker theirs.
    prefix = f"e2e-{uuid.uuid4().hex[:12]}:"
    options = {"visibility_timeout": 3600, "global_keyprefix": prefix}
    app.conf.update(broker_url=BROKER_URL, broker_transport_options=options, task_always_eager=False)
    app._pool = None  # connections made earlier in the session point at the old broker
    app.amqp._producer_pool = None

    connection = connections["default"]
    shared = _SharedSQLite(connection) if connection.vendor == "sqlite" and connection.is_in_memory_db() else None
    stack = ExitStack()
    if shared:
        connection.inc_thread_sharing()
        stack.enter_context(connection.execute_wrapper(shared.query))
        request_started.connect(shared.acquire, dispatch_uid="e2e-shared-sqlite-start")
        request_finished.connect(shared.release, dispatch_uid="e2e-shared-sqlite-finish")
        task_prerun.connect(shared.task_starts, weak=False, dispatch_uid="e2e-task-start")
        task_postrun.connect(shared.release, weak=False, dispatch_uid="e2e-task-finish")
    else:
        # Each task closes its thread's own connection, so none is left open on the test database.
        task_postrun.connect(lambda **kw: connections.close_all(), weak=False, dispatch_uid="e2e-task-finish")
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30):
            yield app
    finally:
        task_prerun.disconnect(dispatch_uid="e2e-task-start")
        task_postrun.disconnect(dispatch_uid="e2e-task-finish")
        if shared:
            request_started.disconnect(dispatch_uid="e2e-shared-sqlite-start")
            request_finished.disconnect(dispatch_uid="e2e-shared-sqlite-finish")
            connection.dec_thread_sharing()
        stack.close()
        app.conf.update(was)
        app._pool = None
        app.amqp._producer_pool = None
        _forget(BROKER_URL, prefix)


# --- the cast ------------------------------------------------------------------------------------
@dataclass
class Cast:
    admin: object
    trainer: object
    learner: object
    learner2: object
    course: object
    seminar: object


@pytest.fixture
def cast(e2e_settings, transactional_db):
    from seminars.models import Course, Enrolment, Seminar
    from seminars.tests.conftest import enrol, make_site_admin, make_user

    course = Course.objects.create(name="Safety training", short_name="SAFE")
    trainer = make_user("edna", last_name="Editor")
    enrol(trainer, course, Enrolment.Role.EDITING_TRAINER)
    learner = make_user("lena", last_name="Learner")
    enrol(learner, course)
    learner2 = make_user("leo", last_name="Late")
    enrol(learner2, course)
    seminar = Seminar.objects.create(course=course, name="Fire wardens", description="How to lead an evacuation.")
    return Cast(make_site_admin(), trainer, learner, learner2, course, seminar)


# --- browsers ------------------------------------------------------------------------------------
@pytest.fixture
def browse(browser, live_server, e2e_settings):
    """browse(user) -> a page of a fresh browser context, logged in as `user`."""
    from playwright.sync_api import expect

    contexts = []
    expect.set_options(timeout=WAIT_MS)  # a loaded machine may take more than the default 5 s

    def open_as(user):
        context = browser.new_context(viewport={"width": 1280, "height": 860})
        context.set_default_timeout(WAIT_MS)
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        return page

    yield open_as
    for context in contexts:
        context.close()
    expect.set_options(timeout=5_000)


# --- journeys' steps -----------------------------------------------------------------------------
def tomorrow_at(hour: int, zone: str = "UTC", days: int = 1) -> datetime:
    """A local wall-clock time `days` ahead in `zone` (aware)."""
    base = datetime.now(ZoneInfo(zone)) + timedelta(days=days)
    return base.replace(hour=hour, minute=0, second=0, microsecond=0)


def zoom_sign_in(popup, *, email: str = ZOOM_PRO, decision: str | None = "Allow"):
    """The simulator's authorize page in the popup: sign in, then Allow or Decline (None: stop after signing in)."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import expect

    popup.get_by_label("Email Address").fill(email)
    popup.get_by_label("Password").fill(ZOOM_PASSWORD)
    popup.get_by_role("button", name="Sign In").click()
    if decision is None:
        return
    button = popup.get_by_role("button", name=decision)
    expect(button).to_be_visible()
    button.click()
    try:
        popup.wait_for_event("close", timeout=10_000)
    except PlaywrightError:
        if not popup.is_closed():
            raise AssertionError(f"The popup stayed open at {popup.url}:\n{popup.inner_text('body')}") from None


def connect_zoom(page, dialog, *, email: str = ZOOM_PRO, decision: str = "Allow"):
    """ "Connect" in the room dialog, sign in to Zoom in the popup and decide; the popup closes."""
    with page.expect_popup() as popup_info:
        dialog.get_by_role("button", name="Connect").click()
    zoom_sign_in(popup_info.value, email=email, decision=decision)


def fill_session(page, number: int, start: datetime, minutes: int, zone: str):
    session = page.get_by_role("group", name=f"Session {number}")
    session.get_by_label("Start", exact=True).fill(start.strftime("%Y-%m-%dT%H:%M"))
    session.get_by_label("Finish", exact=True).fill((start + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M"))
    session.get_by_label("Time zone").fill(zone)
    return session


def zoom_site_account(zoom, users):
    """Zoom enabled with the simulator's seeded apps, new rooms in the site's account, and `users` added to it."""
    from virtualmeeting.models import ProviderConfig

    call_command("virtualmeeting_zoom_configure", simulator=zoom.url, stdout=io.StringIO())  # both apps
    ProviderConfig.objects.filter(provider="zoom").update(hosting="account")
    zoom.add_users(users=users)


def open_zoom_room(page, session, *, name: str, capacity: int):
    """ "Select room" > "Create" > Name, Capacity > "Add virtual room link": "Zoom Meeting"; the open dialog."""
    session.get_by_role("button", name="Select room").click()
    dialog = page.get_by_role("dialog", name="Select room")
    dialog.get_by_role("tab", name="Create").click()
    dialog.get_by_label("Name", exact=True).fill(name)
    dialog.get_by_label("Capacity", exact=True).fill(str(capacity))
    dialog.get_by_label("Add virtual room link").select_option(label="Zoom Meeting")
    return dialog


def add_zoom_room(page, session, *, name: str, capacity: int, connect: bool = True):
    """open_zoom_room (> "Connect") > "OK"."""
    from playwright.sync_api import expect

    dialog = open_zoom_room(page, session, name=name, capacity=capacity)
    if connect:
        connect_zoom(page, dialog)
        expect(dialog.get_by_text(f"Pat Pro ({ZOOM_PRO})")).to_be_visible()
    dialog.get_by_role("button", name="OK").click()
    expect(dialog).to_be_hidden()


def add_event(
    page, live_server, seminar, *, name: str, sessions, capacity: int = 10, connect: bool = True, waitlist: bool = False
):
    """The event editor: "Add event", one row per (start, minutes, zone, room name), "Save changes"."""
    from playwright.sync_api import expect

    page.goto(f"{live_server.url}/seminars/{seminar.pk}/")
    page.get_by_role("link", name="Add event").click()
    page.get_by_label("Event name").fill(name)
    page.locator("input[name=capacity]").fill(str(capacity))
    if waitlist:
        page.get_by_label("Enable waitlist").check()
    for number, (start, minutes, zone, room) in enumerate(sessions, start=1):
        page.get_by_role("button", name="Add session").click()
        session = fill_session(page, number, start, minutes, zone)
        add_zoom_room(page, session, name=room, capacity=capacity, connect=connect and number == 1)
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text(f"Saved {name}.")).to_be_visible()
