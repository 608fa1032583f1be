"""Stock sync runs as background jobs: start (or join) one, run a queued one, the scheduled fan-out.

The task functions in :mod:`wagtail_easycars.tasks` call these with ids only.
"""

import time

from ... import jobs
from ...conf import get_setting
from ...models import SyncLog
from .. import runs
from .schedules import stock_dealerships
from .sync import sync_stock


def request_stock_sync(dealership, *, user=None, trigger=SyncLog.Trigger.MANUAL):
    """Start a stock sync for ``dealership`` (or join the running one): ``(SyncLog, started)``.

    The run takes the dealership's lease now (so a second trigger joins it) and is queued once
    the current transaction commits.
    """
    return runs.request_run(dealership, SyncLog.SyncType.STOCK, jobs.RUN_STOCK_SYNC, trigger=trigger, user=user)


def run_stock_sync(log_id):
    """Run a stock sync begun by :func:`request_stock_sync`. Returns the run's final status."""
    started_at = time.monotonic()
    log = runs.claim_queued_run(log_id)
    if log is None:
        return None
    # Photos stop at 80% of the task timeout; the rest are fetched by the next sync.
    deadline = started_at + 0.8 * float(get_setting("TASK_TIMEOUT"))
    return sync_stock(log.dealership, log=log, deadline=deadline).status


def sync_all_stock(due_only=True):
    """Start a stock sync for every dealership with syncing turned on; returns how many started.

    With ``due_only`` (the schedule) only dealerships whose STOCK_SYNC_CRON slot, in their own
    time zone, has passed since their last scheduled run; missed slots collapse into one run.
    """
    started = 0
    for dealership in stock_dealerships(due_only=due_only):
        _, did_start = request_stock_sync(dealership, trigger=SyncLog.Trigger.SCHEDULE)
        started += int(did_start)
    return started
