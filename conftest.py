"""Suite-wide test configuration.

PostgreSQL-only tests are marked `postgres`: on SQLite (a local run) they are
skipped with the reason; in CI (LMS_REQUIRE_SERVICES=1) the database is
PostgreSQL and nothing is skipped.
"""

import os

import pytest

# Playwright's sync API runs an event loop in the test thread; Django's async guard would
# otherwise refuse the test's own database calls in browser tests.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
from django.conf import settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _is_postgres():
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def pytest_collection_modifyitems(config, items):
    require = os.environ.get("LMS_REQUIRE_SERVICES") == "1"
    for item in items:
        if item.get_closest_marker("postgres") and not _is_postgres():
            if require:
                raise pytest.UsageError("LMS_REQUIRE_SERVICES=1 but DATABASE_URL is not PostgreSQL")
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL=postgres://...)"))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True}


# Chromium blocks what the Content-Security-Policy forbids; this makes each block visible to the test.
CSP_REPORTER = """
document.addEventListener("securitypolicyviolation", function (event) {
  console.error("CSP violation: " + event.violatedDirective + " blocked " + (event.blockedURI || "inline code")
    + " in " + event.sourceFile + ":" + event.lineNumber);
});
"""


@pytest.fixture(autouse=True)
def csp_violations(request):
    """In a browser test, every page of every context reports Content-Security-Policy violations here;
    the test fails at teardown if there were any (a blocked script or style is a broken page)."""
    if "browser" not in request.fixturenames:
        yield []
        return
    browser = request.getfixturevalue("browser")
    violations = []

    def record(message):
        if message.type == "error" and ("CSP violation" in message.text or "Content Security Policy" in message.text):
            violations.append(f"{message.page.url if message.page else '?'}: {message.text}")

    new_context = browser.new_context

    def new_watched_context(*args, **kwargs):
        context = new_context(*args, **kwargs)
        context.add_init_script(script=CSP_REPORTER)
        context.on("console", record)
        return context

    patch = pytest.MonkeyPatch()
    patch.setattr(browser, "new_context", new_watched_context)
    try:
        yield violations
    finally:
        patch.undo()
    assert not violations, "Content-Security-Policy violations:\n" + "\n".join(violations)


@pytest.fixture(autouse=True)
def _eager_celery():
    """Tasks queued by a test run in its own process (Celery reads its settings once: set the app)."""
    from lms.celery import app

    app.loader.import_default_modules()  # the autodiscovered tasks, as a worker loads them: a task sent by name runs here
    was = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = was


@pytest.fixture(autouse=True)
def _fresh_user_facts():
    """No test reads another's cached user facts (lms.userfacts): user ids repeat between tests and runs."""
    from lms import userfacts
    from seminars import dashboard_cache, page_cache

    userfacts.reset()
    page_cache.reset()
    dashboard_cache.reset()


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "http://testserver"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


SCREENSHOTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "docs", "screenshots")


@pytest.fixture(scope="session")
def screenshot(tmp_path_factory):
    """screenshot(page, name): a PNG 1280 wide (a dialog: the viewport, as the user sees it over the page).

    With LMS_UPDATE_SCREENSHOTS=1 it goes to docs/screenshots/<name>.png (shown in the README);
    otherwise to a temporary folder, so that a test run leaves the working tree as it was.
    """
    folder = SCREENSHOTS if os.environ.get("LMS_UPDATE_SCREENSHOTS") == "1" else str(tmp_path_factory.mktemp("shots"))
    os.makedirs(folder, exist_ok=True)

    def take(page, name: str, *, full_page: bool = True) -> str:
        path = os.path.join(folder, f"{name}.png")
        page.screenshot(path=path, full_page=full_page)
        return path

    return take
