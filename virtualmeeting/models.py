"""Meetings, connections and provider configuration.

This app knows meetings and connections, nothing of seminars: the part of the
product that wants a meeting names it by a `reference` string it owns (for
seminars, one per session and room) and tells the desired state through
`virtualmeeting.services`.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from virtualmeeting.fields import EncryptedTextField


class ProviderConfig(models.Model):
    """Site-level configuration of one provider, edited on its settings page.

    A provider may offer two ways to host meetings: each user connects their own account (an OAuth
    app: client_id, client_secret, ProviderConnection rows), or one account of the organisation hosts
    them all (an app-only grant: account_id, account_client_id, account_client_secret). `hosting` is
    the way new rooms use; both may be configured at once.
    """

    class Hosting(models.TextChoices):
        USER = "user", _("Each user connects their own account")
        ACCOUNT = "account", _("One account for the whole site")

    provider = models.CharField(max_length=50, unique=True)
    enabled = models.BooleanField(default=False)
    client_id = models.CharField(max_length=255, blank=True)
    client_secret = EncryptedTextField(blank=True)
    hosting = models.CharField(max_length=20, choices=Hosting.choices, default=Hosting.USER)
    # The organisation's account and its app-only credentials (Zoom: a Server-to-Server OAuth app).
    account_id = models.CharField(max_length=255, blank=True)
    account_client_id = models.CharField(max_length=255, blank=True)
    account_client_secret = EncryptedTextField(blank=True)
    # Secret token Zoom signs webhooks with (or another provider's equivalent).
    webhook_secret = EncryptedTextField(blank=True)
    # Non-secret provider options (meeting defaults, limits), validated by the provider's settings form.
    options = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.provider} ({'enabled' if self.enabled else 'disabled'})"


class ProviderConnection(models.Model):
    """A user's connected account at a provider (OAuth tokens kept encrypted)."""

    class Status(models.TextChoices):
        CONNECTED = "connected", _("Connected")
        REVOKED = "revoked", _("Reconnect needed")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="meeting_connections")
    provider = models.CharField(max_length=50)
    remote_account_id = models.CharField(max_length=255)
    name = models.CharField(max_length=255, blank=True)
    email = models.CharField(max_length=255, blank=True)
    access_token = EncryptedTextField(blank=True)
    refresh_token = EncryptedTextField(blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    scopes = models.TextField(blank=True, help_text=_("Granted scopes, space separated."))
    extra = models.JSONField(default=dict, blank=True, help_text=_("Provider facts: licence type, account id, ..."))
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CONNECTED)
    status_message = models.TextField(blank=True)
    connected_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "provider"], name="vm_connection_unique_user_provider")]

    def __str__(self):
        return f"{self.user} @ {self.provider}: {self.name} <{self.email}>"

    @property
    def is_usable(self) -> bool:
        return self.status == self.Status.CONNECTED and bool(self.access_token or self.refresh_token)


class OAuthState(models.Model):
    """Single-use server-side state of a connect flow, bound to a user, carrying the PKCE verifier."""

    state = models.CharField(max_length=128, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    provider = models.CharField(max_length=50)
    code_verifier = EncryptedTextField()
    redirect_uri = models.CharField(max_length=500)
    opener_origin = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.provider} connect flow of {self.user} ({'used' if self.used_at else 'open'})"


def new_marker() -> str:
    return f"vm-{uuid.uuid4().hex}"


