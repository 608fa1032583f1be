"""Sync leads with EasyCars from the command line: push pending leads, then refresh inbound.

Without --now the run is queued for the django-q2 workers; with --now it runs here and waits.
"""

from django.core.management.base import BaseCommand, CommandError

from ...models import Dealership, SyncLog
from ...sync import runs
from ...sync.lead_runs import run_lead_sync
from ...tasks import request_lead_sync

SUMMARY = (
    ("records_total", "leads refreshed"),
    ("records_updated", "updated"),
    ("records_unchanged", "unchanged"),
    ("records_failed", "failed"),
)


class Command(BaseCommand):
    help = "Push pending leads to EasyCars, then refresh every lead EasyCars has. Without --now it is queued."

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--dealership", metavar="SLUG", help="The dealership to sync.")
        which.add_argument("--all", action="store_true", help="Every dealership with syncing turned on.")
        parser.add_argument("--now", action="store_true", help="Run here and wait, then print a summary.")

    def handle(self, *args, dealership=None, all=False, now=False, **options):
        if dealership:
            found = Dealership.objects.filter(slug=dealership).first()
            if found is None:
                raise CommandError(f"No dealership with the slug {dealership!r}.")
            dealerships = [found]
        else:
            dealerships = list(Dealership.objects.filter(easycars_credential__is_active=True))
            if not dealerships:
                self.stdout.write("No dealership has EasyCars syncing turned on.")
                return
        failed = 0
        for one in dealerships:
            if now:
                failed += self.run_now(one)
            else:
                log, started = request_lead_sync(one, trigger=SyncLog.Trigger.COMMAND)
                verb = "Queued" if started else "Already running:"
                self.stdout.write(f"{verb} lead sync #{log.pk} for {one.slug}.")
        if failed:
            raise CommandError(f"{failed} lead sync(s) failed.")

    def run_now(self, dealership):
        log, started = runs.begin_run(
            dealership, SyncLog.SyncType.LEAD, SyncLog.Direction.INBOUND, trigger=SyncLog.Trigger.COMMAND
        )
        if not started:
            self.stdout.write(f"A lead sync for {dealership.slug} is already running (#{log.pk}); not started again.")
            return 0
        log = run_lead_sync(log.pk)
        if log is None:
            self.stdout.write(f"A lead sync for {dealership.slug} is already running; not started again.")
            return 0
        pushed = (log.response_summary or {}).get("pushed") or {}
        pushes = ", ".join(f"{count} {outcome}" for outcome, count in sorted(pushed.items())) or "none pending"
        counts = ", ".join(f"{getattr(log, field)} {label}" for field, label in SUMMARY)
        style = {"success": self.style.SUCCESS, "warning": self.style.WARNING}.get(log.status, self.style.ERROR)
        self.stdout.write(
            style(f"{dealership.slug}: {log.get_status_display()} in {log.duration_ms} ms — pushed: {pushes}; {counts}")
        )
        for warning in log.warnings:
            self.stdout.write(f"  warning: {warning}")
        for failure in log.item_failures[:20]:
            self.stdout.write(f"  lead {failure['ref']}: {failure['message']}")
        if len(log.item_failures) > 20:
            self.stdout.write(f"  … {len(log.item_failures) - 20} more in sync log #{log.pk}")
        if log.error_message:
            self.stderr.write(f"  {log.error_message}")
        return int(log.status == SyncLog.Status.FAILED)
