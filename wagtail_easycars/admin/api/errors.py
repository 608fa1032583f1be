"""Every error of the admin API as ``{"message": ..., "code": ...}`` (some add ``errors``), whatever raised it."""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework.exceptions import APIException, ParseError
from rest_framework.response import Response
from rest_framework.views import set_rollback

from ... import crypto
from ..services import UNREADABLE_CREDENTIALS_MESSAGE, TriggerRefused

#: Where an unexpected error is reported: Django's own logger of failed requests, so a site's
#: error reporting (ADMINS mail, Sentry) still hears of it although the client gets JSON.
request_logger = logging.getLogger("django.request")


class ApiError(APIException):
    """An error answer: ``{"message": message, "code": code, **extra}`` with HTTP ``status``."""

    def __init__(self, message, code, status=400, *, retry_after=None, **extra):
        super().__init__(detail=str(message), code=code)
        self.status_code = status
        self.retry_after = retry_after
        self.extra = extra


def _as_api_error(exc, request):
    """The admin API's own error for exceptions DRF does not shape, or ``exc`` unchanged."""
    if isinstance(exc, TriggerRefused):
        return ApiError(exc.message, exc.code, exc.status, retry_after=exc.retry_after)
    if isinstance(exc, Http404):
        return ApiError(_("Not found."), "not_found", 404)
    if isinstance(exc, DjangoPermissionDenied):
        # access.require says why (the user's role at the dealership); others say nothing.
        return ApiError(str(exc) or _("You do not have permission to do this."), "permission_denied", 403)
    if isinstance(exc, ParseError) and request is not None and request.content_type.startswith("application/json"):
        return ApiError(_("The request body is not valid JSON."), "invalid_json")
    if isinstance(exc, crypto.SecretDecryptionError):
        return ApiError(UNREADABLE_CREDENTIALS_MESSAGE, "credentials_unreadable", 409)
    if isinstance(exc, crypto.EncryptionKeyError):
        return ApiError(str(exc), "encryption_key_missing", 500)
    return exc


def _unexpected(exc, request):
    """A JSON 500 for an exception nothing else shaped, reported as Django reports a failed request."""
    django_request = getattr(request, "_request", request)
    request_logger.error(
        "Internal Server Error: %s",
        getattr(django_request, "path", "?"),
        exc_info=(type(exc), exc, exc.__traceback__),
        extra={"status_code": 500, "request": django_request},
    )
    return ApiError(
        _("The server could not do this because of an unexpected error; it has been logged."), "server_error", 500
    )


def exception_handler(exc, context):
    """DRF's ``EXCEPTION_HANDLER`` for the admin API views: JSON for every error, a logged 500 for the unexpected."""
    request = context.get("request")
    exc = _as_api_error(exc, request)
    if not isinstance(exc, APIException):
        exc = _unexpected(exc, request)
    body = {"message": str(exc.detail), "code": exc.get_codes()}
    if isinstance(exc.detail, list | dict):  # a serializer's ValidationError: one message per field
        body = {"message": _("The data is not valid."), "code": "invalid", "errors": exc.detail}
    body.update(getattr(exc, "extra", {}))
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    retry_after = getattr(exc, "retry_after", None) or getattr(exc, "wait", None)
    if retry_after:
        headers["Retry-After"] = str(int(retry_after))
    set_rollback()
    return Response(body, status=exc.status_code, headers=headers)
