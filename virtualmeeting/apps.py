from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VirtualMeetingConfig(AppConfig):
    name = "virtualmeeting"
    verbose_name = _("Virtual meetings")
