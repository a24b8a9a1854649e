"""Who is a site admin: one rule for every app of the site.

It lives at the project level because both `seminars` and `virtualmeeting` need it
and `virtualmeeting` must not import `seminars`.
"""

# The permission is named by string: the apps that check it need not import the app that defines it.
SITE_ADMIN_PERMISSION = "seminars.manage_site"


def is_site_admin(user) -> bool:
    """Active superusers, and active staff users holding seminars.manage_site.

    Checking is_staff first spares every learner's and trainer's request the two
    permission queries has_perm would run.
    """
    if not (user.is_authenticated and user.is_active):
        return False
    return user.is_superuser or (user.is_staff and user.has_perm(SITE_ADMIN_PERMISSION))
