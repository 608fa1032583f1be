"""django-q2 entry points: ids in, one call each into the syncs.

Task names live in :mod:`wagtail_easycars.jobs`, the only module that talks to django-q2.
Workers are forked and tasks may run on another machine, so nothing here holds state.
"""

from django.contrib.auth import get_user_model

from .models import SyncLog
from .sync import retention
from .sync.leads import delivery
from .sync.leads import runs as lead_runs
from .sync.stock import runs as stock_runs
from .sync.stock import search_index


def push_lead(lead_id, user_id=None):
    """Send one pending lead to EasyCars (queued by the outbox, a retry, the sweeper or an editor)."""
    if user_id is None:
        return delivery.push_lead(lead_id)
    user = get_user_model().objects.filter(pk=user_id).first()
    return delivery.push_lead(lead_id, trigger=SyncLog.Trigger.MANUAL, user=user)


def run_lead_sync(log_id):
    """Run a started lead sync: push pending, then refresh. Returns the run's final status."""
    log = lead_runs.run_lead_sync(log_id)
    return log.status if log is not None else None


def sync_all_leads():
    """Scheduled (LEAD_SYNC_CRON): a lead sync for every dealership with syncing turned on."""
    return lead_runs.sync_all_leads()


def sweep_pending_leads():
    """Scheduled (LEAD_SWEEP_CRON): re-queue pending leads whose push task vanished."""
    return lead_runs.sweep_pending_leads()


def run_stock_sync(log_id):
    """Run a queued stock sync. Returns the run's final status."""
    return stock_runs.run_stock_sync(log_id)


def sync_all_stock(due_only=True):
    """Scheduled (STOCK_SYNC_CHECK_CRON): start the stock syncs that are due; returns how many."""
    return stock_runs.sync_all_stock(due_only=due_only)


def index_vehicles(vehicle_ids):
    """Bring the search index up to date for vehicles a stock sync wrote (queued by the sync)."""
    return search_index.index_vehicles(vehicle_ids)


def prune_history():
    """Scheduled (PRUNE_CRON): delete sync logs, field history and task results past their retention."""
    return retention.prune()
