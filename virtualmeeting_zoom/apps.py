import logging

from django.apps import AppConfig


class VirtualMeetingZoomConfig(AppConfig):
    name = "virtualmeeting_zoom"
    verbose_name = "Zoom Meeting"

    def ready(self):
        # requests-oauthlib and oauthlib log request headers (Basic auth with the client secret) and
        # tokens at DEBUG; keep them quiet even when the site runs with LOG_LEVEL=DEBUG.
        for name in ("requests_oauthlib", "oauthlib"):
            logger = logging.getLogger(name)
            if logger.level == logging.NOTSET or logger.level < logging.INFO:
                logger.setLevel(logging.INFO)
