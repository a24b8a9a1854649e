"""The OAuth scopes this provider needs, in Zoom's two scope models.

Apps created since March 2024 get granular scopes (`service:action:data`);
older apps keep classic ones. A grant is enough when it holds the whole
granular set or the whole classic set. The lists are the minimum the provider
uses: who am I, create, read, list, update, delete.

The capability scopes (attendance, recordings, registrants) are optional: a
grant without them still makes meetings, and the owner is told to reconnect to
enable what is missing (`missing_capability`). The names come from the OpenAPI
spec's classic scopes (past participants and listing registrants: meeting:read;
adding, batch and status of registrants: meeting:write; recordings:
recording:read) and Zoom's granular scope list for the same endpoints.
"""

import re

from django.utils.translation import gettext, gettext_lazy

# (scope, what it is for), in the order an admin ticks them in the Marketplace.
GRANULAR_SCOPES = [
    ("user:read:user", gettext_lazy("View a user: GET /users/me, read at connect time")),
    ("meeting:write:meeting", gettext_lazy("Create a meeting for a user")),
    ("meeting:read:meeting", gettext_lazy("View a meeting: fresh host link, repairs")),
    (
        "meeting:read:list_meetings",
        gettext_lazy("View a user's meetings: find a meeting whose creation answer was lost"),
    ),
    ("meeting:update:meeting", gettext_lazy("Update a meeting")),
    ("meeting:delete:meeting", gettext_lazy("Delete a meeting")),
]

# A classic requirement may be met by any of its alternatives.
CLASSIC_SCOPES = [
    (("user:read", "user_info:read"), gettext_lazy("View your user information")),
    (
        ("meeting:write",),
        gettext_lazy(
            "View and manage your meetings (create, update, delete) and, for personal join links, their registrants"
        ),
    ),
    (("meeting:read",), gettext_lazy("View your meetings (and their registrants, for personal join links)")),
]

# What a Server-to-Server app (one Zoom account for the whole site) needs: every host's meetings, and the
# account's users to choose hosts from. Admin scopes only: a user-level scope does not reach other users.
ACCOUNT_GRANULAR_SCOPES = [
    ("user:read:list_users:admin", gettext_lazy("List the account's users: the hosts to choose from")),
    ("user:read:user:admin", gettext_lazy("View a user: the host's licence")),
    ("meeting:write:meeting:admin", gettext_lazy("Create a meeting for a host")),
    ("meeting:read:meeting:admin", gettext_lazy("View a meeting: fresh host link, repairs")),
    (
        "meeting:read:list_meetings:admin",
        gettext_lazy("View a host's meetings: find a meeting whose creation answer was lost"),
    ),
    ("meeting:update:meeting:admin", gettext_lazy("Update a meeting")),
    ("meeting:delete:meeting:admin", gettext_lazy("Delete a meeting")),
]
ACCOUNT_CLASSIC_SCOPES = [
    (("user:read:admin",), gettext_lazy("View all users' information")),
    (("meeting:write:admin",), gettext_lazy("View and manage all users' meetings")),
    (("meeting:read:admin",), gettext_lazy("View all users' meetings")),
]


# Capability -> the scopes it needs, granular and classic (a classic requirement met by any alternative).
CAPABILITY_GRANULAR_SCOPES = {
    "attendance": [
        (
            "meeting:read:list_past_participants",
            gettext_lazy("Optional, for attendance: view a past meeting's participants"),
        )
    ],
    "recordings": [
        (
            "cloud_recording:read:list_recording_files",
            gettext_lazy("Optional, for recordings: view a meeting's cloud recordings"),
        )
    ],
    "registrants": [
        ("meeting:write:registrant", gettext_lazy("Optional, for personal join links: register a person")),
        (
            "meeting:write:batch_registrants",
            gettext_lazy("Optional, for personal join links: register up to 30 people at once"),
        ),
        (
            "meeting:read:list_registrants",
            gettext_lazy("Optional, for personal join links: list a meeting's registrants after a lost answer"),
        ),
        (
            "meeting:update:registrant_status",
            gettext_lazy("Optional, for personal join links: cancel a registration"),
        ),
    ],
}
CAPABILITY_CLASSIC_SCOPES = {
    "attendance": [(("meeting:read",), gettext_lazy("View your meetings (past participants too)"))],
    "recordings": [(("recording:read",), gettext_lazy("Optional, for recordings: view your recordings"))],
    # Already required for meetings (their purposes above name personal join links).
    "registrants": [(("meeting:write",), ""), (("meeting:read",), "")],
}


