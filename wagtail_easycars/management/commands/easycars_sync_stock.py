"""Sync EasyCars stock from the command line: queue it for the workers, or run it here (--now)."""

from ...models import SyncLog
from ...sync.stock.runs import request_stock_sync
from ...sync.stock.schedules import stock_dealerships
from ...sync.stock.sync import sync_stock
from ..sync_command import SyncCommand


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


class Command(SyncCommand):
    help = "Sync stock from EasyCars. Without --now the run is queued for the django-q2 workers."
    kind = "stock"
    summary = (
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

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--no-images", action="store_true", help="With --now: skip photos.")

    def syncing_dealerships(self):
        return stock_dealerships(due_only=False)

    def request_sync(self, dealership):
        return request_stock_sync(dealership, trigger=SyncLog.Trigger.COMMAND)

    def run_here(self, dealership, *, no_images=False, **options):
        progress = ProgressBar(self.stdout, dealership.slug)
        log = sync_stock(dealership, trigger=SyncLog.Trigger.COMMAND, progress=progress, images=not no_images)
        if progress.interactive:
            self.stdout.write("")
        return log, log.status != SyncLog.Status.IN_PROGRESS
