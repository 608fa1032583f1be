"""The admin API's permission check: the one its screen makes, through ``admin.access``'s policies."""

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission


class ScreenPermission(BasePermission):
    """Grants ``view.permission_required`` as ``view.permission_policy`` decides (like the HTML screens)."""

    message = _("You do not have permission to do this.")
    code = "permission_denied"

    def has_permission(self, request, view):
        return view.permission_policy.user_has_permission(request.user, view.permission_required)
