"""The admin API's endpoints (docs/api.md); what they do is ``admin.services``'s and the settings form's."""

from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.response import Response

from ...models import SyncLog
from ..access import credential_permission_policy, scoped_queryset_for_model, sync_permission_policy
from ..forms import CredentialForm
from ..services import connection_test_outcome, delete_credential, log_connection_test, trigger_sync
from .base import AdminApiMixin, AdminApiView
from .errors import ApiError
from .filters import SyncLogFilterBackend
from .naming import read, with_camel_aliases
from .pagination import SyncLogPagination
from .serializers import (
    ConnectionTestSerializer,
    CredentialMetadataSerializer,
    SyncLogDetailSerializer,
    SyncLogSummarySerializer,
    SyncStatusSerializer,
    TriggerResultSerializer,
)
from .status import sync_status

#: The settings form's fields, as accepted in a request (snake_case, or the deprecated camelCase).
CREDENTIAL_FIELDS = (
    "environment",
    "client_id",
    "client_secret",
    "account_number",
    "account_secret",
    "yard_code",
    "save_without_testing",
)
TRUE_VALUES = (True, "true", "on", "1", 1)
#: The settings form's own error codes, answered as the error's ``code`` instead of ``invalid``.
KEY_ERROR_CODES = ("credentials_unreadable", "encryption_key_missing")


class CredentialFormMixin:
    """The request's fields in the settings screen's ``CredentialForm``, so both validate alike."""

    permission_policy = credential_permission_policy
    permission_required = "manage_credentials"

    def bound_form(self):
        body = self.request.data
        if not hasattr(body, "get"):
            raise ApiError(_("The request body must be a JSON object."), "invalid_json")
        data = {}
        for name in CREDENTIAL_FIELDS:
            value = read(body, name)
            if value is None:
                continue
            if name == "save_without_testing":
                value = "on" if value in TRUE_VALUES else ""
            data[name] = str(value)
        return CredentialForm(data, credential=self.credential)

    @staticmethod
    def invalid(form):
        """The 400 for a form that did not validate: the first message, and each field's under ``errors``.

        A form-wide error about the encryption keys gives its own code and message, so a script can tell it apart.
        """
        errors = {name: [str(message) for message in messages] for name, messages in form.errors.items()}
        first = next(iter(errors.values()))[0] if errors else _("The data is not valid.")
        code = "invalid"
        for error in form.non_field_errors().as_data():
            if error.code in KEY_ERROR_CODES:
                first, code = str(error.message), error.code
        return ApiError(first, code, errors=with_camel_aliases(errors))


class CredentialsView(CredentialFormMixin, AdminApiView):
    """``GET``: the stored credentials' metadata. ``POST``: save (tested, or ``save_without_testing``)."""

    def get(self, request):
        if self.credential is None:
            raise ApiError(_("No EasyCars credentials are configured for this dealership."), "not_configured", 404)
        return Response(CredentialMetadataSerializer(self.credential).data)

    def post(self, request):
        form = self.bound_form()
        created = form.credential is None
        if not form.validate_for_save(request, self.dealership):
            raise self.invalid(form)
        credential = form.save(self.dealership, request.user, tested=form.was_tested(request, self.dealership))
        return Response(CredentialMetadataSerializer(credential).data, status=201 if created else 200)


class TestConnectionView(CredentialFormMixin, AdminApiView):
    """``POST``: test credentials without saving them; a success is remembered for the save."""

    def post(self, request):
        form = self.bound_form()
        if not form.is_valid():
            raise self.invalid(form)
        account = form.effective_account()
        outcome = connection_test_outcome(account)
        log_connection_test(self.dealership, request.user, outcome)
        if outcome["ok"]:
            CredentialForm.remember_successful_test(request, account, self.dealership)
        return Response(ConnectionTestSerializer(outcome).data)


class CredentialDetailView(AdminApiView):
    """``DELETE``: the dealership's credentials, by id (another id is a 404)."""

    permission_policy = credential_permission_policy
    permission_required = "manage_credentials"

    def delete(self, request, pk):
        if self.credential is None or self.credential.pk != pk:
            raise Http404("No such credentials.")
        delete_credential(self.credential, request.user)
        return Response(status=204)


class TriggerView(AdminApiView):
    """``POST``: start a sync of ``sync_type`` now, or join the one running (202 either way)."""

    permission_policy = sync_permission_policy
    permission_required = "trigger_sync"
    sync_type = None

    def post(self, request):
        log, started = trigger_sync(self.dealership, self.sync_type, request.user)
        return Response(TriggerResultSerializer(log, context={"started": started}).data, status=202)


class SyncStatusView(AdminApiView):
    """``GET``: the dashboard's SyncSummary."""

    permission_policy = sync_permission_policy
    permission_required = "view_sync_status"

    def get(self, request):
        return Response(SyncStatusSerializer(sync_status(self.dealership)).data)


class SyncLogsView(AdminApiMixin, ListAPIView):
    """``GET``: the dealership's runs, newest first, filtered and paginated."""

    permission_policy = sync_permission_policy
    permission_required = "view_sync_status"
    serializer_class = SyncLogSummarySerializer
    filter_backends = [SyncLogFilterBackend]
    pagination_class = SyncLogPagination

    def get_queryset(self):
        return SyncLog.objects.filter(dealership=self.dealership).select_related("triggered_by")


class SyncLogDetailView(AdminApiMixin, RetrieveAPIView):
    """``GET``: one run in full, of any dealership the user can see."""

    permission_policy = sync_permission_policy
    permission_required = "view_sync_status"
    serializer_class = SyncLogDetailSerializer

    def get_queryset(self):
        return scoped_queryset_for_model(SyncLog, self.request.user).select_related("dealership", "triggered_by")
