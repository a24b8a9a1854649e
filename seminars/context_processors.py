"""Header data for every page: the main navigation, the site administration menu and notifications."""

import logging
from functools import cached_property

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from lms.userfacts import fact
from seminars.permissions import is_site_admin
from seminars.selectors.approvals import decidable_request_count

logger = logging.getLogger(__name__)

# url names (without namespace) that belong to each header section, for the "active" highlight.
_SECTIONS = {
    "sessions": {"dashboard"},
    "rooms": {"site_rooms", "site_room_add", "site_room_edit", "room"},
    "approvals": {"approvals"},
}
# Pages of the user menu and of Site administration: no header section is theirs.
_NO_SECTION = {
    "profile",
    "notifications",
    "email_templates",
    "email_template_edit",
    "email_template_reset",
    "handovers",
    "handover",
    "owner_handover",
    "room_handover",
}


def admin_menu(user):
    """The "Site administration" menu: (label, url) pairs.

    Other apps add entries through settings.SEMINARS_ADMIN_MENU: (label, url name) pairs, or the dotted path
    of a function that gives (label, url) pairs (virtualmeeting.conf.admin_menu: one entry per provider).
    An entry whose url name does not resolve is left out (its app is not installed).
    """
    if not is_site_admin(user):
        return []
    entries = [
        (_("Add a new course"), reverse("seminars:course_add")),
        (_("Rooms"), reverse("seminars:site_rooms")),
        (_("Room handovers"), reverse("seminars:handovers")),
        (_("Email templates"), reverse("seminars:email_templates")),
    ]
    if user.is_staff:
        entries.append((_("Django admin"), reverse("admin:index")))
    for entry in getattr(settings, "SEMINARS_ADMIN_MENU", []):
        if isinstance(entry, str):
            entries.extend(import_string(entry)())
            continue
        label, url_name = entry
        try:
            entries.append((label, reverse(url_name)))
        except NoReverseMatch:
            logger.warning("SEMINARS_ADMIN_MENU entry %r names an unknown url %r", label, url_name)
    return entries


class NotificationSummary:
    """The bell: read when a template reads it, from the user's cached facts (lms.userfacts)."""

    def __init__(self, user):
        self.user = user

    @property
    def unread_count(self):
        return fact(self.user, "unread")

    @property
    def recent(self):
        return fact(self.user, "recent")


class ApprovalSummary:
    """The "Approvals" link: the requests the user may decide, counted once when a template reads it."""

    def __init__(self, user):
        self.user = user

    @cached_property
    def count(self):
        return decidable_request_count(user=self.user)


def _active_section(request):
    match = getattr(request, "resolver_match", None)
    if match is None or match.namespace != "seminars":
        return ""
    for section, names in _SECTIONS.items():
        if match.url_name in names:
            return section
    if match.url_name in _NO_SECTION:
        return ""
    return "courses"


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {
            "admin_menu": [],
            "user_is_site_admin": False,
            "notifications": None,
            "approvals": None,
            "nav_active": "",
            # The log in page names the demo accounts on development sites only.
            "show_demo_hint": getattr(settings, "SEMINARS_DEMO_HINT", settings.DEBUG),
        }
    return {
        "admin_menu": admin_menu(user),
        "user_is_site_admin": is_site_admin(user),
        "rooms_url": reverse("seminars:site_rooms"),
        "notifications": NotificationSummary(user),
        "approvals": ApprovalSummary(user),
        "nav_active": _active_section(request),
    }
