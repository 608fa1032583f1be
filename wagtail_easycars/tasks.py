"""django-q2 entry points. Each takes ids only and calls one function in sync/.

Workers are forked and tasks may run on another machine, so nothing here holds state.
"""

import time

from django.contrib.auth import get_user_model

from . import schedules
from .conf import get_setting
from .models import SyncLog
from .sync import lead_runs, leads, runs, stock

# Leads (sync/leads.py, sync/lead_runs.py) ------------------------------------------------------


def push_lead(lead_id, user_id=None):
    """Send one pending lead to EasyCars (queued by the outbox, a retry, the sweeper or an editor)."""
    if user_id is None:
        return leads.push_lead(lead_id)
    user = get_user_model().objects.filter(pk=user_id).first()
    return leads.push_lead(lead_id, trigger=SyncLog.Trigger.MANUAL, user=user)


def run_lead_sync(log_id):
    """Run a started lead sync (see :func:`request_lead_sync`): push pending, then refresh."""
    log = lead_runs.run_lead_sync(log_id)
    return log.status if log is not None else None


def sync_all_leads():
    """Scheduled (LEAD_SYNC_CRON): a lead sync for every dealership with syncing turned on."""
    return lead_runs.sync_all_leads()


def sweep_pending_leads():
    """Scheduled (LEAD_SWEEP_CRON): re-queue pending leads whose push task vanished."""
    return lead_runs.sweep_pending_leads()


def request_lead_sync(dealership, *, user=None, trigger=SyncLog.Trigger.MANUAL):
    """Start (or join) a lead sync for ``dealership`` (a Dealership or its id): ``(SyncLog, started)``."""
    return lead_runs.request_lead_sync(dealership, user=user, trigger=trigger)


# Stock (sync/stock.py, sync/images.py) ----------------------------------------------------------


def request_stock_sync(dealership, *, user=None, trigger=SyncLog.Trigger.MANUAL):
    """Start a stock sync for ``dealership`` (or join the running one): ``(SyncLog, started)``.

    The run takes the dealership's lease now (so a second trigger joins it) and is queued once
    the current transaction commits.
    """
    return runs.request_run(
        dealership, SyncLog.SyncType.STOCK, "wagtail_easycars.tasks.run_stock_sync", trigger=trigger, user=user
    )


def run_stock_sync(log_id):
    """Run a stock sync begun by :func:`request_stock_sync`. Returns the run's final status."""
    started_at = time.monotonic()
    log = runs.claim_queued_run(log_id)
    if log is None:
        return None
    # Photos stop at 80% of the task timeout; the rest are fetched by the next sync.
    deadline = started_at + 0.8 * float(get_setting("TASK_TIMEOUT"))
    return stock.sync_stock(log.dealership, log=log, deadline=deadline).status


def index_vehicles(vehicle_ids):
    """Bring the search index up to date for vehicles a stock sync wrote (queued by the sync)."""
    return stock.index_vehicles(vehicle_ids)


def sync_all_stock(due_only=True):
    """Scheduled fan-out: start a stock sync for every dealership with syncing turned on.

    With ``due_only`` (the schedule) only dealerships whose STOCK_SYNC_CRON slot, in their own
    time zone, has passed since their last scheduled run; missed slots collapse into one run.
    Returns how many runs were started.
    """
    started = 0
    for dealership in schedules.stock_dealerships(due_only=due_only):
        _, did_start = request_stock_sync(dealership, trigger=SyncLog.Trigger.SCHEDULE)
        started += int(did_start)
    return started
