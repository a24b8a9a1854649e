from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VirtualMeetingConfig(AppConfig):
    name = "virtualmeeting"
    verbose_name = _("Virtual meetings")

    def ready(self):
        # Register the framework's tasks in every process (web, worker, tests): the modules that
        # queue work send tasks by name (virtualmeeting.queue), which Celery runs in place when
        # eager only for a task it knows.
        from virtualmeeting import tasks  # noqa: F401