def any_of(alternatives) -> str:
    """Scopes any one of which will do, for people: "user:read or user_info:read"."""
    text = alternatives[0]
    for scope in alternatives[1:]:
        text = gettext("%(scopes)s or %(scope)s") % {"scopes": text, "scope": scope}
    return text


def parse_scopes(granted: str) -> set[str]:
    """Zoom sends space separated scopes; tolerate commas too."""
    return {scope for scope in re.split(r"[\s,]+", granted or "") if scope}


def _has(granted: set[str], scope: str) -> bool:
    # An admin-level grant (`...:admin`) covers the user-level scope.
    return scope in granted or f"{scope}:admin" in granted


def missing_granular(granted: set[str], required=GRANULAR_SCOPES) -> list[str]:
    return [scope for scope, _ in required if not _has(granted, scope)]


def missing_classic(granted: set[str], required=CLASSIC_SCOPES) -> list[str]:
    missing = []
    for alternatives, _ in required:
        if not any(_has(granted, scope) for scope in alternatives):
            missing.append(any_of(alternatives))
    return missing


def missing_scopes(granted: str, *, account: bool = False) -> list[str]:
    """The scopes to add so the grant is enough, named in the grant's own model; [] when it is enough.

    A grant that holds granular scopes is judged as granular, a classic one as
    classic; an empty or unrecognisable grant gets the granular list (what a
    new Marketplace app uses). `account`: a Server-to-Server app's grant, judged
    against the admin scopes (ACCOUNT_GRANULAR_SCOPES, ACCOUNT_CLASSIC_SCOPES).
    """
    required = (ACCOUNT_GRANULAR_SCOPES, ACCOUNT_CLASSIC_SCOPES) if account else (GRANULAR_SCOPES, CLASSIC_SCOPES)
    scopes = parse_scopes(granted)
    granular = missing_granular(scopes, required[0])
    classic = missing_classic(scopes, required[1])
    if not granular or not classic:
        return []
    return classic if _judged_classic(scopes, required) else granular


def _judged_classic(scopes: set[str], required=(GRANULAR_SCOPES, CLASSIC_SCOPES)) -> bool:
    """Is the grant in the classic model (else granular, what a new Marketplace app uses)?"""
    if not missing_granular(scopes, required[0]):
        return False
    if not missing_classic(scopes, required[1]):
        return True
    # Granular names have one more part than classic ones: "meeting:write:meeting" / "meeting:write", and
    # with ":admin" (a Server-to-Server app's) "meeting:write:meeting:admin" / "meeting:write:admin".
    parts = min(scope.count(":") for scope, _ in required[0])
    looks_granular = any(scope.count(":") >= parts for scope in scopes)
    looks_classic = any(scope.count(":") == parts - 1 for scope in scopes)
    return looks_classic and not looks_granular


def missing_capability(granted: str) -> dict[str, list[str]]:
    """Capability ("attendance", "recordings", "registrants") -> the scopes to add for it, in the grant's own model.

    {} when the grant has them all.
    """
    scopes = parse_scopes(granted)
    classic = _judged_classic(scopes)
    missing = {}
    for capability, needed in CAPABILITY_GRANULAR_SCOPES.items():
        if classic:
            lacking = [
                any_of(alternatives)
                for alternatives, _ in CAPABILITY_CLASSIC_SCOPES[capability]
                if not any(_has(scopes, scope) for scope in alternatives)
            ]
        else:
            lacking = [scope for scope, _ in needed if not _has(scopes, scope)]
        if lacking:
            missing[capability] = lacking
    return missing


def account_scopes_to_list() -> tuple[list, list]:
    """What the settings page lists for the Server-to-Server app, granular and classic."""
    return list(ACCOUNT_GRANULAR_SCOPES), [
        (any_of(alternatives), purpose) for alternatives, purpose in ACCOUNT_CLASSIC_SCOPES
    ]


def scopes_to_list() -> tuple[list, list]:
    """What the settings page lists, granular and classic: the required scopes, then the optional ones."""
    granular = [*GRANULAR_SCOPES, *(item for items in CAPABILITY_GRANULAR_SCOPES.values() for item in items)]
    required = {alternatives for alternatives, _ in CLASSIC_SCOPES}
    optional = [item for items in CAPABILITY_CLASSIC_SCOPES.values() for item in items if item[0] not in required]
    classic = [(any_of(alternatives), purpose) for alternatives, purpose in [*CLASSIC_SCOPES, *optional]]
    return granular, classic
