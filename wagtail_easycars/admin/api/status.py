"""What ``GET sync/status/`` reports about one dealership (the dashboard's SyncSummary)."""

from dataclasses import dataclass

from ...models import Dealership, SyncLog
from ..dashboard import SyncCard, sync_card

RECENT_RUNS = 10


@dataclass
class SyncStatus:
    """Configured and active or not, the last run of each kind, each kind's card, the recent runs."""

    dealership: Dealership
    is_configured: bool
    is_active: bool
    is_syncing: bool
    last_stock_sync: SyncLog | None
    last_lead_sync: SyncLog | None
    stock: SyncCard
    leads: SyncCard
    recent_logs: list[SyncLog]


def sync_status(dealership):
    """The :class:`SyncStatus` of ``dealership`` now."""
    credential = getattr(dealership, "easycars_credential", None)
    stock = sync_card(dealership, SyncLog.SyncType.STOCK)
    leads = sync_card(dealership, SyncLog.SyncType.LEAD)
    return SyncStatus(
        dealership=dealership,
        is_configured=bool(credential and credential.is_configured),
        is_active=bool(credential and credential.is_active),
        is_syncing=bool(stock.running or leads.running),
        last_stock_sync=stock.last_run,
        last_lead_sync=leads.last_run,
        stock=stock,
        leads=leads,
        recent_logs=list(SyncLog.objects.filter(dealership=dealership)[:RECENT_RUNS]),
    )
