"""The sync dashboard: is this dealership's stock and lead data fresh, and what is running now."""

import datetime as dt
from dataclasses import dataclass

from django.http import Http404, HttpResponseRedirect
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.views.generic import PermissionCheckedMixin, WagtailAdminTemplateMixin

from ..health.schedules import SUCCESSFUL, schedule
from ..models import Lead, PotentialDuplicate, SyncLog, Vehicle, VehicleConflict
from ..sync.runs import running_log
from .access import DealershipContextMixin, can, sync_permission_policy
from .charts import format_duration, run_chart
from .services import TriggerRefused, trigger_sync


class Health:
    ON_TIME = "on_time"
    DELAYED = "delayed"
    FAILING = "failing"
    PAUSED = "paused"
    NOT_CONFIGURED = "not_configured"

    labels = {
        ON_TIME: gettext_lazy("On time"),
        DELAYED: gettext_lazy("Delayed"),
        FAILING: gettext_lazy("Failing"),
        PAUSED: gettext_lazy("Paused"),
        NOT_CONFIGURED: gettext_lazy("Not configured"),
    }


def grace(interval):
    # A run that starts on the hour needs a moment to finish before it counts as late.
    return min(dt.timedelta(minutes=15), interval / 4)


@dataclass
class SyncCard:
    sync_type: str
    title: str
    health: str
    last_run: SyncLog | None
    last_success: SyncLog | None
    running: SyncLog | None
    next_run: dt.datetime | None
    interval: dt.timedelta | None

    @property
    def health_label(self):
        return Health.labels[self.health]

    @property
    def duration(self):
        return format_duration(self.last_run.duration_ms) if self.last_run else ""


def compute_health(credential, last_finished, last_success, interval, now):
    if credential is None or not credential.is_configured:
        return Health.NOT_CONFIGURED
    if not credential.is_active:
        return Health.PAUSED
    if last_finished is not None and last_finished.status == SyncLog.Status.FAILED:
        return Health.FAILING
    if interval is None:
        return Health.ON_TIME if last_success is not None else Health.DELAYED
    deadline = now - interval - grace(interval)
    if last_success is not None:
        return Health.ON_TIME if (last_success.completed_at or last_success.started_at) >= deadline else Health.DELAYED
    # Never synced: late once a whole interval has passed since the credentials were saved.
    return Health.ON_TIME if credential.updated_at >= deadline else Health.DELAYED


def sync_card(dealership, sync_type, now=None):
    now = now or timezone.now()
    credential = getattr(dealership, "easycars_credential", None)
    logs = SyncLog.objects.filter(dealership=dealership, sync_type=sync_type)
    last_run = logs.first()
    last_finished = logs.exclude(status=SyncLog.Status.IN_PROGRESS).first()
    last_success = logs.filter(status__in=SUCCESSFUL).first()
    interval, next_run = schedule(sync_type, dealership.zoneinfo, now)
    paused = credential is None or not credential.is_active
    return SyncCard(
        sync_type=sync_type,
        title=_("Stock") if sync_type == SyncLog.SyncType.STOCK else _("Leads"),
        health=compute_health(credential, last_finished, last_success, interval, now),
        last_run=last_run,
        last_success=last_success,
        running=running_log(dealership, sync_type),
        next_run=None if paused else next_run,
        interval=interval,
    )


def _snippet_list_url(model, view="list", **params):
    viewset = getattr(model, "snippet_viewset", None)
    if viewset is None:
        return None
    try:
        url = reverse(viewset.get_url_name(view))
    except NoReverseMatch:
        return None
    return f"{url}?{urlencode(params)}" if params else url


