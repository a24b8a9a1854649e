"""Courses, seminars, events, sessions, rooms and bookings.

Times are stored in UTC; each session carries the IANA zone it is held in.
Business rules live in seminars.services; the models hold data and the
constraints the database can enforce.
"""

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from seminars.email_types import BODY_MAX_LENGTH, EMAIL_TYPES, SUBJECT_MAX_LENGTH, email_type_choices, template_errors
from seminars.timezones import validate_time_zone
from seminars.validators import (
    ATTENDED_PERCENT_MAX,
    ATTENDED_PERCENT_MIN,
    CAPACITY_MAX,
    CAPACITY_MIN,
    CUTOFF_HOURS_MAX,
    REASON_MAX_LENGTH,
    validate_attended_percent,
    validate_capacity,
    validate_cutoff_hours,
    validate_minimum_bookings,
    validate_multi_line,
    validate_reminder_offsets,
    validate_room_capacity,
    validate_session_moment,
    validate_single_line,
)


class Course(models.Model):
    name = models.CharField(max_length=255, validators=[validate_single_line])
    short_name = models.CharField(max_length=100, blank=True, validators=[validate_single_line])
    summary = models.TextField(blank=True, validators=[validate_multi_line])
    allow_self_enrolment = models.BooleanField(
        default=False, help_text=_("Learners may enrol themselves from the course list.")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        permissions = [("manage_site", "Can administer seminars site-wide (site admin)")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("seminars:course", args=[self.pk])


class Enrolment(models.Model):
    class Role(models.TextChoices):
        LEARNER = "learner", _("Learner")
        TRAINER = "trainer", _("Trainer")
        EDITING_TRAINER = "editingtrainer", _("Editing trainer")

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="enrolments")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrolments")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.LEARNER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["course", "user"], name="seminars_enrolment_unique")]

    def __str__(self):
        return f"{self.user} in {self.course} as {self.get_role_display()}"


class Seminar(models.Model):
    """A seminar activity in a course."""

    class ApprovalType(models.TextChoices):
        """Who approves a learner's request for a place (seminars.permissions.request_awaits)."""

        NONE = "none", _("No approval: learners book directly")
        TRAINER = "trainer", _("A trainer of the course")
        ADMIN = "admin", _("A site admin")
        MANAGER = "manager", _("The learner's manager")
        MANAGER_THEN_ADMIN = "manager_admin", _("The learner's manager, then a site admin")

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="seminars")
    name = models.CharField(max_length=255, validators=[validate_single_line])
    description = models.TextField(blank=True, validators=[validate_multi_line])
    # The share of a session's scheduled minutes that counts as fully attended; None: the site's
    # default (seminars.selectors.attendance).
    attended_percent = models.PositiveSmallIntegerField(
        _("attended from (% of a session)"), null=True, blank=True, validators=[validate_attended_percent]
    )
    # Hours before an event's first session when booked learners and trainers get a reminder, e.g.
    # "24, 1"; blank: the site's default (settings.SEMINARS_REMINDER_OFFSETS_HOURS, seminars.reminders).
    reminder_offsets = models.CharField(
        _("reminders (hours before the start)"), max_length=50, blank=True, validators=[validate_reminder_offsets]
    )
    approval_type = models.CharField(
        _("approval"), max_length=20, choices=ApprovalType.choices, default=ApprovalType.NONE
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(attended_percent__isnull=True)
                | Q(attended_percent__gte=ATTENDED_PERCENT_MIN, attended_percent__lte=ATTENDED_PERCENT_MAX),
                name="seminars_seminar_attended_percent_range",
            )
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("seminars:seminar", args=[self.pk])

    @property
    def needs_approval(self) -> bool:
        return self.approval_type != self.ApprovalType.NONE


