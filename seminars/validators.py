"""What the domain accepts, declared once: bounds of numbers and dates, and what text may contain.

The models carry these validators (so the admin and `full_clean` use them), the
forms declare the same bounds, and the services check them again for callers
that bypass the forms (the room dialog's JSON). The database holds CHECK
constraints for the numeric bounds as a last line.
"""

import unicodedata
from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Seats of an event or a room: the largest meetings and halls stay far below this.
CAPACITY_MIN = 1
CAPACITY_MAX = 100_000
# Cancellation cut-off: at most a year before the first session.
CUTOFF_HOURS_MAX = 8760
# The share of a session's minutes that counts as fully attended.
ATTENDED_PERCENT_MIN = 1
ATTENDED_PERCENT_MAX = 100
# Sessions are planned within this range of years (local wall-clock time and UTC).
SESSION_YEAR_MIN = 2000
SESSION_YEAR_MAX = 2100
SESSION_EARLIEST = datetime(SESSION_YEAR_MIN, 1, 1, tzinfo=UTC)
SESSION_LATEST = datetime(SESSION_YEAR_MAX + 1, 1, 1, tzinfo=UTC)
# A cancellation reason: a few sentences, kept in the booking history and quoted in emails.
REASON_MAX_LENGTH = 500

CAPACITY_MESSAGE = _("Capacity must be a whole number of at least 1.")
ROOM_CAPACITY_MESSAGE = _("Room capacity must be a whole number of at least 1.")
CAPACITY_MAX_MESSAGE = _("Capacity can be at most %(limit_value)s.")
CUTOFF_HOURS_MESSAGE = _("Enter a whole number of hours from 0 to %(maximum)s (a year).")
CUTOFF_HOURS_INVALID_MESSAGE = _("Enter a whole number of hours, e.g. 24.")
ATTENDED_PERCENT_MESSAGE = _("Enter a whole number of percent from %(minimum)s to %(maximum)s.")
MINIMUM_BOOKINGS_MESSAGE = _("Enter a whole number of bookings from 1 to the capacity.")
MINIMUM_ABOVE_CAPACITY_MESSAGE = _("The minimum number of bookings cannot be more than the capacity.")
REGISTRATION_ORDER_MESSAGE = _("Registration must close after it opens.")
SESSION_RANGE_MESSAGE = _("Enter a date between the years %(first)s and %(last)s.")
# Reminders before an event's first session: hours before it, a few of them.
REMINDER_HOURS_MIN = 1
REMINDER_HOURS_MAX = 720
REMINDERS_MAX = 5
REMINDER_OFFSETS_MESSAGE = _(
    "Enter up to %(count)s whole numbers of hours from %(minimum)s to %(maximum)s, separated by commas, e.g. 24, 1."
)

# Unicode categories refused in single-line text: control characters (NUL, tab, CR, LF, ...),
# line and paragraph separators, and lone surrogates (not storable as UTF-8).
SINGLE_LINE_REFUSED = frozenset({"Cc", "Zl", "Zp", "Cs"})
# Multi-line text keeps its line breaks and tabs, but not NUL or other control characters.
MULTI_LINE_ALLOWED_CONTROLS = frozenset("\n\r\t")


def _validate_whole_number_in(value, *, low: int, high: int, low_message, high_message) -> None:
    params = {"limit_value": high, "maximum": high}
    if not is_whole_number(value) or value < low:
        raise ValidationError(low_message, code="min_value", params={**params, "limit_value": low})
    if value > high:
        raise ValidationError(high_message, code="max_value", params=params)


def validate_capacity(value) -> None:
    """An event's capacity: 1 to CAPACITY_MAX seats."""
    _validate_whole_number_in(
        value, low=CAPACITY_MIN, high=CAPACITY_MAX, low_message=CAPACITY_MESSAGE, high_message=CAPACITY_MAX_MESSAGE
    )


def validate_minimum_bookings(value) -> None:
    """An event's minimum number of bookings: 1 to CAPACITY_MAX (and at most the event's capacity)."""
    _validate_whole_number_in(
        value,
        low=CAPACITY_MIN,
        high=CAPACITY_MAX,
        low_message=MINIMUM_BOOKINGS_MESSAGE,
        high_message=MINIMUM_ABOVE_CAPACITY_MESSAGE,
    )