def attention_counts(dealership):
    """Open conflicts, open potential duplicates and failed leads, with links to their lists."""
    return [
        {
            "label": _("Open conflicts"),
            "count": VehicleConflict.objects.filter(vehicle__dealership=dealership, resolved_at__isnull=True).count(),
            # The vehicle snippet's "conflicts" and "duplicates" views list them (admin/vehicles.py).
            "url": _snippet_list_url(Vehicle, "conflicts", dealership=dealership.pk),
        },
        {
            "label": _("Potential duplicates"),
            "count": PotentialDuplicate.objects.filter(
                dealership=dealership, resolution=PotentialDuplicate.Resolution.OPEN
            ).count(),
            "url": _snippet_list_url(Vehicle, "duplicates", dealership=dealership.pk),
        },
        {
            "label": _("Leads that failed to send"),
            "count": Lead.objects.filter(dealership=dealership, sync_state=Lead.SyncState.FAILED).count(),
            "url": _snippet_list_url(Lead, dealership=dealership.pk, sync_state=Lead.SyncState.FAILED),
        },
    ]


def dealership_query(dealership):
    return "?" + urlencode({"dealership": dealership.slug}) if dealership is not None else ""


class DashboardView(DealershipContextMixin, PermissionCheckedMixin, WagtailAdminTemplateMixin, TemplateView):
    permission_policy = sync_permission_policy
    permission_required = "view_sync_status"
    dealership_action = "view_sync_status"
    page_title = gettext_lazy("EasyCars sync")
    header_icon = "rotate"
    template_name = "wagtail_easycars/admin/easycars/dashboard.html"
    #: Polling while a run is going, and the idle refresh, in seconds.
    poll_interval = 3
    refresh_interval = 30

    def get_page_subtitle(self):
        return str(self.dealership) if self.dealership else ""

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [{"url": "", "label": self.get_page_title()}]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        dealership = self.dealership
        context.update(
            poll_interval=self.poll_interval,
            refresh_interval=self.refresh_interval,
            # Buttons and links only for what the user's role at this dealership allows.
            can_trigger=can(self.request.user, "trigger_sync", dealership),
            can_manage=can(self.request.user, "manage_credentials", dealership),
            query=dealership_query(dealership),
        )
        if dealership is None:
            return context
        recent = list(SyncLog.objects.filter(dealership=dealership).select_related("triggered_by")[:10])
        for log in recent:
            log.duration_display = format_duration(log.duration_ms)
        cards = [sync_card(dealership, kind) for kind in SyncLog.SyncType.values]
        context.update(
            cards=cards,
            any_running=any(card.running for card in cards),
            recent_runs=recent,
            charts=[
                {
                    "title": card.title,
                    "chart": run_chart(
                        reversed(SyncLog.objects.filter(dealership=dealership, sync_type=card.sync_type)[:30])
                    ),
                }
                for card in cards
            ],
            attention=attention_counts(dealership),
            status_url=reverse("wagtail_easycars_admin:api_sync_status") + dealership_query(dealership),
        )
        return context


class TriggerSyncView(DealershipContextMixin, PermissionCheckedMixin, WagtailAdminTemplateMixin, TemplateView):
    """The "Sync now" buttons without JavaScript: POST, then back to the dashboard with a message."""

    permission_policy = sync_permission_policy
    permission_required = "trigger_sync"
    dealership_action = "trigger_sync"
    http_method_names = ["post"]
    sync_type = None

    def post(self, request, *args, **kwargs):
        if self.dealership is None:
            raise Http404("You are not a member of any dealership.")
        dashboard = reverse("wagtail_easycars_admin:dashboard") + dealership_query(self.dealership)
        try:
            log, started = trigger_sync(self.dealership, self.sync_type, request.user)
        except TriggerRefused as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(dashboard)
        detail = reverse("wagtail_easycars_admin:history_detail", args=[log.pk])
        if started:
            text = _("The %(kind)s sync has started.")
        else:
            text = _("A %(kind)s sync was already running; you are now following it.")
        messages.success(
            request,
            text % {"kind": log.get_sync_type_display().lower()},
            buttons=[messages.button(detail, _("View run"))],
        )
        return HttpResponseRedirect(dashboard)
