from django.apps import AppConfig


class LmsConfig(AppConfig):
    name = "lms"
    verbose_name = "LMS site"

    def ready(self):
        from lms import checks, receivers  # noqa: F401  (registers the system checks; lms.userfacts' receivers)
