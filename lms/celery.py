import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lms.settings")

app = Celery("lms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Tasks that call services which queue email themselves (through seminars.tasks): a module of their
# own, so that seminars.tasks need not import them.
app.autodiscover_tasks(["seminars"], related_name="approval_tasks")
