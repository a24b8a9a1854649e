from django.apps import AppConfig


class VirtualMeetingConfig(AppConfig):
    name = "virtualmeeting"
    verbose_name = "Virtual meetings"
