"""Sync leads with EasyCars from the command line: push pending leads, then refresh inbound.

Without --now the run is queued for the django-q2 workers; with --now it runs here and waits.
"""

from ...models import SyncLog
from ...sync import runs
from ...sync.leads.runs import request_lead_sync, run_lead_sync, syncing_dealerships
from ..sync_command import SyncCommand


class Command(SyncCommand):
    help = "Push pending leads to EasyCars, then refresh every lead EasyCars has. Without --now it is queued."
    kind = "lead"
    summary = (
        ("records_total", "leads refreshed"),
        ("records_updated", "updated"),
        ("records_unchanged", "unchanged"),
        ("records_failed", "failed"),
    )

    def syncing_dealerships(self):
        return syncing_dealerships()

    def request_sync(self, dealership):
        return request_lead_sync(dealership, trigger=SyncLog.Trigger.COMMAND)

    def run_here(self, dealership, **options):
        log, started = runs.begin_run(
            dealership, SyncLog.SyncType.LEAD, SyncLog.Direction.INBOUND, trigger=SyncLog.Trigger.COMMAND
        )
        if not started:
            return log, False
        log = run_lead_sync(log.pk)
        return log, log is not None

    def summary_line(self, log):
        pushed = (log.response_summary or {}).get("pushed") or {}
        pushes = ", ".join(f"{count} {outcome}" for outcome, count in sorted(pushed.items())) or "none pending"
        return f"pushed: {pushes}; {super().summary_line(log)}"