class SeminarEvent(models.Model):
    class CancellationPolicy(models.TextChoices):
        ANY_TIME = "any", _("At any time")
        CUTOFF = "cutoff", _("Until the cut-off before the event starts")
        NEVER = "never", _("Never")

    seminar = models.ForeignKey(Seminar, on_delete=models.CASCADE, related_name="events")
    name = models.CharField(
        max_length=255,
        blank=True,
        validators=[validate_single_line],
        help_text=_("Optional; shown with the seminar's name."),
    )
    details = models.TextField(blank=True, validators=[validate_multi_line])
    capacity = models.PositiveIntegerField(validators=[validate_capacity], default=10)
    waitlist_enabled = models.BooleanField(default=False, help_text=_("When full, learners join a waitlist."))
    cancellation_policy = models.CharField(
        max_length=10, choices=CancellationPolicy.choices, default=CancellationPolicy.CUTOFF
    )
    cancellation_cutoff_hours = models.PositiveIntegerField(default=24, validators=[validate_cutoff_hours])
    # Learners sign up from `registration_opens_at` until `registration_closes_at` (either may be
    # unset), and never once the first session has started (seminars.selectors.bookings).
    registration_opens_at = models.DateTimeField(
        _("registration opens at"), null=True, blank=True, validators=[validate_session_moment]
    )
    registration_closes_at = models.DateTimeField(
        _("registration closes at"), null=True, blank=True, validators=[validate_session_moment]
    )
    # Fewer booked learners than this some hours before the start (SEMINARS_MINIMUM_WARNING_HOURS)
    # and the trainers are warned, once (seminars.minimum_warnings).
    minimum_bookings = models.PositiveIntegerField(
        _("minimum bookings"), null=True, blank=True, validators=[validate_minimum_bookings]
    )
    minimum_warning_sent_at = models.DateTimeField(_("minimum warning sent at"), null=True, blank=True, editable=False)
    cancelled = models.BooleanField(default=False)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The one-time token of the "Add event" form that created this event: a second submit of
    # the same form finds the event instead of creating another.
    creation_token = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(capacity__gte=CAPACITY_MIN, capacity__lte=CAPACITY_MAX),
                name="seminars_event_capacity_range",
            ),
            models.CheckConstraint(
                condition=Q(cancellation_cutoff_hours__lte=CUTOFF_HOURS_MAX), name="seminars_event_cutoff_hours_range"
            ),
            models.CheckConstraint(
                condition=Q(registration_opens_at__isnull=True)
                | Q(registration_closes_at__isnull=True)
                | Q(registration_closes_at__gt=F("registration_opens_at")),
                name="seminars_event_registration_window",
            ),
            models.CheckConstraint(
                condition=Q(minimum_bookings__isnull=True)
                | Q(minimum_bookings__gte=CAPACITY_MIN, minimum_bookings__lte=F("capacity")),
                name="seminars_event_minimum_bookings_range",
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("seminars:event", args=[self.pk])

    @property
    def title(self):
        return self.name or _("Event %(number)s") % {"number": self.pk}


class EventTrainer(models.Model):
    """A person who runs an event, in a role. Only the course's staff (trainers and editing trainers)
    can be assigned; who the event's trainers are is decided in seminars.selectors.trainers."""

    class Role(models.TextChoices):
        TRAINER = "trainer", _("Trainer")
        FACILITATOR = "facilitator", _("Facilitator")

    event = models.ForeignKey(SeminarEvent, verbose_name=_("event"), on_delete=models.CASCADE, related_name="trainers")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("person"), on_delete=models.CASCADE, related_name="events_trained"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.TRAINER)
    created_at = models.DateTimeField(_("assigned at"), default=timezone.now)

    class Meta:
        verbose_name = _("event trainer")
        verbose_name_plural = _("event trainers")
        ordering = ["event", "pk"]
        constraints = [models.UniqueConstraint(fields=["event", "user"], name="seminars_event_trainer_unique")]

    def __str__(self):
        return f"{self.user} on {self.event}: {self.get_role_display()}"


