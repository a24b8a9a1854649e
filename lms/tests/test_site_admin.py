"""One site-admin rule: the seminars pages and the virtual meeting settings agree on who is a site admin."""

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from lms.permissions import is_site_admin

PAGES = [reverse("seminars:site_rooms"), reverse("virtualmeeting:settings_index")]


def _user(username, *, staff=False, superuser=False, permission=False, active=True):
    user = User.objects.create_user(username, password="x", is_staff=staff, is_superuser=superuser, is_active=active)
    if permission:
        user.user_permissions.add(Permission.objects.get(codename="manage_site"))
    return User.objects.get(pk=user.pk)  # a fresh instance: no permission cache


# Who is a site admin: superusers, and staff holding seminars.manage_site; nobody inactive.
MATRIX = {
    "superuser": ({"superuser": True, "staff": True}, True),
    "superuser, not staff": ({"superuser": True}, True),
    "staff with the permission": ({"staff": True, "permission": True}, True),
    "staff without the permission": ({"staff": True}, False),
    "the permission without staff": ({"permission": True}, False),
    "inactive superuser": ({"superuser": True, "staff": True, "active": False}, False),
    "learner": ({}, False),
}


@pytest.mark.parametrize("who", list(MATRIX))
def test_seminars_and_virtual_meetings_agree_on_site_admins(client, db, who):
    flags, admin = MATRIX[who]
    user = _user("someone", **flags)
    assert is_site_admin(user) is admin
    if not user.is_active:
        return  # cannot log in at all
    client.force_login(user)
    statuses = [client.get(page).status_code for page in PAGES]
    assert statuses == ([200, 200] if admin else [403, 403])
