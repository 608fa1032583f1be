"""Sync EasyCars stock from the command line: queue it for the workers, or run it here (--now)."""

from django.core.management.base import BaseCommand, CommandError

from ...models import Dealership, SyncLog
from ...schedules import stock_dealerships
from ...sync.stock import sync_stock
from ...tasks import request_stock_sync

SUMMARY = (
    ("records_total", "items"),
    ("records_created", "created"),
    ("records_updated", "updated"),
    ("records_unchanged", "unchanged"),
    ("records_delisted", "delisted"),
    ("records_relisted", "relisted"),
    ("records_failed", "failed"),
    ("images_downloaded", "photos downloaded"),
    ("images_reused", "photos reused"),
    ("images_failed", "photos failed"),
)


class ProgressBar:
    WIDTH = 30

    def __init__(self, stream, label):
        self.stream = stream
        self.label = label
        self.interactive = hasattr(stream, "isatty") and stream.isatty()
        self.last_percent = -1

    def __call__(self, processed, total):
        percent = 100 if not total else min(100, processed * 100 // total)
        if not self.interactive and percent // 25 == self.last_percent // 25:
            return  # logs and pipes get a line per quarter, terminals a live bar
        self.last_percent = percent
        filled = self.WIDTH * percent // 100
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        line = f"{self.label} [{bar}] {percent:3d}% {processed}/{total}"
        self.stream.write(f"\r{line}" if self.interactive else f"{line}\n", ending="")
        self.stream.flush()


class Command(BaseCommand):
    help = "Sync stock from EasyCars. Without --now the run is queued for the django-q2 workers."

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--dealership", metavar="SLUG", help="The dealership to sync.")
        which.add_argument("--all", action="store_true", help="Every dealership with syncing turned on.")
        parser.add_argument("--now", action="store_true", help="Run here and wait, with progress and a summary.")
        parser.add_argument("--no-images", action="store_true", help="With --now: skip photos.")

    def handle(self, *args, dealership=None, all=False, now=False, no_images=False, **options):
        if dealership:
            found = Dealership.objects.filter(slug=dealership).first()
            if found is None:
                raise CommandError(f"No dealership with the slug {dealership!r}.")
            dealerships = [found]
        else:
            dealerships = stock_dealerships(due_only=False)
            if not dealerships:
                self.stdout.write("No dealership has EasyCars syncing turned on.")
                return
        failed = 0
        for one in dealerships:
            if now:
                failed += self.run_now(one, images=not no_images)
            else:
                log, started = request_stock_sync(one, trigger=SyncLog.Trigger.COMMAND)
                verb = "Queued" if started else "Already running:"
                self.stdout.write(f"{verb} stock sync #{log.pk} for {one.slug}.")
        if failed:
            raise CommandError(f"{failed} stock sync(s) failed.")

    def run_now(self, dealership, *, images):
        progress = ProgressBar(self.stdout, dealership.slug)
        log = sync_stock(dealership, trigger=SyncLog.Trigger.COMMAND, progress=progress, images=images)
        if progress.interactive:
            self.stdout.write("")
        if log.status == SyncLog.Status.IN_PROGRESS:
            self.stdout.write(f"A stock sync for {dealership.slug} is already running (#{log.pk}); not started again.")
            return 0
        counts = ", ".join(f"{getattr(log, field)} {label}" for field, label in SUMMARY)
        style = {"success": self.style.SUCCESS, "warning": self.style.WARNING}.get(log.status, self.style.ERROR)
        self.stdout.write(style(f"{dealership.slug}: {log.get_status_display()} in {log.duration_ms} ms — {counts}"))
        for warning in log.warnings:
            self.stdout.write(f"  warning: {warning}")
        for failure in log.item_failures[:20]:
            self.stdout.write(f"  {failure['kind']} {failure['ref']}: {failure['message']}")
        if len(log.item_failures) > 20:
            self.stdout.write(f"  … {len(log.item_failures) - 20} more in sync log #{log.pk}")
        if log.error_message:
            self.stderr.write(f"  {log.error_message}")
        return int(log.status == SyncLog.Status.FAILED)