class Room(models.Model):
    """A site room (reusable, managed by admins) or an ad-hoc room (belongs to one event).

    `virtual_kind` says what the virtual room link is: "" none, "custom" (the URL
    in `virtual_url`), or the id of a meeting provider (e.g. "zoom"), whose
    meetings are owned by `created_by`.
    """

    CUSTOM_LINK = "custom"
    HOSTING_USER = "user"
    HOSTING_ACCOUNT = "account"

    name = models.CharField(max_length=255, validators=[validate_single_line])
    capacity = models.PositiveIntegerField(validators=[validate_room_capacity])
    description = models.TextField(blank=True, validators=[validate_multi_line])
    event = models.ForeignKey(
        SeminarEvent,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="adhoc_rooms",
        help_text=_("Set for ad-hoc rooms: the one event the room belongs to."),
    )
    allow_conflicts = models.BooleanField(default=False, help_text=_("Site rooms: allow overlapping bookings."))
    virtual_kind = models.CharField(max_length=50, blank=True)
    virtual_url = models.URLField(max_length=1000, blank=True, validators=[validate_single_line])
    # A provider-backed room's meetings are made in `created_by`'s own connection ("user"), or in the site's
    # account for a host ("account": the provider's id and email of a user of that account). Set when the room
    # is made (or switched to a provider) from the provider's setting then; an existing room keeps its own.
    virtual_hosting = models.CharField(
        max_length=20,
        choices=[(HOSTING_USER, _("Owner's own account")), (HOSTING_ACCOUNT, _("Site account"))],
        default=HOSTING_USER,
    )
    virtual_host = models.CharField(max_length=255, blank=True)
    virtual_host_email = models.CharField(max_length=254, blank=True)
    # In the site's account: the emails of users of that account who may start its meetings besides the host
    # (the provider's "alternative hosts"); checked with the provider when they are named.
    virtual_alternative_hosts = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(capacity__gte=CAPACITY_MIN, capacity__lte=CAPACITY_MAX), name="seminars_room_capacity_range"
            ),
            # A provider-backed room is always ad-hoc.
            models.CheckConstraint(
                condition=Q(virtual_kind__in=["", "custom"]) | Q(event__isnull=False),
                name="seminars_room_provider_adhoc_only",
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("seminars:room", args=[self.pk])

    @property
    def is_site_room(self):
        return self.event_id is None

    @property
    def is_provider_backed(self):
        return self.virtual_kind not in ("", self.CUSTOM_LINK)

    @property
    def in_site_account(self):
        """Its meetings are made in the site's account for `virtual_host`, not in the owner's connection."""
        return self.is_provider_backed and self.virtual_hosting == self.HOSTING_ACCOUNT


class RoomHandover(models.Model):
    """A site admin handing provider-backed rooms to another owner (their own connection) or another host (a user
    of the site's account): who, when, to whom, why. The rooms and where each was before are its `rooms`
    (HandoverRoom); the meetings move in the background (seminars.selectors.handovers.handover_progress)."""

    created_at = models.DateTimeField(_("handed over at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    provider = models.CharField(_("provider"), max_length=50)
    # "Every room of a trainer": that trainer; one room: the room's owner then.
    from_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("from"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_hosting = models.CharField(_("to"), max_length=20, choices=Room._meta.get_field("virtual_hosting").choices)
    to_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("new owner"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_host = models.CharField(_("new host"), max_length=255, blank=True)
    to_host_email = models.CharField(_("new host's email"), max_length=254, blank=True)
    to_host_name = models.CharField(_("new host's name"), max_length=255, blank=True)
    reason = models.TextField(_("reason"), max_length=REASON_MAX_LENGTH, blank=True, validators=[validate_multi_line])

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("room handover")

    def __str__(self):
        return f"Handover {self.pk} at {self.created_at:%Y-%m-%d %H:%M} UTC"

    def get_absolute_url(self):
        return reverse("seminars:handover", args=[self.pk])


class HandoverRoom(models.Model):
    """A room of a handover, and where its meetings were made before it."""

    handover = models.ForeignKey(RoomHandover, on_delete=models.CASCADE, related_name="rooms")
    room = models.ForeignKey(Room, null=True, on_delete=models.SET_NULL, related_name="handovers")
    room_name = models.CharField(max_length=255)
    from_owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    from_hosting = models.CharField(max_length=20, choices=Room._meta.get_field("virtual_hosting").choices)
    from_host = models.CharField(max_length=255, blank=True)
    from_host_email = models.CharField(max_length=254, blank=True)

    class Meta:
        ordering = ["room_name", "pk"]
        constraints = [models.UniqueConstraint(fields=["handover", "room"], name="seminars_handoverroom_once")]

    def __str__(self):
        return self.room_name


class Session(models.Model):
    """A session date of an event: start and finish in UTC, held in `time_zone`."""

    event = models.ForeignKey(SeminarEvent, on_delete=models.CASCADE, related_name="sessions")
    start = models.DateTimeField(validators=[validate_session_moment])
    finish = models.DateTimeField(validators=[validate_session_moment])
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    room = models.ForeignKey(Room, null=True, blank=True, on_delete=models.SET_NULL, related_name="sessions")

    class Meta:
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(condition=Q(finish__gt=F("start")), name="seminars_session_finish_after_start")
        ]
        indexes = [
            models.Index(fields=["room", "start", "finish"], name="seminars_session_room_time"),
            # The sessions starting soon (reminders, minimum warnings), without reading the history.
            models.Index(fields=["start", "event"], name="seminars_session_start"),
        ]

    def __str__(self):
        return f"{self.event} {self.start:%Y-%m-%d %H:%M} UTC"


class Booking(models.Model):
    """A learner's signup for an event. Its history is kept in BookingStateChange."""

    class State(models.TextChoices):
        BOOKED = "booked", _("Booked")
        WAITLISTED = "waitlisted", _("Waitlisted")
        USER_CANCELLED = "user_cancelled", _("Cancelled")
        EVENT_CANCELLED = "event_cancelled", _("Event cancelled")
        NO_SHOW = "no_show", _("No show")
        PARTIALLY_ATTENDED = "partially_attended", _("Partially attended")
        FULLY_ATTENDED = "fully_attended", _("Fully attended")
        # A learner's request for a place on a seminar that needs approval: it holds no seat and is
        # not on the waitlist until approved (seminars.services.approvals).
        REQUESTED = "requested", _("Requested")
        DECLINED = "declined", _("Declined")
        REQUEST_EXPIRED = "request_expired", _("Request expired")

    # States that hold a seat.
    SEAT_STATES = (State.BOOKED, State.NO_SHOW, State.PARTIALLY_ATTENDED, State.FULLY_ATTENDED)
    ATTENDANCE_STATES = (State.NO_SHOW, State.PARTIALLY_ATTENDED, State.FULLY_ATTENDED)

    event = models.ForeignKey(SeminarEvent, on_delete=models.CASCADE, related_name="bookings")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bookings")
    state = models.CharField(max_length=30, choices=State.choices, default=State.BOOKED)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # "Manager, then a site admin": the manager's approval, the first of the two steps. A request
    # with it set awaits a site admin (seminars.permissions.request_awaits).
    manager_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by the manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    manager_approved_at = models.DateTimeField(_("manager approved at"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["event", "user"], name="seminars_booking_unique")]
        indexes = [models.Index(fields=["state", "event"], name="seminars_booking_state_event")]

    def __str__(self):
        return f"{self.user} on {self.event}: {self.get_state_display()}"


class AttendanceSource(models.TextChoices):
    """Where the evidence for an attendance state came from."""

    REGISTRANT = "registrant", _("Personal join link")
    EMAIL = "email", _("Email address")
    NOT_SEEN = "not_seen", _("Not among the meeting's participants")
    HAND_MATCHED = "hand_matched", _("Participant matched by hand")
    MANUAL = "manual", _("Set by hand")


class BookingStateChange(models.Model):
    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="history")
    state = models.CharField(max_length=30, choices=Booking.State.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)
    # For attendance states: the evidence, and the session whose confirmation decided the
    # event-level state (None when set for the event as a whole).
    source = models.CharField(_("source"), max_length=20, choices=AttendanceSource.choices, blank=True)
    session = models.ForeignKey(
        Session,
        verbose_name=_("session"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Why the booking entered this state, as typed: a learner's or a trainer's cancellation, an
    # event's cancellation, staff removing or moving the learner (told to them); empty otherwise.
    reason = models.TextField(_("reason"), max_length=REASON_MAX_LENGTH, blank=True, validators=[validate_multi_line])

    class Meta:
        ordering = ["changed_at", "pk"]

    def __str__(self):
        return f"{self.get_state_display()} at {self.changed_at:%Y-%m-%d %H:%M} UTC"


class SessionAttendance(models.Model):
    """A booked learner's attendance in one session: the trainer's decision and the evidence proposed.

    `state`, `minutes` and `source` are what a trainer confirmed (blank state: not set yet);
    `proposed_*` is what the meeting's participant data suggests. A proposal arriving after
    the confirmation is stored beside it and never replaces it.
    """

    STATE_CHOICES = [
        (Booking.State.NO_SHOW.value, _("No show")),
        (Booking.State.PARTIALLY_ATTENDED.value, _("Partially attended")),
        (Booking.State.FULLY_ATTENDED.value, _("Fully attended")),
    ]
    # A proposal that is not a state: present, but the provider gave no times.
    PRESENT_MINUTES_UNKNOWN = "present"
    PROPOSAL_CHOICES = [*STATE_CHOICES, (PRESENT_MINUTES_UNKNOWN, _("Present, minutes unknown"))]

    booking = models.ForeignKey(
        Booking, verbose_name=_("booking"), on_delete=models.CASCADE, related_name="session_attendance"
    )
    session = models.ForeignKey(Session, verbose_name=_("session"), on_delete=models.CASCADE, related_name="attendance")
    state = models.CharField(_("state"), max_length=30, blank=True, choices=STATE_CHOICES)
    minutes = models.PositiveIntegerField(_("minutes"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=20, blank=True, choices=AttendanceSource.choices)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    proposed_state = models.CharField(_("proposed state"), max_length=30, blank=True, choices=PROPOSAL_CHOICES)
    proposed_minutes = models.PositiveIntegerField(_("proposed minutes"), null=True, blank=True)
    proposed_source = models.CharField(
        _("evidence of the proposal"), max_length=20, blank=True, choices=AttendanceSource.choices
    )
    proposed_at = models.DateTimeField(_("proposed at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("session attendance")
        verbose_name_plural = _("session attendance")
        ordering = ["session__start", "booking__created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["booking", "session"], name="seminars_session_attendance_unique")
        ]

    def __str__(self):
        return f"{self.booking} in {self.session}: {self.get_state_display() or '-'}"

    @property
    def is_confirmed(self) -> bool:
        return bool(self.state)

    @property
    def later_data_differs(self) -> bool:
        """Meeting data that arrived after the confirmation says something else (shown beside it)."""
        if not self.is_confirmed or not self.proposed_at or self.proposed_at <= self.confirmed_at:
            return False
        return (self.proposed_state, self.proposed_minutes) != (self.state, self.minutes)


class ParticipantMatch(models.Model):
    """A trainer's decision about one meeting participant nobody could match: whose it is, or ignore it.

    A participant is one device in one occurrence of the session's meeting: (`occurrence`, the
    provider's occurrence id, "" for the latest; `participant_key`, the provider's key for the
    device). `booking` None means ignored (a guest, the host's second device). Kept as plain keys,
    not links to the meeting's rows, so the decision outlives a re-read of the provider's data.
    """

    session = models.ForeignKey(
        Session, verbose_name=_("session"), on_delete=models.CASCADE, related_name="participant_matches"
    )
    occurrence = models.CharField(_("occurrence"), max_length=255, blank=True)
    participant_key = models.CharField(_("participant key"), max_length=255)
    booking = models.ForeignKey(
        Booking,
        verbose_name=_("booking"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="participant_matches",
    )
    matched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("matched by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    matched_at = models.DateTimeField(_("matched at"), default=timezone.now)

    class Meta:
        verbose_name = _("participant match")
        verbose_name_plural = _("participant matches")
        constraints = [
            models.UniqueConstraint(
                fields=["session", "occurrence", "participant_key"], name="seminars_participant_match_unique"
            )
        ]

    def __str__(self):
        target = self.booking_id or "ignored"
        return f"{self.session_id} {self.occurrence or 'latest'}/{self.participant_key}: {target}"

    @property
    def ignored(self) -> bool:
        return self.booking_id is None


class Notification(models.Model):
    """An in-app notification (the list in the header); the same text is also emailed."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    subject = models.CharField(max_length=255)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return self.subject


class Profile(models.Model):
    """Per-user preferences (the time zone times are shown in beside the session's own zone) and the
    user's manager, set by site admins, who approves their requests on seminars that ask for it."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="seminar_profile")
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_profiles",
        help_text=_("Approves this user's requests for a place where a seminar asks for the manager's approval."),
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(manager__isnull=True) | ~Q(manager=F("user")), name="seminars_profile_not_own_manager"
            )
        ]

    def __str__(self):
        return f"{self.user}: {self.time_zone}"

    def clean(self):
        super().clean()
        if self.manager_id is not None and self.manager_id == self.user_id:
            raise ValidationError({"manager": _("A user cannot be their own manager.")})


class OutboundEmail(models.Model):
    """One email to one address, sent by a Celery task at most once per `key` (see seminars.outbox).

    The row is written with the change it reports (in the same transaction), so a
    committed change always has its email recorded; the task claims the row with a
    conditional UPDATE before sending and marks it sent after, so a redelivered
    task never sends it twice.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        SKIPPED = "skipped", _("Nothing to send")
        FAILED = "failed", _("Failed")

    key = models.CharField(_("key"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=30)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    to = models.CharField(_("to"), max_length=254)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # When the row may next be claimed: the next retry, or the end of a sending worker's lease.
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbound email")
        verbose_name_plural = _("outbound emails")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="seminars_outbound_due")]

    def __str__(self):
        return f"{self.kind} to {self.to}: {self.get_state_display()}"


def calendar_feed_token() -> str:
    return secrets.token_urlsafe(32)


class CalendarFeed(models.Model):
    """A user's private calendar subscription: whoever holds the token reads their sessions, so it can be reset."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed")
    token = models.CharField(max_length=64, unique=True, default=calendar_feed_token, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"Calendar feed of {self.user}"


class EmailTemplate(models.Model):
    """The subject and body of one email type (seminars.email_types), site-wide or for one seminar.

    The email in effect is the seminar's copy, else the site's, else the type's shipped default
    (seminars.selectors.email_templates). Written by seminars.services.email_templates, which
    refuses a template that would not render (`clean` says the same in the Django admin).
    """

    email_type = models.CharField(_("email"), max_length=40, choices=email_type_choices)
    seminar = models.ForeignKey(
        Seminar,
        verbose_name=_("seminar"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="email_templates",
        help_text=_("Blank: the site's template."),
    )
    subject = models.CharField(_("subject"), max_length=SUBJECT_MAX_LENGTH)
    body = models.TextField(_("text"), max_length=BODY_MAX_LENGTH)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("updated by"), on_delete=models.SET_NULL, null=True, blank=True
    )
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("email template")
        verbose_name_plural = _("email templates")
        ordering = ["email_type", "seminar_id"]
        constraints = [
            # Two constraints: NULL seminars are never equal to each other in a plain unique constraint.
            models.UniqueConstraint(
                fields=["email_type"], condition=Q(seminar__isnull=True), name="seminars_emailtemplate_one_site"
            ),
            models.UniqueConstraint(
                fields=["email_type", "seminar"],
                condition=Q(seminar__isnull=False),
                name="seminars_emailtemplate_one_per_seminar",
            ),
        ]

    def __str__(self):
        return f"{self.email_type} ({self.seminar or _('site')})"

    def clean(self):
        kind = EMAIL_TYPES.get(self.email_type)
        if kind is None:
            return  # the field's choices report it
        errors = template_errors(kind, subject=self.subject, body=self.body)
        if self.seminar_id and not kind.per_seminar:
            errors.setdefault("seminar", []).append(_("This email is site-wide: a seminar cannot have its own."))
        if errors:
            raise ValidationError(errors)


class SeminarEmailOff(models.Model):
    """An email type a seminar does not send (only types a seminar may switch off, see seminars.email_types)."""

    seminar = models.ForeignKey(Seminar, verbose_name=_("seminar"), on_delete=models.CASCADE, related_name="emails_off")
    email_type = models.CharField(_("email"), max_length=40, choices=email_type_choices)
    switched_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("switched off by"), on_delete=models.SET_NULL, null=True, blank=True
    )
    switched_off_at = models.DateTimeField(_("switched off at"), default=timezone.now)

    class Meta:
        verbose_name = _("email switched off in a seminar")
        verbose_name_plural = _("emails switched off in seminars")
        constraints = [
            models.UniqueConstraint(fields=["seminar", "email_type"], name="seminars_seminaremailoff_once"),
        ]

    def __str__(self):
        return f"{self.email_type} off in {self.seminar}"

    def clean(self):
        kind = EMAIL_TYPES.get(self.email_type)
        if kind is not None and not (kind.optional and kind.per_seminar):
            raise ValidationError({"email_type": _("This email cannot be switched off.")})
