"""Reading meetings and connections (no writes here)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from django.db import connection as db_connection
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from lms.rows import Columns, Statement
from virtualmeeting.models import (
    CHECK_STATUSES,
    REGISTRANT_WORK_STATUSES,
    TAKES_REGISTRANTS,
    WORK_STATUSES,
    MeetingOccurrence,
    MeetingParticipant,
    MeetingRecording,
    MeetingRegistrant,
    ProviderConfig,
    ProviderConnection,
    VirtualMeeting,
)
from virtualmeeting.providers.base import CAPABILITY_ATTENDANCE, CAPABILITY_RECORDINGS, CAPABILITY_REGISTRANTS


def meetings_by_reference(references: Iterable[str]) -> dict[str, VirtualMeeting]:
    """The meetings with these references, keyed by reference (one query; on PostgreSQL a statement prepared once
    per connection, as the pages that list sessions ask it on every view)."""
    references = list(references)
    if db_connection.vendor != "postgresql":
        return {m.reference: m for m in VirtualMeeting.objects.filter(reference__in=references)}
    statement, columns = _meetings_by_reference()
    return {meeting.reference: meeting for meeting in map(columns.read, statement.fetchall([references]))}


@lru_cache(maxsize=1)
def _meetings_by_reference() -> tuple[Statement, Columns]:
    q = db_connection.ops.quote_name
    columns = Columns(VirtualMeeting, "m")
    sql = f"SELECT {columns.sql} FROM {q(VirtualMeeting._meta.db_table)} m WHERE m.{q('reference')} = ANY(%s)"
    return Statement("virtualmeeting_meetings_by_reference", sql), columns


def connection_for(*, user, provider: str) -> ProviderConnection | None:
    """The user's connection to the provider (connected or revoked), or None."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return ProviderConnection.objects.filter(user=user, provider=provider).first()


