"""Read-mostly admin views for support staff. Secrets and tokens are never shown here."""

from django.contrib import admin

from virtualmeeting.models import ProviderConfig, ProviderConnection, VirtualMeeting


@admin.register(ProviderConfig)
class ProviderConfigAdmin(admin.ModelAdmin):
    list_display = ("provider", "enabled", "client_id", "updated_at")
    # Secrets are set on the provider's settings page, where they are write-only.
    exclude = ("client_secret", "webhook_secret")


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
    list_filter = ("provider", "status", "present")
    search_fields = ("reference", "remote_id", "topic")
    exclude = ("password",)

    def has_change_permission(self, request, obj=None):
        # Rows change through the services only; the admin is for looking.
        return False

    def has_add_permission(self, request):
        return False
