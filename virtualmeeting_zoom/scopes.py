"""The OAuth scopes this provider needs, in Zoom's two scope models.

Apps created since March 2024 get granular scopes (`service:action:data`);
older apps keep classic ones. A grant is enough when it holds the whole
granular set or the whole classic set. The lists are the minimum the provider
uses: who am I, create, read, list, update, delete.
"""

import re

# (scope, what it is for), in the order an admin ticks them in the Marketplace.
GRANULAR_SCOPES = [
    ("user:read:user", "View a user: GET /users/me, read at connect time"),
    ("meeting:write:meeting", "Create a meeting for a user"),
    ("meeting:read:meeting", "View a meeting: fresh host link, repairs"),
    ("meeting:read:list_meetings", "View a user's meetings: find a meeting whose creation answer was lost"),
    ("meeting:update:meeting", "Update a meeting"),
    ("meeting:delete:meeting", "Delete a meeting"),
]

# A classic requirement may be met by any of its alternatives.
CLASSIC_SCOPES = [
    (("user:read", "user_info:read"), "View your user information"),
    (("meeting:write",), "View and manage your meetings (create, update, delete)"),
    (("meeting:read",), "View your meetings"),
]


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
            missing.append(" or ".join(alternatives))
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
