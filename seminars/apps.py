from django.apps import AppConfig


class SeminarsConfig(AppConfig):
    name = "seminars"
    verbose_name = "Seminars"

    def ready(self):
        # Notifications about virtual meetings (failures, waits, re-creations, revoked connections).
        from seminars import dashboard_cache, handover_alerts, page_cache, receivers, viewer_facts  # noqa: F401
