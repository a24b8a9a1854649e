from django.apps import AppConfig


class VirtualMeetingTeamsConfig(AppConfig):
    name = "virtualmeeting_teams"
    verbose_name = "Microsoft Teams"
