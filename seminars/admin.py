"""Django admin for every seminars model: for inspection and repair by site admins.

Day-to-day work goes through the product's pages (which run the services and send
notifications); booking history is shown read-only here, since it is an audit trail.
"""

from django.contrib import admin
from django.db import models
from django.utils.translation import gettext_lazy, ngettext

from seminars.models import (
    Booking,
    BookingStateChange,
    CalendarFeed,
    Course,
    EmailTemplate,
    Enrolment,
    EventTrainer,
    HandoverRoom,
    Notification,
    OutboundEmail,
    ParticipantMatch,
    Profile,
    Room,
    RoomHandover,
    Seminar,
    SeminarEmailOff,
    SeminarEvent,
    Session,
    SessionAttendance,
)
from seminars.tasks import emails_send_again


class EnrolmentInline(admin.TabularInline):
    model = Enrolment
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]


class SeminarInline(admin.TabularInline):
    model = Seminar
    extra = 0
    fields = ["name"]
    show_change_link = True


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ["name", "short_name", "allow_self_enrolment", "created_at"]
    list_filter = ["allow_self_enrolment"]
    search_fields = ["name", "short_name", "summary"]
    inlines = [EnrolmentInline, SeminarInline]


@admin.register(Enrolment)
class EnrolmentAdmin(admin.ModelAdmin):
    list_display = ["user", "course", "role", "created_at"]
    list_filter = ["role", "course"]
    search_fields = ["user__username", "user__email", "user__first_name", "user__last_name", "course__name"]
    list_select_related = ["user", "course"]
    autocomplete_fields = ["user", "course"]


class SeminarEventInline(admin.TabularInline):
    model = SeminarEvent
    extra = 0
    fields = ["name", "capacity", "waitlist_enabled", "cancelled"]
    show_change_link = True


@admin.register(Seminar)
class SeminarAdmin(admin.ModelAdmin):
    list_display = ["name", "course", "approval_type", "created_at"]
    list_filter = ["course", "approval_type"]
    search_fields = ["name", "description", "course__name"]
    list_select_related = ["course"]
    autocomplete_fields = ["course"]
    inlines = [SeminarEventInline]


class SessionInline(admin.TabularInline):
    model = Session
    extra = 0
    fields = ["start", "finish", "time_zone", "room"]
    autocomplete_fields = ["room"]


class EventTrainerInline(admin.TabularInline):
    # Repair only: the event form checks that trainers are course staff and warns of conflicts.
    model = EventTrainer
    extra = 0
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]
    autocomplete_fields = ["user"]


