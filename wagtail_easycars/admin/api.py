"""JSON endpoints behind the EasyCars admin screens (also usable by scripts with an admin session).

They live under the Wagtail admin's URL space, so the admin's session login applies; unsafe
methods need the CSRF token; each endpoint requires the same permission as its screen, and every
answer is about one of the user's dealerships (``?dealership=<slug>`` picks one). Errors are
``{"message": ..., "code": ...}``. Secrets are accepted, never returned.
"""

import json

from django.core.exceptions import ValidationError
from django.core.paginator import EmptyPage, Paginator
from django.http import Http404, HttpResponse, JsonResponse, QueryDict
from django.middleware.csrf import CsrfViewMiddleware
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from ..models import SyncLog
from .access import has_permission, resolve_dealership
from .api_payloads import credential_metadata, log_detail, log_summary, sync_summary
from .forms import CredentialForm
from .history import SyncLogFilterSet
from .services import TriggerRefused, connection_test_outcome, delete_credential, log_connection_test, trigger_sync

FIELD_NAMES = {
    "environment": "environment",
    "clientId": "client_id",
    "clientSecret": "client_secret",
    "accountNumber": "account_number",
    "accountSecret": "account_secret",
    "yardCode": "yard_code",
    "saveWithoutTesting": "save_without_testing",
}
CAMEL_NAMES = {snake: camel for camel, snake in FIELD_NAMES.items()}
MAX_PAGE_SIZE = 100


def error(message, code, status, **extra):
    return JsonResponse({"message": str(message), "code": code, **extra}, status=status)


@method_decorator(csrf_exempt, name="dispatch")  # checked below, so a failure can answer in JSON
class ApiView(View):
    #: The codename the user needs (``view_sync_status``, ``trigger_sync`` or ``manage_credentials``).
    permission_required = None

    def dispatch(self, request, *args, **kwargs):
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            rejected = CsrfViewMiddleware(lambda req: None).process_view(request, None, (), {})
            if rejected is not None:
                return error(
                    _("The CSRF token is missing or wrong; reload the page and try again."), "csrf_failed", 403
                )
        if not has_permission(request.user, self.permission_required):
            return error(_("You do not have permission to do this."), "permission_denied", 403)
        try:
            return super().dispatch(request, *args, **kwargs)
        except Http404:
            return error(_("Not found."), "not_found", 404)

    def http_method_not_allowed(self, request, *args, **kwargs):
        response = error(_("Method not allowed."), "method_not_allowed", 405)
        response["Allow"] = ", ".join(m.upper() for m in self._allowed_methods())
        return response

    @cached_property
    def dealership(self):
        dealership = resolve_dealership(self.request)
        if dealership is None:
            raise Http404
        return dealership

    def body(self):
        """The request's fields, from JSON or form encoding."""
        if self.request.content_type == "application/json":
            try:
                data = json.loads(self.request.body or b"{}")
            except (ValueError, UnicodeDecodeError) as exc:
                raise ValidationError(_("The request body is not valid JSON.")) from exc
            if not isinstance(data, dict):
                raise ValidationError(_("The request body must be a JSON object."))
            return data
        if self.request.method == "POST":
            return self.request.POST
        return QueryDict(self.request.body)


class CredentialFormMixin:
    def bound_form(self):
        try:
            body = self.body()
        except ValidationError as exc:
            return None, error(exc.messages[0], "invalid_json", 400)
        data = {}
        for camel, snake in FIELD_NAMES.items():
            value = body.get(camel, body.get(snake))
            if value is None:
                continue
            if snake == "save_without_testing":
                value = "on" if value in (True, "true", "on", "1", 1) else ""
            data[snake] = str(value)
        credential = getattr(self.dealership, "easycars_credential", None)
        return CredentialForm(data, credential=credential), None

    def invalid(self, form):
        errors = {CAMEL_NAMES.get(name, name): [str(m) for m in messages] for name, messages in form.errors.items()}
        first = next(iter(form.errors.values()))[0] if form.errors else _("The data is not valid.")
        return error(first, "invalid", 400, errors=errors)


class CredentialsView(CredentialFormMixin, ApiView):
    permission_required = "manage_credentials"

    def get(self, request):
        credential = getattr(self.dealership, "easycars_credential", None)
        if credential is None:
            return error(_("No EasyCars credentials are configured for this dealership."), "not_configured", 404)
        return JsonResponse(credential_metadata(credential))

    def post(self, request):
        form, failure = self.bound_form()
        if failure:
            return failure
        created = form.credential is None
        if not form.validate_for_save(request, self.dealership):
            return self.invalid(form)
        credential = form.save(self.dealership, request.user, tested=form.was_tested(request, self.dealership))
        return JsonResponse(credential_metadata(credential), status=201 if created else 200)


