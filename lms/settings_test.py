"""The test run's settings: production's (DEBUG off), with keys made for this run.

With DEBUG off the site refuses the published development keys (lms/keys.py),
so the tests never use them: each run makes a fresh SECRET_KEY and Fernet key
and exports them, so that the processes a test starts (a Celery worker, the
convergence run) share them. Keys already in the environment are kept.
"""

import os

from cryptography.fernet import Fernet
from django.core.management.utils import get_random_secret_key

os.environ.setdefault("SECRET_KEY", get_random_secret_key())
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", Fernet.generate_key().decode())

from lms.settings import *  # noqa: E402, F403
