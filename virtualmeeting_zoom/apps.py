from django.apps import AppConfig


class VirtualMeetingZoomConfig(AppConfig):
    name = "virtualmeeting_zoom"
    verbose_name = "Zoom Meeting"
