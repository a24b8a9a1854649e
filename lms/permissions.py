"""Who is a site admin: one rule for every app of the site.

It lives at the project level because both `seminars` and `virtualmeeting` need it
and `virtualmeeting` must not import `seminars`.
"""

from django.contrib.auth import get_user_model
from django.db.models import Q

from lms.userfacts import fact

# The permission is named by string: the apps that check it need not import the app that defines it.
SITE_ADMIN_PERMISSION = "seminars.manage_site"


def is_site_admin(user) -> bool:
    """Active superusers, and active staff users holding seminars.manage_site.

    Checking is_staff first spares every learner's and trainer's request the two
    permission queries has_perm would run.
    """
    if not (user.is_authenticated and user.is_active):
        return False
    if user.is_superuser or not user.is_staff:
        return user.is_superuser
    # Staff: Django's permission check costs two queries; the answer is cached per user (lms.userfacts).
    return fact(user, "site_admin")


def holds_site_admin_permission(user) -> bool:
    return user.is_staff and user.has_perm(SITE_ADMIN_PERMISSION)


def site_admins():
    """The active site admins (is_site_admin as a query), for telling them something; by id."""
    app_label, codename = SITE_ADMIN_PERMISSION.split(".")
    holds = Q(user_permissions__codename=codename, user_permissions__content_type__app_label=app_label) | Q(
        groups__permissions__codename=codename, groups__permissions__content_type__app_label=app_label
    )
    User = get_user_model()
    ids = User.objects.filter(Q(is_superuser=True) | (Q(is_staff=True) & holds), is_active=True).values("pk")
    return User.objects.filter(pk__in=ids).order_by("pk")
