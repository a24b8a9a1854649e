"""What changes a user's cached row and site-admin flag (lms.userfacts): any save or delete of the user, their
groups and permissions, and any group's permissions."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from lms import userfacts
from lms.permissions import holds_site_admin_permission

userfacts.register("site_admin", holds_site_admin_permission)

User = get_user_model()


@receiver(post_save, sender=User, dispatch_uid="lms.userfacts.user_saved")
def _user_saved(sender, instance, created, **kwargs):
    if not created:
        userfacts.user_changed(instance.pk)


@receiver(post_delete, sender=User, dispatch_uid="lms.userfacts.user_deleted")
def _user_deleted(sender, instance, **kwargs):
    userfacts.user_changed(instance.pk)


def _members_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if not action.startswith("post_"):
        return
    if not reverse:  # user.groups.add(...) / user.user_permissions.add(...)
        userfacts.user_changed(instance.pk)
    elif pk_set:  # group.user_set.add(...) / permission.user_set.add(...)
        for user_id in pk_set:
            userfacts.user_changed(user_id)
    else:  # group.user_set.clear(): who was in it is no longer known
        userfacts.everyone_changed()


m2m_changed.connect(_members_changed, sender=User.groups.through, dispatch_uid="lms.userfacts.groups")
m2m_changed.connect(_members_changed, sender=User.user_permissions.through, dispatch_uid="lms.userfacts.perms")


@receiver(m2m_changed, sender=Group.permissions.through, dispatch_uid="lms.userfacts.group_permissions")
def _group_permissions_changed(sender, action, **kwargs):
    if action.startswith("post_"):
        userfacts.everyone_changed()


@receiver(post_delete, sender=Group, dispatch_uid="lms.userfacts.group_deleted")
@receiver(post_delete, sender=Permission, dispatch_uid="lms.userfacts.permission_deleted")
def _grants_deleted(sender, **kwargs):
    userfacts.everyone_changed()