class VirtualMeeting(models.Model):
    """One remote meeting the product wants (or wanted): desired state and remote state.

    The row is the truth about what should exist. `desired_version` goes up on
    every change of the desired state; a worker makes the provider match and
    records `synced_version`. A row whose meeting must go away keeps
    `present=False` until the remote delete is done (then status "deleted").
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        CREATING = "creating", _("Creating")
        AVAILABLE = "available", _("Available")
        UPDATING = "updating", _("Updating")
        DELETING = "deleting", _("Deleting")
        DELETED = "deleted", _("Deleted")
        WAITING = "waiting", _("Waiting for a limit")
        FAILED = "failed", _("Failed")
        # The provider is disabled on the site: the work waits until it is enabled again.
        HELD = "held", _("Held (provider disabled)")

    Hosting = ProviderConfig.Hosting

    reference = models.CharField(max_length=200, unique=True, help_text=_("The owning app's key for this meeting."))
    provider = models.CharField(max_length=50)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_meetings"
    )
    # Where the meeting is made: the owner's own connection ("user"), or the site's account for `host`
    # ("account": the provider's id of a user of the organisation's account, who hosts it).
    hosting = models.CharField(
        max_length=20, choices=ProviderConfig.Hosting.choices, default=ProviderConfig.Hosting.USER
    )
    host = models.CharField(
        max_length=255, blank=True, help_text=_("Site account: the host user's id at the provider.")
    )
    # Site account: the emails of the account's users who may also start the meeting (the provider's
    # "alternative hosts"); a provider without them ignores this.
    alternative_hosts = models.JSONField(default=list, blank=True)

    # Desired state.
    present = models.BooleanField(default=True)
    topic = models.CharField(max_length=300, blank=True)
    start = models.DateTimeField(null=True, blank=True)
    finish = models.DateTimeField(null=True, blank=True)
    time_zone = models.CharField(max_length=64, blank=True, help_text=_("IANA time zone of the session."))
    agenda = models.TextField(blank=True)
    # Give each registrant a personal join link (the meeting then requires registration, when the
    # provider and the owner's account allow it: see `registration`).
    personal_links = models.BooleanField(default=False)
    desired_version = models.PositiveIntegerField(default=1)

    # Remote state.
    remote_id = models.CharField(max_length=255, blank=True, help_text=_("The provider's meeting id (Zoom: int64)."))
    join_url = models.TextField(blank=True)
    password = EncryptedTextField(blank=True)
    host_email = models.CharField(max_length=255, blank=True)
    synced_version = models.PositiveIntegerField(default=0)
    synced_spec = models.JSONField(default=dict, blank=True, help_text=_("The spec last applied remotely."))
    # The remote meeting requires registration: its registrants can be registered.
    registration = models.BooleanField(default=False)
    # The account the remote meeting lives in (the owner when it was created).
    remote_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The site account's host the remote meeting was made for ("": it lives in remote_owner's own connection).
    remote_host = models.CharField(max_length=255, blank=True)
    # A meeting handed to another owner or host is made there first and only then deleted where it was:
    # meanwhile the old remote meeting is kept here (its id, where it lives, its join URL), so people join it
    # until the new one is recorded, and it is deleted right after (sync.py, "Moving a meeting").
    old_remote_id = models.CharField(max_length=255, blank=True)
    old_remote_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    old_remote_host = models.CharField(max_length=255, blank=True)
    old_join_url = models.TextField(blank=True)
    # Put into every meeting made for this row, so a meeting whose create answer was lost can be found.
    marker = models.CharField(max_length=64, unique=True, default=new_marker, editable=False)
    # A create was sent but its answer was lost: look for the meeting before creating again.
    maybe_created = models.BooleanField(default=False)
    # What the create in flight sends: adopted as the synced state when the meeting is found later.
    inflight_version = models.PositiveIntegerField(default=0)
    inflight_spec = models.JSONField(default=dict, blank=True)
    # Where the create in flight was sent (the owner it was made by, or the site account's host), so a lost
    # answer is looked for there even when the meeting was handed to someone else meanwhile.
    inflight_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    inflight_host = models.CharField(max_length=255, blank=True)
    remote_gone_at = models.DateTimeField(null=True, blank=True, help_text=_("Found deleted at the provider."))
    # Edited at the provider behind our back: read it and restore the desired state if it differs.
    check_remote = models.BooleanField(default=False)
    recreated_at = models.DateTimeField(null=True, blank=True, help_text=_("Re-created after being deleted remotely."))
    # Pre-start checks (settings PRESTART_CHECKS_MINUTES): the last checkpoint done, in minutes
    # before the start, and when the next one is due (None: no check left).
    checked_before = models.PositiveIntegerField(null=True, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True)

    # Work state.
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    last_error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    waiting_daily_limit = models.BooleanField(default=False)
    # The current daily-limit wait was announced (meeting_waiting sent): once per wait, not per retry.
    wait_announced = models.BooleanField(default=False)
    claimed_until = models.DateTimeField(null=True, blank=True)
    # When the last queued task is due to run; the sweep leaves the row to that task for a while.
    queued_for = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=64, blank=True)
    # When the last queued registrants task is due to run (as `queued_for`, for the meeting's registrants).
    registrants_queued_for = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="vm_meeting_due"),
            models.Index(fields=["provider", "remote_id"], name="vm_meeting_remote"),
            # The checks due now, without reading the meetings that have none left.
            models.Index(
                fields=["next_check_at"], name="vm_meeting_check_due", condition=models.Q(next_check_at__isnull=False)
            ),
            # The meetings that finished a while ago, for the participants poll of a site without webhooks.
            models.Index(fields=["provider", "finish"], name="vm_meeting_finished"),
            # The meetings not over yet, without reading the finished ones (an owning app's reconciler).
            models.Index(fields=["finish"], name="vm_meeting_present_finish", condition=models.Q(present=True)),
            # The few meetings that ask for no personal links (made before they existed), by start.
            models.Index(
                fields=["start"],
                name="vm_meeting_no_personal_links",
                condition=models.Q(present=True, personal_links=False),
            ),
        ]

    def __str__(self):
        return f"{self.reference} [{self.status}]"

    @property
    def operation(self) -> str:
        """The remote operation the row's state calls for: "create", "update" or "delete"."""
        if not self.present:
            return "delete"
        return "update" if self.remote_id else "create"

    @property
    def joinable_url(self) -> str:
        """The shared link people join by now: the meeting's, or, while it moves to another owner or host, the
        old meeting's until the new one is recorded ("" when there is none)."""
        if self.remote_id:
            return self.join_url
        return self.old_join_url if self.old_remote_id else ""

    @property
    def has_remote(self) -> bool:
        """A meeting exists at the provider and can be joined (by `joinable_url`), whatever the status says.

        True while an update waits for a limit, has failed, or is held: the
        provider still has the meeting (with the details last synced); and while
        the meeting moves to another owner or host: the old one is joined until
        the new one is recorded. False while it is being created or re-created
        (no remote id or join URL yet). A meeting being removed (`present` False)
        may still have a remote one: callers deciding who may join check `present` too.
        """
        return bool(self.joinable_url)

    @property
    def takes_registrants(self) -> bool:
        """Registrants can be registered now: the meeting exists at the provider and requires registration.

        The same rule as TAKES_REGISTRANTS below (for queries).
        """
        return self.present and self.registration and bool(self.remote_id)

    @property
    def has_problem(self) -> bool:
        """Failed, waiting for a limit, or held: `selectors.meeting_status_text` says why, for the owner and staff."""
        return self.status in PROBLEM_STATUSES


