"""Provider errors carry intent: what the sync should do next.

A provider hook raises one of these; the sync service decides from the class
alone whether to retry with backoff, wait until a given time, stop the owner's
meetings until they reconnect, or give up. Messages are written for people
(they are shown on the room page and in notifications) and never contain
secrets.
"""

from datetime import datetime

from django.utils.translation import gettext


class ProviderError(Exception):
    """A provider call failed.

    permanent=False (the default): transient, retry with exponential backoff.
    permanent=True: retrying will not help; the meeting fails with `message`.
    ambiguous=True: the request may have been applied but the answer was lost
    (timeout, connection reset, 5xx after sending a create). The next attempt
    must look for the meeting it may have made before creating another.
    """

    def __init__(self, message: str, *, permanent: bool = False, ambiguous: bool = False, code: str = ""):
        message = str(message)  # a lazy translation is read now, in the language of the request or worker
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.ambiguous = ambiguous
        self.code = code


class RateLimited(ProviderError):
    """The provider refuses (or would refuse) the call until `retry_at` (aware datetime).

    `daily=True` means a per-user daily quota (Zoom's 100 create+update), shown
    to people as "waiting for the daily limit"; otherwise a short per-second limit.
    """

    def __init__(self, message: str, *, retry_at: datetime, daily: bool = False, ambiguous: bool = False):
        super().__init__(message, permanent=False, ambiguous=ambiguous, code="rate_limited")
        self.retry_at = retry_at
        self.daily = daily


class AuthRevoked(ProviderError):
    """The owner's connection no longer works (token revoked, app removed); they must reconnect."""

    def __init__(self, message: str):
        super().__init__(message, permanent=False, code="auth_revoked")


class MeetingNotFound(ProviderError):
    """The remote meeting does not exist (deleted at the provider behind our back)."""

    def __init__(self, message: str = ""):
        message = message or gettext("The meeting no longer exists at the provider.")
        super().__init__(message, permanent=False, code="not_found")


class RegistrationOff(ProviderError):
    """A registrant call was refused because the remote meeting does not require registration (it was
    changed at the provider). Not the people's failure: the meeting's settings are sent again, then they
    are registered."""

    def __init__(self, message: str = ""):
        message = message or gettext("The meeting does not require registration at the provider.")
        super().__init__(message, permanent=False, code="registration_off")


class ConnectError(Exception):
    """The connect (OAuth) flow failed; `message` is shown to the person in the popup.

    `admin_message`, when given, is what a site admin reads instead: the fix they can make themselves,
    where `message` tells anyone else to ask a site admin (an admin is never told to ask one).
    """

    def __init__(self, message: str, *, admin_message: str = ""):
        message = str(message)  # a lazy translation is read now, in the language of the request
        super().__init__(message)
        self.message = message
        self.admin_message = str(admin_message)

    def message_for(self, *, site_admin: bool) -> str:
        return self.admin_message if site_admin and self.admin_message else self.message


class MeetingUnavailable(ProviderError):
    """The meeting cannot be used right now (not created yet, being re-created, owner must reconnect).

    Raised by services called from a click (e.g. "Host meeting"); `message` is shown to the person.
    A ProviderError, so a view that catches ProviderError shows it too.
    """

    def __init__(self, message: str):
        super().__init__(message, code="unavailable")


class NotReadyYet(ProviderError):
    """The provider has no data for this yet (Zoom: a past meeting's participants appear minutes after it ends).

    Not a failure: the reconcile poll asks again at its next delay. `retry_after` (seconds, or None)
    is the provider's own hint of the earliest sensible time to ask again.
    """

    def __init__(self, retry_after: float | None = None, message: str = ""):
        message = message or gettext("The provider has no data for this meeting yet.")
        super().__init__(message, permanent=False, code="not_ready")
        self.retry_after = retry_after
