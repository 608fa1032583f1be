"""Helpers for admin tests: editors with Wagtail admin access and model permissions."""

from django.contrib.auth.models import Group, Permission

from .factories import MembershipFactory, UserFactory

#: The permissions a dealership editor typically gets through a Wagtail group.
EDITOR_PERMISSIONS = (
    "wagtailadmin.access_admin",
    *(
        f"wagtail_easycars.{action}_{model}"
        for model in ("vehicle", "lead")
        for action in ("add", "change", "delete", "view")
    ),
)


def grant(user, *codenames):
    """Give ``user`` permissions ("app_label.codename") through a group, as a site would."""
    group, _ = Group.objects.get_or_create(name=f"perms-{user.pk}")
    for dotted in codenames:
        app_label, codename = dotted.split(".")
        group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    user.groups.add(group)
    return user


def make_editor(*dealerships, permissions=EDITOR_PERMISSIONS, role="admin"):
    """A non-superuser member of ``dealerships`` with ``permissions``."""
    user = UserFactory()
    for dealership in dealerships:
        MembershipFactory(user=user, dealership=dealership, role=role)
    return grant(user, *permissions)
