"""The LMS's own settings, with a URLconf that adds the minimal view the page benchmark compares against.

Everything else (middleware, templates, database from DATABASE_URL) is exactly
what production runs, so the minimal view pays the same per-request costs as a
real page except the page's own work.
"""

from lms.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
