"""The admin API's answers (docs/api.md): credential metadata, runs, the sync status, triggers, tests.

Read-only serializers with every field listed, so nothing reaches an answer unless named here:
no secret is, credentials are described by the last 4 digits of the account number only. Each
answer's keys are snake_case, followed by their deprecated camelCase spellings (``naming``).
"""

from django.urls import reverse
from django.utils.translation import gettext as _
from rest_framework import serializers

from ...client.redaction import redact
from ..history import payload_for
from .naming import alias_names, with_camel_aliases


class CamelCaseAliases:
    """Adds the deprecated camelCase spelling of each of the serializer's own keys."""

    def to_representation(self, instance):
        return with_camel_aliases(super().to_representation(instance))


class IsoDateTimeField(serializers.ReadOnlyField):
    """ISO 8601 with the value's own offset (stored times are UTC), not moved to the user's time zone."""

    def to_representation(self, value):
        return value.isoformat()


class UsernameField(serializers.ReadOnlyField):
    def to_representation(self, user):
        return user.get_username()


class RedactedField(serializers.ReadOnlyField):
    """A stored payload, redacted again: it is stored redacted, and this guards rows of older versions."""

    def to_representation(self, value):
        return redact(value)


class CredentialMetadataSerializer(CamelCaseAliases, serializers.Serializer):
    """What may be said about a dealership's stored credentials."""

    id = serializers.IntegerField(read_only=True)
    dealership_id = serializers.IntegerField(read_only=True)
    environment = serializers.CharField(read_only=True)
    is_configured = serializers.BooleanField(read_only=True)
    is_active = serializers.BooleanField(read_only=True)
    yard_code = serializers.CharField(read_only=True)
    account_number_last4 = serializers.CharField(read_only=True)
    created_at = IsoDateTimeField()
    updated_at = IsoDateTimeField()
    updated_by = UsernameField()
    last_synced_at = IsoDateTimeField()


class SyncLogSummarySerializer(CamelCaseAliases, serializers.Serializer):
    """One run as the lists show it: kind, status, times and counts."""

    id = serializers.IntegerField(read_only=True)
    sync_type = serializers.CharField(read_only=True)
    sync_direction = serializers.CharField(source="direction", read_only=True)
    status = serializers.CharField(read_only=True)
    trigger = serializers.CharField(read_only=True)
    started_at = IsoDateTimeField()
    completed_at = IsoDateTimeField()
    duration_ms = serializers.IntegerField(read_only=True)
    records_total = serializers.IntegerField(read_only=True)
    records_processed = serializers.IntegerField(read_only=True)
    records_created = serializers.IntegerField(read_only=True)
    records_updated = serializers.IntegerField(read_only=True)
    records_unchanged = serializers.IntegerField(read_only=True)
    records_failed = serializers.IntegerField(read_only=True)
    progress_percent = serializers.IntegerField(read_only=True)
    error_message = serializers.CharField(read_only=True)
    detail_url = serializers.SerializerMethodField()

    def get_detail_url(self, log):
        return reverse("wagtail_easycars_admin:history_detail", args=[log.pk])


class SyncLogDetailSerializer(SyncLogSummarySerializer):
    """One run in full: the summary plus who started it, every counter, failures and (redacted) payloads."""

    dealership_id = serializers.IntegerField(read_only=True)
    triggered_by = UsernameField()
    records_delisted = serializers.IntegerField(read_only=True)
    records_relisted = serializers.IntegerField(read_only=True)
    images_downloaded = serializers.IntegerField(read_only=True)
    images_reused = serializers.IntegerField(read_only=True)
    images_failed = serializers.IntegerField(read_only=True)
    error_details = serializers.ReadOnlyField()
    item_failures = serializers.ReadOnlyField()
    warnings = serializers.ReadOnlyField()
    request_payload = serializers.SerializerMethodField()
    response_summary = RedactedField()

    def get_request_payload(self, log):
        # Redacted; the credential metadata in it only for who may manage the credentials.
        return payload_for(self.context["request"].user, log)


class DealershipSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    slug = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)


class SyncCardSerializer(CamelCaseAliases, serializers.Serializer):
    """One kind of sync on the dashboard: health, the next scheduled run, the run going now."""

    health = serializers.CharField(read_only=True)
    health_label = serializers.CharField(read_only=True)
    next_run_at = IsoDateTimeField(source="next_run")
    running = SyncLogSummarySerializer(read_only=True, allow_null=True)


class SyncStatusSerializer(CamelCaseAliases, serializers.Serializer):
    """The dashboard's SyncSummary (``status.SyncStatus``)."""

    dealership = DealershipSerializer(read_only=True)
    is_configured = serializers.BooleanField(read_only=True)
    is_active = serializers.BooleanField(read_only=True)
    is_syncing = serializers.BooleanField(read_only=True)
    last_stock_sync = SyncLogSummarySerializer(read_only=True, allow_null=True)
    last_lead_sync = SyncLogSummarySerializer(read_only=True, allow_null=True)
    stock = SyncCardSerializer(read_only=True)
    leads = SyncCardSerializer(read_only=True)
    recent_logs = SyncLogSummarySerializer(many=True, read_only=True)


class TriggerResultSerializer(CamelCaseAliases, serializers.Serializer):
    """A started or joined run; ``context["started"]`` says which."""

    run_id = serializers.IntegerField(source="pk", read_only=True)
    started = serializers.SerializerMethodField()
    joined = serializers.SerializerMethodField()
    status = serializers.CharField(read_only=True)
    message = serializers.SerializerMethodField()
    run = SyncLogSummarySerializer(source="*", read_only=True)
    status_url = serializers.SerializerMethodField()

    def get_started(self, log):
        return self.context["started"]

    def get_joined(self, log):
        return not self.context["started"]

    def get_message(self, log):
        message = (
            _("The %(kind)s sync has started.") if self.context["started"] else _("A %(kind)s sync is already running.")
        )
        return message % {"kind": log.get_sync_type_display().lower()}

    def get_status_url(self, log):
        return reverse("wagtail_easycars_admin:api_log_detail", args=[log.pk])


class ConnectionTestSerializer(CamelCaseAliases, serializers.Serializer):
    """The outcome of ``services.connection_test_outcome``: ``success``, which pair failed, its fields."""

    success = serializers.BooleanField(source="ok", read_only=True)
    message = serializers.CharField(read_only=True)
    failed_pair = serializers.CharField(read_only=True, allow_null=True)
    fields = serializers.SerializerMethodField(method_name="get_field_names")
    code = serializers.SerializerMethodField()

    def get_field_names(self, outcome):
        # The field names are values, not keys, so their camelCase spellings follow in the same list.
        return alias_names(outcome["fields"])

    def get_code(self, outcome):
        if outcome["ok"]:
            return "ok"
        return "authentication_failed" if outcome["failed_pair"] else "failed"
