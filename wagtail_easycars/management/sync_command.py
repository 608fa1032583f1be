"""What easycars_sync_stock and easycars_sync_leads share: which dealerships, queue or run here, the summary."""

from django.core.management.base import BaseCommand, CommandError

from ..models import Dealership, SyncLog


class SyncCommand(BaseCommand):
    """A sync command: ``--dealership SLUG`` or ``--all``; queued for the workers unless ``--now``."""

    #: The kind of sync, as messages name it ("stock", "lead").
    kind = ""
    #: ``(SyncLog counter, label)`` pairs printed after a run here.
    summary = ()

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--dealership", metavar="SLUG", help="The dealership to sync.")
        which.add_argument("--all", action="store_true", help="Every dealership with syncing turned on.")
        parser.add_argument("--now", action="store_true", help="Run here and wait, then print a summary.")

    def syncing_dealerships(self):
        """The dealerships ``--all`` syncs."""
        raise NotImplementedError

    def request_sync(self, dealership):
        """Queue a run (or join the running one): ``(SyncLog, started)``."""
        raise NotImplementedError

    def run_here(self, dealership, **options):
        """Run a sync in this process: ``(SyncLog, started)``; not started when one is already running."""
        raise NotImplementedError

    def handle(self, *args, dealership=None, all=False, now=False, **options):
        if dealership:
            found = Dealership.objects.filter(slug=dealership).first()
            if found is None:
                raise CommandError(f"No dealership with the slug {dealership!r}.")
            dealerships = [found]
        else:
            dealerships = list(self.syncing_dealerships())
            if not dealerships:
                self.stdout.write("No dealership has EasyCars syncing turned on.")
                return
        failed = 0
        for one in dealerships:
            if now:
                failed += self.run_now(one, **options)
            else:
                log, started = self.request_sync(one)
                verb = "Queued" if started else "Already running:"
                self.stdout.write(f"{verb} {self.kind} sync #{log.pk} for {one.slug}.")
        if failed:
            raise CommandError(f"{failed} {self.kind} sync(s) failed.")

    def run_now(self, dealership, **options):
        log, started = self.run_here(dealership, **options)
        if not started:
            running = f" (#{log.pk})" if log is not None else ""
            self.stdout.write(
                f"A {self.kind} sync for {dealership.slug} is already running{running}; not started again."
            )
            return 0
        style = {"success": self.style.SUCCESS, "warning": self.style.WARNING}.get(log.status, self.style.ERROR)
        self.stdout.write(
            style(f"{dealership.slug}: {log.get_status_display()} in {log.duration_ms} ms — {self.summary_line(log)}")
        )
        for warning in log.warnings:
            self.stdout.write(f"  warning: {warning}")
        for failure in log.item_failures[:20]:
            self.stdout.write(f"  {failure['kind']} {failure['ref']}: {failure['message']}")
        if len(log.item_failures) > 20:
            self.stdout.write(f"  … {len(log.item_failures) - 20} more in sync log #{log.pk}")
        if log.error_message:
            self.stderr.write(f"  {log.error_message}")
        return int(log.status == SyncLog.Status.FAILED)

    def summary_line(self, log):
        return ", ".join(f"{getattr(log, field)} {label}" for field, label in self.summary)
