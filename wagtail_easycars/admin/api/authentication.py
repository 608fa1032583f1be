"""The admin's session login, with DRF's CSRF check for unsafe methods."""

from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import PermissionDenied


class AdminSessionAuthentication(SessionAuthentication):
    """DRF's ``SessionAuthentication``; a failed CSRF check is a 403 with code ``csrf_failed``."""

    csrf_failed_message = _("The CSRF token is missing or wrong; reload the page and try again.")

    def enforce_csrf(self, request):
        try:
            super().enforce_csrf(request)
        except PermissionDenied as exc:
            raise PermissionDenied(self.csrf_failed_message, code="csrf_failed") from exc