@admin.register(SeminarEvent)
class SeminarEventAdmin(admin.ModelAdmin):
    list_display = ["__str__", "seminar", "capacity", "waitlist_enabled", "cancelled", "created_at"]
    list_filter = ["cancelled", "waitlist_enabled", "cancellation_policy", "seminar__course"]
    search_fields = ["name", "details", "seminar__name", "seminar__course__name"]
    list_select_related = ["seminar"]
    autocomplete_fields = ["seminar", "created_by"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [SessionInline, EventTrainerInline]


@admin.register(EventTrainer)
class EventTrainerAdmin(admin.ModelAdmin):
    list_display = ["user", "event", "role", "created_at"]
    list_filter = ["role", "event__seminar__course"]
    search_fields = ["user__username", "user__email", "user__first_name", "user__last_name", "event__name"]
    list_select_related = ["user", "event"]
    autocomplete_fields = ["user", "event"]
    readonly_fields = ["created_at"]


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ["name", "capacity", "site_room", "virtual_kind", "allow_conflicts", "event"]
    list_filter = [("event", admin.EmptyFieldListFilter), "virtual_kind", "virtual_hosting", "allow_conflicts"]
    search_fields = ["name", "description"]
    list_select_related = ["event"]
    autocomplete_fields = ["event", "created_by"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    @admin.display(boolean=True, description=gettext_lazy("Site room"))
    def site_room(self, room):
        return room.is_site_room


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):
    list_display = ["event", "start", "finish", "time_zone", "room"]
    list_filter = ["time_zone", "event__cancelled"]
    search_fields = ["event__name", "event__seminar__name", "room__name"]
    list_select_related = ["event", "room"]
    autocomplete_fields = ["event", "room"]
    date_hierarchy = "start"


class BookingStateChangeInline(admin.TabularInline):
    model = BookingStateChange
    extra = 0
    fields = ["state", "changed_by", "changed_at", "source", "session", "reason"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    list_display = ["user", "event", "state", "created_at", "updated_at"]
    list_filter = ["state", "event__seminar__course"]
    search_fields = ["user__username", "user__email", "event__name", "event__seminar__name"]
    list_select_related = ["user", "event"]
    autocomplete_fields = ["user", "event"]
    readonly_fields = ["updated_at", "manager_approved_by", "manager_approved_at"]
    inlines = [BookingStateChangeInline]


@admin.register(BookingStateChange)
class BookingStateChangeAdmin(admin.ModelAdmin):
    list_display = ["booking", "state", "changed_by", "changed_at", "source", "reason"]
    list_filter = ["state", "source"]
    search_fields = ["booking__user__username", "booking__event__name"]
    list_select_related = ["booking__user", "booking__event", "changed_by"]
    autocomplete_fields = ["booking", "changed_by"]
    date_hierarchy = "changed_at"


@admin.register(SessionAttendance)
class SessionAttendanceAdmin(admin.ModelAdmin):
    """Per-session attendance, read-only: confirming on the sign-in sheet also decides the booking's
    event-level state and history, which an edit here would skip."""

    list_display = ["booking", "session", "state", "minutes", "source", "confirmed_by", "proposed_state"]
    list_filter = ["state", "source", "proposed_state"]
    search_fields = ["booking__user__username", "booking__user__email", "booking__event__name"]
    list_select_related = ["booking__user", "booking__event", "session__event", "confirmed_by"]
    readonly_fields = [f.name for f in SessionAttendance._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(ParticipantMatch)
class ParticipantMatchAdmin(admin.ModelAdmin):
    """Trainers' matches of meeting participants, read-only: a change on the sign-in sheet also proposes
    the session's attendance again, which an edit here would skip."""

    list_display = ["session", "participant_key", "occurrence", "booking", "matched_by", "matched_at"]
    search_fields = ["booking__user__username", "participant_key", "session__event__name"]
    list_select_related = ["session__event", "booking__user", "matched_by"]
    readonly_fields = [f.name for f in ParticipantMatch._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["subject", "user", "created_at", "read_at"]
    list_filter = [("read_at", admin.EmptyFieldListFilter)]
    search_fields = ["subject", "body", "user__username", "user__email"]
    list_select_related = ["user"]
    autocomplete_fields = ["user"]
    date_hierarchy = "created_at"


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    """Where site admins set a user's manager (who approves their requests where a seminar asks for it)."""

    list_display = ["user", "manager", "time_zone"]
    list_filter = ["time_zone"]
    search_fields = ["user__username", "user__email", "time_zone", "manager__username", "manager__email"]
    list_select_related = ["user", "manager"]
    autocomplete_fields = ["user", "manager"]


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    """What was emailed, what waits for a retry, and what failed (with the last error): read-only."""

    list_display = ["kind", "to", "state", "attempts", "next_attempt_at", "sent_at", "created_at"]
    list_filter = ["state", "kind"]
    search_fields = ["to", "key"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in OutboundEmail._meta.fields]
    actions = ["send_again"]

    def has_add_permission(self, request):
        return False  # emails are recorded by the services, with the change they report

    @admin.action(description=gettext_lazy("Send the selected failed or waiting emails now"))
    def send_again(self, request, queryset):
        count = emails_send_again(email_ids=queryset.values_list("pk", flat=True))
        self.message_user(
            request,
            ngettext("%(count)d email queued to be sent again.", "%(count)d emails queued to be sent again.", count)
            % {"count": count},
        )


class HandoverRoomInline(admin.TabularInline):
    model = HandoverRoom
    fields = ["room", "room_name", "from_owner", "from_hosting", "from_host", "from_host_email"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(RoomHandover)
class RoomHandoverAdmin(admin.ModelAdmin):
    """The record of room handovers (made on the product's "Room handovers" pages): read only."""

    list_display = ["created_at", "created_by", "from_owner", "to_hosting", "to_owner", "to_host_email", "provider"]
    list_filter = ["provider", "to_hosting"]
    list_select_related = ["created_by", "from_owner", "to_owner"]
    search_fields = ["from_owner__username", "to_owner__username", "to_host_email", "rooms__room_name"]
    inlines = [HandoverRoomInline]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in RoomHandover._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(HandoverRoom)
class HandoverRoomAdmin(admin.ModelAdmin):
    list_display = ["room_name", "handover", "from_owner", "from_hosting", "from_host_email"]
    list_select_related = ["handover", "from_owner"]
    search_fields = ["room_name"]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in HandoverRoom._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    """Who has a calendar feed, and since when. The token is the feed's only credential: never shown
    here; a user resets their own link on their profile, and deleting the row here revokes it."""

    list_display = ["user", "created_at"]
    search_fields = ["user__username", "user__email"]
    list_select_related = ["user"]
    fields = ["user", "created_at"]
    readonly_fields = ["user", "created_at"]

    def has_add_permission(self, request):
        return False


@admin.register(EmailTemplate)
class EmailTemplateAdmin(admin.ModelAdmin):
    """The email templates: edited on the product's "Email templates" pages (with preview and placeholders);
    here for inspection and repair. Saving runs the same check (the model's clean)."""

    list_display = ["email_type", "seminar", "subject", "updated_by", "updated_at"]
    list_filter = ["email_type"]
    search_fields = ["subject", "body", "seminar__name"]
    list_select_related = ["seminar", "updated_by"]
    autocomplete_fields = ["seminar", "updated_by"]


@admin.register(SeminarEmailOff)
class SeminarEmailOffAdmin(admin.ModelAdmin):
    list_display = ["seminar", "email_type", "switched_off_by", "switched_off_at"]
    list_filter = ["email_type"]
    list_select_related = ["seminar", "switched_off_by"]
    autocomplete_fields = ["seminar", "switched_off_by"]
