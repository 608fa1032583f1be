"""The admin API's permission check: the one its screen makes, through ``admin.access``."""

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

from ..access import can, role_refusal


class ScreenPermission(BasePermission):
    """Grants ``view.permission_required`` as ``view.permission_policy`` decides (like the HTML screens).

    Which dealership an endpoint may be about is ``access.resolve_dealership``'s (the role is part
    of it); an object of a dealership (a run) also needs the role there for the action.
    """

    message = _("You do not have permission to do this.")
    code = "permission_denied"

    def has_permission(self, request, view):
        return view.permission_policy.user_has_permission(request.user, view.permission_required)

    def has_object_permission(self, request, view, obj):
        if can(request.user, view.permission_required, obj.dealership):
            return True
        self.message = role_refusal(obj.dealership)
        return False
