"""Wiring of the EasyCars settings, sync dashboard, sync history and JSON endpoints into the admin.

``EasyCarsViewSet`` owns every URL (``/admin/easycars/...``, namespace ``wagtail_easycars_admin``)
and the "Sync dashboard" menu item. ``EasyCarsHistoryMenu`` and ``EasyCarsSettingsMenu`` only add
menu items pointing into it, so the "EasyCars" menu group (``admin/menu.py``) can list all three screens.
"""

from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail.admin.menu import MenuItem
from wagtail.admin.viewsets.base import ViewSet

from ..models import SyncLog
from .access import dealerships_for
from .api import views as api
from .dashboard import DashboardView, TriggerSyncView
from .history import SyncHistoryView, SyncLogDetailView
from .settings_views import CredentialStateView, DeleteCredentialView, SettingsView

NAMESPACE = "wagtail_easycars_admin"


class PermissionMenuItem(MenuItem):
    """Shown only to users who may do ``permission`` (an ``access.ACTIONS`` key) at one dealership at least."""

    permission = None

    def is_shown(self, request):
        return dealerships_for(request.user, self.permission).exists()


def _menu_item_class(name, permission):
    return type(name, (PermissionMenuItem,), {"permission": permission})


class EasyCarsViewSet(ViewSet):
    name = "easycars"
    url_namespace = NAMESPACE
    icon = "rotate"
    menu_label = _("Sync dashboard")
    menu_name = "easycars-sync-dashboard"
    menu_item_class = _menu_item_class("SyncDashboardMenuItem", "view_sync_status")

    @property
    def menu_url(self):
        return reverse(f"{NAMESPACE}:dashboard")

    def get_urlpatterns(self):
        return [
            path("sync/", DashboardView.as_view(), name="dashboard"),
            path(
                "sync/stock/",
                TriggerSyncView.as_view(sync_type=SyncLog.SyncType.STOCK),
                name="trigger_stock",
            ),
            path("sync/leads/", TriggerSyncView.as_view(sync_type=SyncLog.SyncType.LEAD), name="trigger_leads"),
            path("history/", SyncHistoryView.as_view(), name="history"),
            path("history/results/", SyncHistoryView.as_view(results_only=True), name="history_results"),
            path("history/<int:pk>/", SyncLogDetailView.as_view(), name="history_detail"),
            path("settings/", SettingsView.as_view(), name="settings"),
            path("settings/pause/", CredentialStateView.as_view(active=False), name="settings_pause"),
            path("settings/resume/", CredentialStateView.as_view(active=True), name="settings_resume"),
            path("settings/delete/", DeleteCredentialView.as_view(), name="settings_delete"),
            # JSON endpoints (docs/api.md)
            path("api/credentials/", api.CredentialsView.as_view(), name="api_credentials"),
            path("api/credentials/test/", api.TestConnectionView.as_view(), name="api_credentials_test"),
            path("api/credentials/<int:pk>/", api.CredentialDetailView.as_view(), name="api_credential_detail"),
            path(
                "api/sync/stock/",
                api.TriggerView.as_view(sync_type=SyncLog.SyncType.STOCK),
                name="api_sync_stock",
            ),
            path("api/sync/leads/", api.TriggerView.as_view(sync_type=SyncLog.SyncType.LEAD), name="api_sync_leads"),
            path("api/sync/status/", api.SyncStatusView.as_view(), name="api_sync_status"),
            path("api/sync/logs/", api.SyncLogsView.as_view(), name="api_sync_logs"),
            path("api/sync/logs/<int:pk>/", api.SyncLogDetailView.as_view(), name="api_log_detail"),
        ]


class EasyCarsMenuEntry(ViewSet):
    """A menu item for one of ``EasyCarsViewSet``'s screens; it adds no URLs of its own."""

    url_name = None

    def get_urlpatterns(self):
        return []

    @property
    def menu_url(self):
        return reverse(f"{NAMESPACE}:{self.url_name}")


class EasyCarsHistoryMenu(EasyCarsMenuEntry):
    name = "easycars-history"
    url_name = "history"
    icon = "history"
    menu_label = _("Sync history")
    menu_name = "easycars-sync-history"
    menu_item_class = _menu_item_class("SyncHistoryMenuItem", "view_sync_status")


class EasyCarsSettingsMenu(EasyCarsMenuEntry):
    name = "easycars-settings"
    url_name = "settings"
    icon = "key"
    menu_label = _("Settings")
    menu_name = "easycars-settings"
    menu_item_class = _menu_item_class("EasyCarsSettingsMenuItem", "manage_credentials")
