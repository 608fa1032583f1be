"""Sync history: every run of a dealership, filterable, sortable, exportable; and one run in full."""

import json

import django_filters
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView
from wagtail.admin.admin_url_finder import AdminURLFinder
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.ui.tables import Column, DateColumn, StatusTagColumn, TitleColumn, UserColumn
from wagtail.admin.views.generic import IndexView, PermissionCheckedMixin, WagtailAdminTemplateMixin

from ..client.redaction import REDACTED, redact
from ..models import FieldChange, Lead, SyncLog, Vehicle, VehicleConflict
from ..sync.runs import RunRecorder
from .access import DealershipContextMixin, can, get_scoped_object_or_404, sync_permission_policy
from .charts import format_duration
from .dashboard import dealership_query


class SyncLogFilterSet(WagtailFilterSet):
    sync_type = django_filters.ChoiceFilter(label=gettext_lazy("Type"), choices=SyncLog.SyncType.choices)
    direction = django_filters.ChoiceFilter(label=gettext_lazy("Direction"), choices=SyncLog.Direction.choices)
    status = django_filters.ChoiceFilter(label=gettext_lazy("Status"), choices=SyncLog.Status.choices)
    trigger = django_filters.ChoiceFilter(label=gettext_lazy("Trigger"), choices=SyncLog.Trigger.choices)
    started_at = django_filters.DateFromToRangeFilter(label=gettext_lazy("Started"), widget=DateRangePickerWidget)

    class Meta:
        model = SyncLog
        fields = ["sync_type", "direction", "status", "trigger", "started_at"]


class DurationColumn(Column):
    def get_value(self, instance):
        return format_duration(instance.duration_ms)


class SyncHistoryView(DealershipContextMixin, IndexView):
    model = SyncLog
    permission_policy = sync_permission_policy
    permission_required = "view_sync_status"
    dealership_action = "view_sync_status"
    any_permission_required = None
    page_title = gettext_lazy("Sync history")
    header_icon = "history"
    template_name = "wagtail_easycars/admin/easycars/history.html"
    index_url_name = "wagtail_easycars_admin:history"
    index_results_url_name = "wagtail_easycars_admin:history_results"
    filterset_class = SyncLogFilterSet
    default_ordering = "-started_at"
    paginate_by = 25
    list_export = [
        "pk",
        "get_sync_type_display",
        "get_direction_display",
        "get_status_display",
        "get_trigger_display",
        "triggered_by",
        "started_at",
        "completed_at",
        "duration_ms",
        *RunRecorder.COUNTERS,
        "error_message",
    ]
    export_headings = {
        "pk": gettext_lazy("Run"),
        "get_sync_type_display": gettext_lazy("Type"),
        "get_direction_display": gettext_lazy("Direction"),
        "get_status_display": gettext_lazy("Status"),
        "get_trigger_display": gettext_lazy("Trigger"),
        "triggered_by": gettext_lazy("Triggered by"),
        "duration_ms": gettext_lazy("Duration (ms)"),
    }
    export_filename = "easycars-sync-history"

    def get_page_subtitle(self):
        return str(self.dealership) if self.dealership else ""

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {
                "url": reverse("wagtail_easycars_admin:dashboard") + dealership_query(self.dealership),
                "label": _("EasyCars sync"),
            },
            {"url": "", "label": self.get_page_title(), "sublabel": self.get_page_subtitle()},
        ]

    def get_base_queryset(self):
        if self.dealership is None:
            return SyncLog.objects.none()
        return SyncLog.objects.filter(dealership=self.dealership).select_related("triggered_by")

    def get_filename(self):
        slug = self.dealership.slug if self.dealership else "none"
        return f"{self.export_filename}-{slug}"

    @cached_property
    def columns(self):
        return [
            TitleColumn(
                "run",
                label=_("Run"),
                accessor=lambda log: f"#{log.pk} {log.get_sync_type_display()}",
                get_url=lambda log: reverse("wagtail_easycars_admin:history_detail", args=[log.pk]),
                sort_key="pk",
            ),
            Column("direction", label=_("Direction"), accessor="get_direction_display"),
            StatusTagColumn(
                "status",
                label=_("Status"),
                accessor="get_status_display",
                primary=lambda log: log.status in (SyncLog.Status.SUCCESS, SyncLog.Status.IN_PROGRESS),
                sort_key="status",
            ),
            DateColumn("started_at", label=_("Started"), sort_key="started_at"),
            DurationColumn("duration", label=_("Duration"), sort_key="duration_ms"),
            Column("records_created", label=_("Created"), sort_key="records_created"),
            Column("records_updated", label=_("Updated"), sort_key="records_updated"),
            Column("records_failed", label=_("Failed"), sort_key="records_failed"),
            Column("trigger", label=_("Trigger"), accessor="get_trigger_display"),
            UserColumn("triggered_by", label=_("By")),
        ]


