"""Read-mostly admin views for support staff. Secrets and tokens are never shown here."""

from django.contrib import admin

from virtualmeeting.models import (
    MeetingOccurrence,
    MeetingParticipant,
    MeetingRecording,
    ProviderConfig,
    ProviderConnection,
    VirtualMeeting,
)


@admin.register(ProviderConfig)
class ProviderConfigAdmin(admin.ModelAdmin):
    list_display = ("provider", "enabled", "hosting", "client_id", "account_id", "account_client_id", "updated_at")
    # Secrets are set on the provider's settings page, where they are write-only.
    exclude = ("client_secret", "webhook_secret", "account_client_secret")


@admin.register(ProviderConnection)
class ProviderConnectionAdmin(admin.ModelAdmin):
    list_display = ("user", "provider", "name", "email", "status", "connected_at")
    list_filter = ("provider", "status")
    search_fields = ("user__username", "name", "email", "remote_account_id")
    exclude = ("access_token", "refresh_token")
    readonly_fields = (
        "user",
        "provider",
        "remote_account_id",
        "name",
        "email",
        "expires_at",
        "scopes",
        "extra",
        "status",
        "status_message",
        "connected_at",
    )


@admin.register(VirtualMeeting)
class VirtualMeetingAdmin(admin.ModelAdmin):
    list_display = ("reference", "provider", "owner", "status", "start", "remote_id", "next_attempt_at")
    list_filter = ("provider", "status", "present", "hosting")
    search_fields = ("reference", "remote_id", "topic", "host")
    exclude = ("password",)

    def has_change_permission(self, request, obj=None):
        # Rows change through the services only; the admin is for looking.
        return False

    def has_add_permission(self, request):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by providers' webhooks and the poll: the admin is for looking."""

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MeetingParticipantInline(admin.TabularInline):
    model = MeetingParticipant
    fields = ("participant_key", "name", "email", "registrant_id", "joined_at", "left_at", "leave_reason", "source")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(MeetingOccurrence)
class MeetingOccurrenceAdmin(ReadOnlyAdmin):
    list_display = (
        "meeting",
        "uuid",
        "started_at",
        "ended_at",
        "participants_done_at",
        "recordings_done_at",
        "next_poll_at",
        "poll_attempts",
        "poll_error",
    )
    list_filter = ("provider",)
    search_fields = ("meeting__reference", "uuid", "meeting__remote_id")
    inlines = [MeetingParticipantInline]


@admin.register(MeetingRecording)
class MeetingRecordingAdmin(ReadOnlyAdmin):
    list_display = ("meeting", "occurrence", "file_type", "recording_type", "status", "recording_start")
    list_filter = ("status", "file_type")
    search_fields = ("meeting__reference", "remote_id", "occurrence")
    exclude = ("passcode",)
