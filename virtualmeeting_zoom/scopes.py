"""The OAuth scopes this provider needs, in Zoom's two scope models.

Apps created since March 2024 get granular scopes (`service:action:data`);
older apps keep classic ones. A grant is enough when it holds the whole
granular set or the whole classic set. The lists are the minimum the provider
uses: who am I, create, read, list, update, delete.
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
    (("meeting:write",), gettext_lazy("View and manage your meetings (create, update, delete)")),
    (("meeting:read",), gettext_lazy("View your meetings")),
]


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


def missing_granular(granted: set[str]) -> list[str]:
    return [scope for scope, _ in GRANULAR_SCOPES if not _has(granted, scope)]


def missing_classic(granted: set[str]) -> list[str]:
    missing = []
    for alternatives, _ in CLASSIC_SCOPES:
        if not any(_has(granted, scope) for scope in alternatives):
            missing.append(any_of(alternatives))
    return missing


def missing_scopes(granted: str) -> list[str]:
    """The scopes to add so the grant is enough, named in the grant's own model; [] when it is enough.

    A grant that holds granular scopes is judged as granular, a classic one as
    classic; an empty or unrecognisable grant gets the granular list (what a
    new Marketplace app uses).
    """
    scopes = parse_scopes(granted)
    granular = missing_granular(scopes)
    classic = missing_classic(scopes)
    if not granular or not classic:
        return []
    looks_granular = any(scope.count(":") >= 2 for scope in scopes)
    looks_classic = any(scope.count(":") == 1 for scope in scopes)
    if looks_classic and not looks_granular:
        return classic
    return granular