# The rule of VirtualMeeting.takes_registrants, for queries.
TAKES_REGISTRANTS = models.Q(present=True, registration=True) & ~models.Q(remote_id="")

WORK_STATUSES = (
    VirtualMeeting.Status.PENDING,
    VirtualMeeting.Status.CREATING,
    VirtualMeeting.Status.UPDATING,
    VirtualMeeting.Status.DELETING,
    VirtualMeeting.Status.WAITING,
)

PROBLEM_STATUSES = (
    VirtualMeeting.Status.FAILED,
    VirtualMeeting.Status.WAITING,
    VirtualMeeting.Status.HELD,
)

# A pre-start check reads meetings in these states (no sync is running for them); it re-creates one
# that is gone, and restores the details of an available one edited at the provider.
CHECK_STATUSES = (
    VirtualMeeting.Status.AVAILABLE,
    VirtualMeeting.Status.WAITING,
    VirtualMeeting.Status.FAILED,
)


class MeetingRegistrant(models.Model):
    """One person registered (or to be registered) for a meeting: their personal join link.

    `present` is the desired state, set by the owning app through the services;
    the registrants sync makes the provider match, a meeting's rows at a time.
    The address sent to the provider (`email`) is made for the row, never the
    person's own: the provider mails nobody.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        REGISTERED = "registered", _("Registered")
        CANCELLING = "cancelling", _("Cancelling")
        CANCELLED = "cancelled", _("Cancelled")
        FAILED = "failed", _("Failed")
        # The provider or the owner's account gives no personal links: `last_error` says why.
        UNSUPPORTED = "unsupported", _("No personal link")

    meeting = models.ForeignKey(VirtualMeeting, on_delete=models.CASCADE, related_name="registrants")
    key = models.CharField(max_length=200, help_text=_('The owning app\'s key for this person, e.g. "booking:12".'))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="meeting_registrations",
    )
    first_name = models.CharField(max_length=64)
    last_name = models.CharField(max_length=64, blank=True)
    email = models.CharField(max_length=254, blank=True, help_text=_("The address sent to the provider."))

    # Desired state.
    present = models.BooleanField(default=True)

    # Remote state.
    remote_id = models.CharField(max_length=255, blank=True, help_text=_("The provider's registrant id."))
    join_url = EncryptedTextField(blank=True)  # personal: whoever has it joins as this person
    registered_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # A register call was sent and its answer may be lost: list the registrants before sending again.
    maybe_sent = models.BooleanField(default=False)

    # Work state.
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    last_error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=64, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["meeting", "key"], name="vm_registrant_unique_key")]
        indexes = [
            # The work due now, without reading the rows that are done.
            models.Index(
                fields=["next_attempt_at"],
                name="vm_registrant_due",
                condition=models.Q(status__in=["pending", "cancelling"]),
            ),
            # Participants carry the registrant id: matched to a row of the meeting.
            models.Index(fields=["meeting", "remote_id"], name="vm_registrant_remote"),
        ]

    def __str__(self):
        return f"{self.key} @ {self.meeting.reference} [{self.status}]"


REGISTRANT_WORK_STATUSES = (MeetingRegistrant.Status.PENDING, MeetingRegistrant.Status.CANCELLING)


class MeetingOccurrence(models.Model):
    """One time a meeting was held (Zoom: one meeting uuid), and the reconcile poll of what it left.

    `uuid` "" stands for the meeting's latest occurrence when none is known (a site without
    webhooks): the poll then asks the provider for the latest one.
    """

    meeting = models.ForeignKey(VirtualMeeting, on_delete=models.CASCADE, related_name="occurrences")
    provider = models.CharField(max_length=50)
    uuid = models.CharField(max_length=255, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    # The reconcile poll (PARTICIPANTS_POLL_DELAYS after the end): when the next one is due (None:
    # none left), how many were made, when a task for it was queued (the sweep does not queue it twice).
    next_poll_at = models.DateTimeField(null=True, blank=True)
    poll_attempts = models.PositiveIntegerField(default=0)
    poll_queued_for = models.DateTimeField(null=True, blank=True)
    participants_done_at = models.DateTimeField(null=True, blank=True)
    recordings_done_at = models.DateTimeField(null=True, blank=True)
    # Why the poll stopped without the data, in words for the trainer ("" while it runs or when done).
    poll_error = models.TextField(blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "uuid"], condition=~models.Q(uuid=""), name="vm_occurrence_unique_uuid"
            ),
            models.UniqueConstraint(fields=["meeting"], condition=models.Q(uuid=""), name="vm_occurrence_one_latest"),
        ]
        indexes = [
            models.Index(
                fields=["next_poll_at"], name="vm_occurrence_poll_due", condition=models.Q(next_poll_at__isnull=False)
            ),
        ]

    def __str__(self):
        return f"{self.meeting.reference} @ {self.uuid or 'latest'}"


class MeetingParticipant(models.Model):
    """One join..leave interval of one device in an occurrence.

    A redelivered event or a poll that sees the same interval changes nothing (unique key and join
    time). `joined_at` None: the provider said the participant was there but gave no times.
    """

    class Source(models.TextChoices):
        WEBHOOK = "webhook", _("Webhook")
        POLL = "poll", _("Reconciliation")

    occurrence = models.ForeignKey(MeetingOccurrence, on_delete=models.CASCADE, related_name="participants")
    participant_key = models.CharField(max_length=255)
    registrant_id = models.CharField(max_length=255, blank=True)
    name = models.CharField(max_length=255, blank=True)
    email = models.CharField(max_length=255, blank=True)
    account_id = models.CharField(
        max_length=255, blank=True, help_text=_("The person's account at the provider, when they signed in.")
    )
    joined_at = models.DateTimeField(null=True, blank=True)
    left_at = models.DateTimeField(null=True, blank=True, help_text=_("Empty while in the meeting."))
    leave_reason = models.TextField(blank=True)
    source = models.CharField(max_length=20, choices=Source.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["occurrence", "participant_key", "joined_at"], name="vm_participant_unique_interval"
            ),
            # NULLs are distinct in a unique index: one "present, no times" row per key needs its own.
            models.UniqueConstraint(
                fields=["occurrence", "participant_key"],
                condition=models.Q(joined_at__isnull=True),
                name="vm_participant_unique_presence",
            ),
        ]

    def __str__(self):
        return f"{self.name or self.participant_key} {self.joined_at}..{self.left_at}"


class MeetingRecording(models.Model):
    """One recording file of a meeting, as the provider announced or listed it."""

    class Status(models.TextChoices):
        AVAILABLE = "available", _("Available")
        TRASHED = "trashed", _("Trashed")
        DELETED = "deleted", _("Deleted")

    meeting = models.ForeignKey(VirtualMeeting, on_delete=models.CASCADE, related_name="recordings")
    occurrence = models.CharField(max_length=255, blank=True, help_text=_("The occurrence's uuid."))
    remote_id = models.CharField(max_length=255)
    file_type = models.CharField(max_length=50, blank=True)
    recording_type = models.CharField(max_length=100, blank=True)
    play_url = models.TextField(blank=True)
    share_url = models.TextField(blank=True)
    passcode = EncryptedTextField(blank=True)
    recording_start = models.DateTimeField(null=True, blank=True)
    recording_end = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.AVAILABLE)
    # When the event that set the status happened: an older event delivered late does not undo it.
    status_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["meeting", "remote_id"], name="vm_recording_unique_file"),
        ]

    def __str__(self):
        return f"{self.meeting.reference}: {self.file_type} {self.remote_id} [{self.status}]"