class CredentialDetailView(ApiView):
    permission_required = "manage_credentials"

    def delete(self, request, pk):
        credential = getattr(self.dealership, "easycars_credential", None)
        if credential is None or credential.pk != pk:
            raise Http404
        delete_credential(credential, request.user)
        return HttpResponse(status=204)


class TestConnectionView(CredentialFormMixin, ApiView):
    permission_required = "manage_credentials"

    def post(self, request):
        form, failure = self.bound_form()
        if failure:
            return failure
        if not form.is_valid():
            return self.invalid(form)
        account = form.effective_account()
        outcome = connection_test_outcome(account)
        log_connection_test(self.dealership, request.user, outcome)
        if outcome["ok"]:
            CredentialForm.remember_successful_test(request, account, self.dealership)
        return JsonResponse(
            {
                "success": outcome["ok"],
                "message": outcome["message"],
                "failedPair": outcome["failed_pair"],
                "fields": [CAMEL_NAMES[name] for name in outcome["fields"]],
                "code": "ok" if outcome["ok"] else ("authentication_failed" if outcome["failed_pair"] else "failed"),
            }
        )


class TriggerView(ApiView):
    permission_required = "trigger_sync"
    sync_type = None

    def post(self, request):
        try:
            log, started = trigger_sync(self.dealership, self.sync_type, request.user)
        except TriggerRefused as exc:
            response = error(exc.message, exc.code, exc.status)
            if exc.retry_after:
                response["Retry-After"] = str(exc.retry_after)
            return response
        kind = log.get_sync_type_display().lower()
        message = _("The %(kind)s sync has started.") if started else _("A %(kind)s sync is already running.")
        return JsonResponse(
            {
                "runId": log.pk,
                "started": started,
                "joined": not started,
                "status": log.status,
                "message": message % {"kind": kind},
                "run": log_summary(log),
                "statusUrl": reverse("wagtail_easycars_admin:api_log_detail", args=[log.pk]),
            },
            status=202,
        )


class SyncStatusView(ApiView):
    permission_required = "view_sync_status"

    def get(self, request):
        return JsonResponse(sync_summary(self.dealership))


class SyncLogsView(ApiView):
    permission_required = "view_sync_status"
    #: API parameter -> SyncLogFilterSet field.
    filter_params = {
        "syncType": "sync_type",
        "syncDirection": "direction",
        "status": "status",
        "trigger": "trigger",
        "startedFrom": "started_at_from",
        "startedTo": "started_at_to",
    }

    def get(self, request):
        data = {field: request.GET[param] for param, field in self.filter_params.items() if request.GET.get(param)}
        filterset = SyncLogFilterSet(data, SyncLog.objects.filter(dealership=self.dealership), request=request)
        if not filterset.is_valid():
            names = {"started_at": "startedFrom", **{field: param for param, field in self.filter_params.items()}}
            errors = {names.get(name, name): [str(m) for m in messages] for name, messages in filterset.errors.items()}
            return error(_("A filter value is not valid."), "invalid_filter", 400, errors=errors)
        try:
            page_number = int(request.GET.get("page", 1))
            page_size = min(MAX_PAGE_SIZE, max(1, int(request.GET.get("pageSize", 20))))
        except ValueError:
            return error(_("page and pageSize must be whole numbers."), "invalid_page", 400)
        paginator = Paginator(filterset.qs.select_related("triggered_by"), page_size)
        try:
            page = paginator.page(page_number)
        except EmptyPage:
            return error(_("There is no page %(page)s.") % {"page": page_number}, "invalid_page", 404)
        return JsonResponse(
            {
                "logs": [log_summary(log) for log in page.object_list],
                "pagination": {
                    "currentPage": page.number,
                    "pageSize": page_size,
                    "totalRecords": paginator.count,
                    "totalPages": paginator.num_pages,
                },
            }
        )


class SyncLogDetailApiView(ApiView):
    permission_required = "view_sync_status"

    def get(self, request, pk):
        log = SyncLog.objects.for_user(request.user).filter(pk=pk).select_related("triggered_by").first()
        if log is None:
            raise Http404
        return JsonResponse(log_detail(log))
