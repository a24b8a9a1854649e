"""The recordings of an event's sessions, for the people who may watch them (seminars.permissions)."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from seminars.selectors.attendance import session_reference
from virtualmeeting.selectors import meeting_recordings

# What a file is, in words; other types show the provider's own name.
FILE_TYPES = {
    "MP4": _("Video"),
    "M4A": _("Audio only"),
    "TRANSCRIPT": _("Transcript"),
    "CC": _("Captions"),
    "CHAT": _("Chat"),
}


@dataclass
class Recording:
    """One file someone may open: what it is, where it plays, and the passcode it asks for ("" none)."""

    kind: str
    url: str
    passcode: str
    start: object  # aware datetime or None
    end: object


@dataclass
class SessionRecordings:
    session: object
    recordings: list[Recording]


def event_recordings(*, sessions) -> list[SessionRecordings]:
    """The available recordings of these sessions' meetings, session by session (one query).

    Trashed and deleted files are not listed; files with no link to open are left out. Each
    passcode is a secret: call this only for people who may watch (seminars.permissions
    .may_watch_recordings), and never put the result in an email.
    """
    references = {session.pk: session_reference(session) for session in sessions}
    found = meeting_recordings([reference for reference in references.values() if reference])
    listed = []
    for session in sessions:
        files = [
            Recording(
                kind=str(FILE_TYPES.get(row.file_type.upper(), row.file_type)),
                url=row.play_url or row.share_url,
                passcode=row.passcode,
                start=row.recording_start,
                end=row.recording_end,
            )
            for row in found.get(references[session.pk], [])
            if row.play_url or row.share_url
        ]
        if files:
            listed.append(SessionRecordings(session=session, recordings=files))
    return listed
