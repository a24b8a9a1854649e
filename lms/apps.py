from django.apps import AppConfig


class LmsConfig(AppConfig):
    name = "lms"
    verbose_name = "LMS site"

    def ready(self):
        from lms import checks, receivers, sqlite  # noqa: F401  (system checks; lms.userfacts receivers; SQLite functions)