def validate_room_capacity(value) -> None:
    """A room's capacity: 1 to CAPACITY_MAX seats."""
    _validate_whole_number_in(
        value, low=CAPACITY_MIN, high=CAPACITY_MAX, low_message=ROOM_CAPACITY_MESSAGE, high_message=CAPACITY_MAX_MESSAGE
    )


def validate_attended_percent(value) -> None:
    """A seminar's attended threshold: 1 to 100 % of a session's scheduled minutes."""
    params = {"minimum": ATTENDED_PERCENT_MIN, "maximum": ATTENDED_PERCENT_MAX}
    if not is_whole_number(value) or value < ATTENDED_PERCENT_MIN:
        raise ValidationError(ATTENDED_PERCENT_MESSAGE, code="min_value", params=params)
    if value > ATTENDED_PERCENT_MAX:
        raise ValidationError(ATTENDED_PERCENT_MESSAGE, code="max_value", params=params)


def validate_cutoff_hours(value) -> None:
    """Hours before the first session that cancelling closes: 0 to CUTOFF_HOURS_MAX."""
    _validate_whole_number_in(
        value, low=0, high=CUTOFF_HOURS_MAX, low_message=CUTOFF_HOURS_MESSAGE, high_message=CUTOFF_HOURS_MESSAGE
    )


def validate_single_line(value) -> None:
    """Names, titles and links: one line, no control characters (a CR/LF breaks email headers)."""
    if any(unicodedata.category(char) in SINGLE_LINE_REFUSED for char in str(value)):
        raise ValidationError(
            _("Use a single line of text without control characters such as line breaks or tabs."),
            code="control_characters",
        )


def validate_multi_line(value) -> None:
    """Descriptions: line breaks and tabs are fine; NUL and other control characters are not."""
    for char in str(value):
        category = unicodedata.category(char)
        if category == "Cs" or (category == "Cc" and char not in MULTI_LINE_ALLOWED_CONTROLS):
            raise ValidationError(_("Remove the control characters from this text."), code="control_characters")


def session_range_message() -> str:
    return SESSION_RANGE_MESSAGE % {"first": SESSION_YEAR_MIN, "last": SESSION_YEAR_MAX}


def validate_session_local_year(value: datetime) -> None:
    """A wall-clock time typed for a session: its year is in the session range (checked before any
    conversion, which overflows near the years 1 and 9999)."""
    if not SESSION_YEAR_MIN <= value.year <= SESSION_YEAR_MAX:
        raise ValidationError(session_range_message(), code="out_of_range")


def validate_session_moment(value: datetime) -> None:
    """A session's start or finish (aware) lies within the session range."""
    if not isinstance(value, datetime) or value.tzinfo is None or not SESSION_EARLIEST <= value < SESSION_LATEST:
        raise ValidationError(session_range_message(), code="out_of_range")


def is_whole_number(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def problems(value, *validators) -> list[str]:
    """The messages `validators` give for `value` (empty when it passes), for services that
    collect every problem before refusing."""
    for validator in validators:
        try:
            validator(value)
        except ValidationError as exc:
            return list(exc.messages)
    return []


def reminder_offsets_parse(value: str) -> list[int]:
    """ "24, 1" -> [24, 1] (largest first, no repeats); ValueError when it is not a short list of hours in bounds."""
    parts = [part.strip() for part in str(value).split(",")]
    if not all(part.isascii() and part.isdigit() and len(part) <= 4 for part in parts):
        raise ValueError(value)
    hours = sorted({int(part) for part in parts}, reverse=True)
    if len(hours) > REMINDERS_MAX or not all(REMINDER_HOURS_MIN <= hour <= REMINDER_HOURS_MAX for hour in hours):
        raise ValueError(value)
    return hours


def validate_reminder_offsets(value) -> None:
    """A seminar's reminders: blank (the site's default) or hours before the first session, e.g. "24, 1"."""
    if not str(value).strip():
        return
    try:
        reminder_offsets_parse(value)
    except ValueError:
        raise ValidationError(
            REMINDER_OFFSETS_MESSAGE,
            code="invalid",
            params={"count": REMINDERS_MAX, "minimum": REMINDER_HOURS_MIN, "maximum": REMINDER_HOURS_MAX},
        ) from None