#: Keys of a stock run's request payload that describe the dealership's credentials (``sync/stock/feed.py``).
CREDENTIAL_KEYS = frozenset({"AccountNumber", "YardCode"})


def payload_for(user, log):
    """The run's request payload, redacted, and without credential metadata for who may not manage them.

    It is stored redacted by the sync; redacting again guards rows written by older versions.
    """
    payload = redact(log.request_payload)
    if isinstance(payload, dict) and not can(user, "manage_credentials", log.dealership):
        payload = {key: REDACTED if key in CREDENTIAL_KEYS else value for key, value in payload.items()}
    return payload


def _pretty(value):
    if value in (None, "", [], {}):
        return ""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


def _edit_url(obj, user):
    try:
        return AdminURLFinder(user).get_edit_url(obj)
    except NoReverseMatch:
        return None


def touched_records(log, user, limit=100):
    """Vehicles or leads this run wrote, changed, flagged a conflict on or failed on (with admin links).

    A run holds its dealership's lease for its kind, so whatever was synced inside the run's
    window was synced by this run.
    """
    window = Q()
    if log.started_at:
        end = log.completed_at or timezone.now()
        window = Q(last_synced_from_easycars__range=(log.started_at, end))
    refs = [f["ref"] for f in log.item_failures or [] if f.get("ref")][:limit]
    if log.sync_type == SyncLog.SyncType.STOCK:
        changed = FieldChange.objects.filter(sync_log=log, vehicle__isnull=False).values("vehicle_id")
        conflicts = VehicleConflict.objects.filter(sync_log=log).values("vehicle_id")
        queryset = Vehicle.objects.filter(
            Q(pk__in=changed) | Q(pk__in=conflicts) | Q(easycars_stock_number__in=refs) | window,
            dealership_id=log.dealership_id,
        ).order_by("title", "pk")
        kind = _("Vehicle")
    else:
        changed = FieldChange.objects.filter(sync_log=log, lead__isnull=False).values("lead_id")
        if log.started_at:
            window |= Q(last_synced_to_easycars__range=(log.started_at, log.completed_at or timezone.now()))
        queryset = Lead.objects.filter(
            Q(pk__in=changed) | Q(easycars_lead_number__in=refs) | window, dealership_id=log.dealership_id
        ).order_by("-pk")
        kind = _("Lead")
    objects = list(queryset[: limit + 1])
    records = [{"label": str(obj), "url": _edit_url(obj, user), "kind": kind} for obj in objects[:limit]]
    return records, len(objects) > limit


class SyncLogDetailView(PermissionCheckedMixin, WagtailAdminTemplateMixin, TemplateView):
    permission_policy = sync_permission_policy
    permission_required = "view_sync_status"
    template_name = "wagtail_easycars/admin/easycars/sync_detail.html"
    header_icon = "history"

    @cached_property
    def log(self):
        # Any run of any dealership the user may see; another dealership's run is simply not found.
        log = get_scoped_object_or_404(SyncLog, self.request.user, action="view_sync_status", pk=self.kwargs["pk"])
        return SyncLog.objects.select_related("dealership", "triggered_by").get(pk=log.pk)

    def get_page_title(self):
        return _("Sync run #%(id)s") % {"id": self.log.pk}

    def get_page_subtitle(self):
        return str(self.log.dealership)

    def get_breadcrumbs_items(self):
        query = dealership_query(self.log.dealership)
        return self.breadcrumbs_items + [
            {"url": reverse("wagtail_easycars_admin:dashboard") + query, "label": _("EasyCars sync")},
            {"url": reverse("wagtail_easycars_admin:history") + query, "label": _("Sync history")},
            {"url": "", "label": self.get_page_title()},
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        log = self.log
        failures = {}
        for failure in log.item_failures or []:
            failures.setdefault(failure.get("kind") or "item", []).append(failure)
        counts = [(SyncLog._meta.get_field(name).verbose_name, getattr(log, name)) for name in RunRecorder.COUNTERS]
        touched, touched_more = touched_records(log, self.request.user)
        context.update(
            log=log,
            dealership=log.dealership,
            duration=format_duration(log.duration_ms),
            counts=counts,
            failures=sorted(failures.items()),
            # Stored redacted by the sync; redacting again guards rows written by older versions.
            request_payload=_pretty(payload_for(self.request.user, log)),
            response_summary=_pretty(redact(log.response_summary)),
            touched=touched,
            touched_more=touched_more,
            status_url=reverse("wagtail_easycars_admin:api_log_detail", args=[log.pk]),
        )
        return context