def meetings_due(*, now: datetime | None = None, limit: int = 500, requeue_after: float = 120) -> list[int]:
    """Ids of meetings that need a worker now and have none coming.

    Due, not held by a live claim, and either with no queued task that should
    still be on its way (queued for less than `requeue_after` seconds ago) or
    with a claim that ran out and no task queued since: a live worker renews its
    claim, so an expired one is a dead worker's, whose task will not come back.
    """
    now = now or timezone.now()
    no_task_coming = Q(queued_for__isnull=True) | Q(queued_for__lt=now - timedelta(seconds=requeue_after))
    dead_worker = Q(claimed_until__lt=now) & Q(queued_for__lt=F("claimed_until"))
    return list(
        VirtualMeeting.objects.filter(status__in=WORK_STATUSES, next_attempt_at__lte=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .filter(no_task_coming | dead_worker)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


def meetings_check_due(*, now: datetime | None = None, limit: int = 300, requeue_after: float = 120) -> list[int]:
    """Ids of meetings whose next pre-start check is due, oldest first, with no check task coming.

    Reads the partial index on `next_check_at`: the work due now, not the table.
    Meetings of disabled providers wait (their work is held).
    """
    now = now or timezone.now()
    enabled = ProviderConfig.objects.filter(enabled=True).values("provider")
    return list(
        VirtualMeeting.objects.filter(next_check_at__lte=now, status__in=CHECK_STATUSES, provider__in=enabled)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .filter(Q(queued_for__isnull=True) | Q(queued_for__lt=now - timedelta(seconds=requeue_after)))
        .order_by("next_check_at")
        .values_list("pk", flat=True)[:limit]
    )


def occurrences_poll_due(*, now: datetime | None = None, limit: int = 500, requeue_after: float = 120) -> list[int]:
    """Ids of meetings with a participants poll due and no poll task coming, the longest waiting first.

    Reads the partial index on `next_poll_at`. Meetings of disabled providers wait.
    """
    now = now or timezone.now()
    enabled = ProviderConfig.objects.filter(enabled=True).values("provider")
    rows = (
        MeetingOccurrence.objects.filter(next_poll_at__lte=now, provider__in=enabled)
        .filter(Q(poll_queued_for__isnull=True) | Q(poll_queued_for__lt=now - timedelta(seconds=requeue_after)))
        .order_by("next_poll_at")
        .values_list("meeting_id", flat=True)[:limit]
    )
    return list(dict.fromkeys(rows))


def meeting_occurrences(references: Iterable[str]) -> dict[str, list[MeetingOccurrence]]:
    """The known occurrences of these meetings, keyed by reference, oldest first (one query).

    Each says when it started and ended (as the provider told), and where the participants poll
    stands: `participants_done_at` (the data came), `next_poll_at` (still waiting for it), or
    `poll_error` (it gave up, and why, in words for the trainer).
    """
    found: dict[str, list[MeetingOccurrence]] = {reference: [] for reference in references}
    rows = MeetingOccurrence.objects.filter(meeting__reference__in=list(found)).select_related("meeting")
    for occurrence in rows.order_by("started_at", "pk"):
        found[occurrence.meeting.reference].append(occurrence)
    return found


def meeting_participants(references: Iterable[str]) -> dict[str, list[MeetingParticipant]]:
    """Every participant interval of these meetings' occurrences, keyed by reference (two queries).

    One row per join..leave of one device: `participant_key`, `registrant_id`, `name`, `email`,
    `joined_at`, `left_at` (None: still in the meeting, or the leave was not told),
    `occurrence`, and `is_host` (see meeting_host_ids). `joined_at` None means present, minutes
    unknown. Rows from a webhook and from the poll describe different intervals (never the same one
    twice), though one person's intervals may overlap (several devices, or an occurrence known both
    by its uuid and as "the latest"): count time as the union of a person's intervals.
    """
    found: dict[str, list[MeetingParticipant]] = {reference: [] for reference in references}
    rows = list(
        MeetingParticipant.objects.filter(occurrence__meeting__reference__in=list(found))
        .select_related("occurrence__meeting")
        .order_by("joined_at", "pk")
    )
    hosts = meeting_host_ids({row.occurrence.meeting for row in rows})
    for row in rows:
        meeting = row.occurrence.meeting
        row.is_host = _is_host(row, *hosts.get(meeting.pk, (set(), set())))
        found[meeting.reference].append(row)
    return found


def meeting_host_ids(meetings: Iterable[VirtualMeeting]) -> dict[int, tuple[set[str], set[str]]]:
    """{meeting id: (account ids, emails)} by which the meetings' host is known among the participants
    (one query; none for no meetings).

    The host is the account the meeting lives in: the connection of its remote owner (and of its owner,
    when the room changed hands since) at the provider, and the host email the provider gave. Emails are
    case-folded; blanks are left out.
    """
    meetings = list(meetings)
    if not meetings:
        return {}
    people = {(m.provider, user_id) for m in meetings for user_id in (m.remote_owner_id, m.owner_id) if user_id}
    accounts: dict[tuple[str, int], tuple[str, str]] = {}
    wanted = Q(pk__in=[])
    for provider, user_id in people:
        wanted |= Q(provider=provider, user_id=user_id)
    for connection in ProviderConnection.objects.filter(wanted).only(
        "provider", "user_id", "remote_account_id", "email"
    ):
        accounts[(connection.provider, connection.user_id)] = (connection.remote_account_id, connection.email)
    found = {}
    for meeting in meetings:
        ids, emails = set(), {meeting.host_email}
        for user_id in (meeting.remote_owner_id, meeting.owner_id):
            account_id, email = accounts.get((meeting.provider, user_id), ("", ""))
            ids.add(account_id)
            emails.add(email)
        found[meeting.pk] = ({i.strip() for i in ids if i.strip()}, {e.strip().casefold() for e in emails if e.strip()})
    return found


def _is_host(row: MeetingParticipant, account_ids: set[str], emails: set[str]) -> bool:
    """The participant is the meeting's host: signed in with the host's account, or with the host's email."""
    return row.account_id.strip() in account_ids or row.email.strip().casefold() in emails


def meeting_recordings(references: Iterable[str]) -> dict[str, list[MeetingRecording]]:
    """The available recordings of these meetings, keyed by reference, in recording order (one query).

    Trashed and deleted files are left out. `passcode` is a secret: show it only to people who may
    watch the recording.
    """
    found: dict[str, list[MeetingRecording]] = {reference: [] for reference in references}
    rows = MeetingRecording.objects.filter(
        meeting__reference__in=list(found), status=MeetingRecording.Status.AVAILABLE
    ).select_related("meeting")
    for row in rows.order_by("recording_start", "pk"):
        found[row.meeting.reference].append(row)
    return found


def registrant_ids(reference: str) -> dict[str, str]:
    """{the provider's registrant id: the owning app's key} for the meeting's registrants (one query).

    Every registrant the provider ever gave an id, cancelled ones too: a participant who joined
    with a personal link carries its id after the registration was cancelled.
    """
    rows = MeetingRegistrant.objects.filter(meeting__reference=reference).exclude(remote_id="")
    return dict(rows.values_list("remote_id", "key"))


def capabilities_missing(connection: ProviderConnection | None) -> dict[str, list[str]]:
    """Capability ("attendance", "recordings", ...) -> the scopes the connection lacks for it ({}: none).

    What "Reconnect to enable attendance" names. {} for no connection or a provider no longer installed.
    """
    from virtualmeeting.registry import get_provider

    if connection is None:
        return {}
    try:
        provider = get_provider(connection.provider)
    except LookupError:
        return {}
    return provider.missing_capability_scopes(connection)


def registrants_due(*, now: datetime | None = None, limit: int = 500, requeue_after: float = 120) -> list[int]:
    """Ids of meetings with registrant work due now and no registrants task coming (the sweep queues them).

    Only meetings that take registrants now, of enabled providers; a meeting whose registrants wait
    for it (not created yet, registration not on) is queued when its own sync makes it ready.
    Work claimed by a dead worker (its lease ran out, no task queued since) is due again.
    """
    now = now or timezone.now()
    unclaimed = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    due = MeetingRegistrant.objects.filter(unclaimed, status__in=REGISTRANT_WORK_STATUSES, next_attempt_at__lte=now)
    dead_worker = due.filter(meeting=OuterRef("pk"), claimed_until__gt=OuterRef("registrants_queued_for"))
    no_task_coming = Q(registrants_queued_for__isnull=True) | Q(
        registrants_queued_for__lt=now - timedelta(seconds=requeue_after)
    )
    enabled = ProviderConfig.objects.filter(enabled=True).values("provider")
    return list(
        VirtualMeeting.objects.filter(TAKES_REGISTRANTS, provider__in=enabled, pk__in=due.values("meeting_id"))
        .filter(no_task_coming | Exists(dead_worker))
        .order_by("registrants_queued_for")
        .values_list("pk", flat=True)[:limit]
    )


def registrant_join_url(*, reference: str, key: str) -> str:
    """The person's own join link for the meeting `reference`: "" unless they are registered and wanted.

    Secret: give it only to the person (a redirect at their click), never in a page others see or a log.
    """
    return meeting_with_personal_url(reference=reference, key=key)[1]


def meeting_with_personal_url(*, reference: str, key: str) -> tuple[VirtualMeeting | None, str]:
    """The meeting `reference` and, when `key` names a person registered for it, their own join link: one query
    (hand-written: MeetingJoin). The link is "" unless the person is registered and still wanted on a wanted
    meeting; it is a secret like the link itself."""
    join = _one_meeting_join()
    with db_connection.cursor() as cursor:
        cursor.execute(f"SELECT {join.select} FROM (SELECT 1) AS one {join.join}", join.params([reference], [[key]]))
        row = cursor.fetchone()
    meeting, [personal] = join.read(row)
    return meeting, personal if key else ""


@lru_cache(maxsize=1)
def _one_meeting_join() -> MeetingJoin:
    return MeetingJoin(reference="%s", keys=["%s"])


class MeetingJoin:
    """The meeting a reference names, with the personal join links of some registrant keys, as a fragment of
    another app's hand-written query (lms.rows): the "Join now" click reads them in the same statement as the
    session it joins (seminars.selectors.joining), without this app knowing that app's tables.

    `reference` and each of `keys` are SQL expressions over the caller's own tables (or %s placeholders).
    `select` goes in the caller's select list and `join` after its FROM (LEFT JOINs: the row is there without
    a meeting); `params(reference_params, keys_params)` are the placeholders' values in the order `join` wants
    them; `read(row, start)` gives (the meeting or None, [each key's link]). A link is "" unless its person is
    registered and still wanted on a wanted meeting; it is a secret like the meeting's own link.
    """

    def __init__(self, *, reference: str, keys: list[str], alias: str = "m"):
        q = db_connection.ops.quote_name
        self.meeting = Columns(VirtualMeeting, alias)
        self.links = [Columns(MeetingRegistrant, f"{alias}_link{i}", only=["join_url"]) for i in range(len(keys))]
        self.select = ", ".join([self.meeting.sql, *(link.sql for link in self.links)])
        # At most one registrant per meeting and key (vm_registrant_unique_key): each join keeps one row.
        registrants = q(MeetingRegistrant._meta.db_table)
        joins = [
            f"LEFT JOIN {q(VirtualMeeting._meta.db_table)} {q(alias)} ON {q(alias)}.{q('reference')} = {reference}"
        ]
        for link, key in zip(self.links, keys, strict=True):
            r = q(link.alias)
            joins.append(
                f"LEFT JOIN {registrants} {r} ON {r}.{q('meeting_id')} = {q(alias)}.{q('id')} "
                f"AND {r}.{q('key')} = {key} AND {r}.{q('present')} AND {r}.{q('status')} = %s"
            )
        self.join = " ".join(joins)

    def params(self, reference_params: list, keys_params: list[list]) -> list:
        """The values of `join`'s placeholders: the reference's, then each key's (and the registered status)."""
        found = list(reference_params)
        for key_params in keys_params:
            found += [*key_params, MeetingRegistrant.Status.REGISTERED]
        return found

    def read(self, row, start: int = 0) -> tuple[VirtualMeeting | None, list[str]]:
        meeting = self.meeting.read(row, start)
        if meeting is None:
            return None, [""] * len(self.links)
        offset, links = start + len(self.meeting), []
        for link in self.links:
            [url] = link.values(row, offset)
            links.append((url or "") if meeting.present else "")
            offset += len(link)
        return meeting, links


def registrants_status(references: Iterable[str]) -> dict[str, dict[str, tuple[str, str]]]:
    """{reference: {key: (status, last_error)}} for these meetings' registrants, in one query.

    `status` is a MeetingRegistrant.Status value; `last_error` says why a row failed, waits, or has
    no personal link ("unsupported": the provider or the host's account gives none).
    """
    found: dict[str, dict[str, tuple[str, str]]] = {}
    references = list(references)
    if db_connection.vendor == "postgresql":
        rows = _registrants_status().fetchall([references])
    else:
        rows = MeetingRegistrant.objects.filter(meeting__reference__in=references).values_list(
            "meeting__reference", "key", "status", "last_error"
        )
    for reference, key, status, last_error in rows:
        found.setdefault(reference, {})[key] = (status, last_error)
    return found


@lru_cache(maxsize=1)
def _registrants_status() -> Statement:
    q = db_connection.ops.quote_name
    sql = (
        f"SELECT m.{q('reference')}, r.{q('key')}, r.{q('status')}, r.{q('last_error')} "
        f"FROM {q(MeetingRegistrant._meta.db_table)} r "
        f"JOIN {q(VirtualMeeting._meta.db_table)} m ON m.{q('id')} = r.{q('meeting_id')} "
        f"WHERE m.{q('reference')} = ANY(%s)"
    )
    return Statement("virtualmeeting_registrants_status", sql)


def capability_reconnect_text(*, service: str, capability: str, scopes: list[str]) -> str:
    """ "Reconnect to enable attendance: the Zoom connection lacks the scope X." for one capability."""
    count, values = len(scopes), {"service": service, "scopes": ", ".join(scopes)}
    if capability == CAPABILITY_ATTENDANCE:
        return (
            ngettext(
                "Reconnect to enable attendance: the %(service)s connection lacks the scope %(scopes)s.",
                "Reconnect to enable attendance: the %(service)s connection lacks the scopes %(scopes)s.",
                count,
            )
            % values
        )
    if capability == CAPABILITY_RECORDINGS:
        return (
            ngettext(
                "Reconnect to enable recordings: the %(service)s connection lacks the scope %(scopes)s.",
                "Reconnect to enable recordings: the %(service)s connection lacks the scopes %(scopes)s.",
                count,
            )
            % values
        )
    if capability == CAPABILITY_REGISTRANTS:
        return (
            ngettext(
                "Reconnect to enable personal join links: the %(service)s connection lacks the scope %(scopes)s.",
                "Reconnect to enable personal join links: the %(service)s connection lacks the scopes %(scopes)s.",
                count,
            )
            % values
        )
    return ngettext(
        "Reconnect to enable %(capability)s: the %(service)s connection lacks the scope %(scopes)s.",
        "Reconnect to enable %(capability)s: the %(service)s connection lacks the scopes %(scopes)s.",
        count,
    ) % {**values, "capability": capability}


def reconnect_texts(connection: ProviderConnection | None) -> list[str]:
    """What the connection's owner is told to reconnect for, one sentence per capability it lacks scopes
    for ([] when none: capabilities_missing). Meetings keep being made either way."""
    missing = capabilities_missing(connection)
    if not missing:
        return []
    service = service_name(connection.provider)
    return [
        capability_reconnect_text(service=service, capability=capability, scopes=scopes)
        for capability, scopes in sorted(missing.items())
    ]


def service_name(provider_id: str) -> str:
    """The provider's service in sentences ("Zoom"), or its id when it is no longer installed."""
    from virtualmeeting.registry import provider_class

    try:
        cls = provider_class(provider_id)
    except LookupError:
        return provider_id
    return cls.service_name or cls.name


def connect_texts() -> dict:
    """The words of the connect popup's opener (virtualmeeting/connect.js), for a page's json_script
    "vm-connect-texts": what the button shows while it waits, and why nothing was connected."""
    from virtualmeeting.registry import enabled_providers

    closed = gettext("The sign-in window was closed before %(service)s sent you back. No account was connected.")
    return {
        "waiting": gettext("Waiting for the sign-in window…"),
        "blocked": gettext("Your browser blocked the sign-in window. Allow pop-ups for this site and try again."),
        "failed": gettext("No account was connected."),
        "closed": {
            provider.id: " ".join(filter(None, [closed % {"service": provider.service}, provider.closed_window_hint()]))
            for provider in enabled_providers()
            if provider.needs_connection
        },
    }


def time_until(moment: datetime, *, now: datetime | None = None) -> str:
    """'in 3 h', 'in 12 min', 'in less than a minute'."""
    seconds = (moment - (now or timezone.now())).total_seconds()
    if seconds < 60:
        return gettext("in less than a minute")
    if seconds < 3600:
        return gettext("in %(minutes)d min") % {"minutes": round(seconds / 60)}
    return gettext("in %(hours)d h") % {"hours": round(seconds / 3600)}


def resume_time(moment: datetime, *, now: datetime | None = None) -> str:
    """'00:00 UTC', with the date when it is not within the next day."""
    moment = moment.astimezone(UTC)
    now = now or timezone.now()
    if moment - now > timedelta(hours=24):
        return moment.strftime("%Y-%m-%d %H:%M UTC")
    return moment.strftime("%H:%M UTC")


def waiting_text(*, service: str, daily: bool, until: datetime, now: datetime | None = None) -> str:
    """'Waiting for Zoom's daily limit, resumes at 07:02 UTC.' (`until` is the provider's own retry time)."""
    values = {"service": service, "when": resume_time(until, now=now)}
    if daily:
        return gettext("Waiting for %(service)s's daily limit, resumes at %(when)s.") % values
    return gettext("Waiting for %(service)s's rate limit, resumes at %(when)s.") % values


def held_text(provider_id: str) -> str:
    """Why a held meeting does not move, and what makes it move again."""
    return gettext(
        "Held: %(service)s is disabled on this site. The meeting is created or updated when a site "
        "administrator enables %(service)s again."
    ) % {"service": service_name(provider_id)}


def meeting_in_place(meeting: VirtualMeeting) -> bool:
    """The remote meeting exists, up to date, where the row wants it: in the site's account for its host, or in
    its owner's own connection (a handed-over meeting is in place once made there and gone from before)."""
    if meeting.status != VirtualMeeting.Status.AVAILABLE or not meeting.remote_id or meeting.old_remote_id:
        return False
    if meeting.hosting == VirtualMeeting.Hosting.ACCOUNT:
        return meeting.remote_host == meeting.host
    return not meeting.remote_host and meeting.remote_owner_id in (None, meeting.owner_id)


def meeting_status_text(meeting: VirtualMeeting, *, now: datetime | None = None) -> str:
    """The meeting's status in plain words, for the room card and the event page."""
    Status = VirtualMeeting.Status
    now = now or timezone.now()
    if meeting.status in (Status.PENDING, Status.CREATING, Status.UPDATING):
        return gettext("Updating virtual room. Please wait...")
    if meeting.status == Status.DELETING:
        return gettext("Removing virtual room. Please wait...")
    if meeting.status == Status.AVAILABLE:
        return gettext("Virtual room is ready.")
    if meeting.status == Status.DELETED:
        return gettext("Virtual room was removed.")
    if meeting.status == Status.HELD:
        return held_text(meeting.provider)
    if meeting.status == Status.WAITING:
        when = meeting.next_attempt_at
        text = waiting_text(
            service=service_name(meeting.provider), daily=meeting.waiting_daily_limit, until=when, now=now
        )
        return f"{text.rstrip('.')} ({time_until(when, now=now)})"
    return gettext("Failed: %(reason)s") % {"reason": meeting.last_error}
