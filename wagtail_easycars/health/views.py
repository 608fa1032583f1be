"""The health endpoints for uptime monitors: 200 when healthy, 503 when not, JSON either way.

Only a caller with ``HEALTH_TOKEN`` (``Authorization: Bearer <token>`` or ``?token=``) or a
logged-in staff user gets an answer; anyone else gets a 404, so the endpoint does not reveal
that it exists, let alone which dealerships the site syncs.
"""

import hmac

from django.db import DatabaseError
from django.http import Http404, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ..conf import get_setting
from . import checks


def given_token(request):
    """The token the caller sent: the bearer token of ``Authorization`` or ``?token=``."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.GET.get("token", "")


def authorised(request):
    """The health token (compared in constant time) or a logged-in staff user."""
    token = get_setting("HEALTH_TOKEN")
    if token and hmac.compare_digest(given_token(request).encode(), str(token).encode()):
        return True
    try:
        user = getattr(request, "user", None)
        return bool(user and user.is_authenticated and user.is_staff)
    except DatabaseError:  # the session cannot be read while the database is down; the token still works
        return False


def respond(request, run):
    if not authorised(request):
        raise Http404
    body = checks.report(run())
    return JsonResponse(body, status=200 if body["ok"] else 503)


@never_cache
@require_GET
def health(request):
    """Every check: database, job system, cache, EasyCars breakers, dealership freshness."""
    return respond(request, checks.run_checks)


@never_cache
@require_GET
def live(request):
    """Liveness: the database only, never EasyCars or the job system."""
    return respond(request, checks.liveness)
