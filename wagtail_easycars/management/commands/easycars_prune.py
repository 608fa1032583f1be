"""Delete sync logs, field history and django-q2 task results past their retention (docs/admin-guide.md#retention)."""

from django.core.management.base import BaseCommand

from ...sync import retention


class Command(BaseCommand):
    help = "Delete EasyCars sync logs, field history and task results older than their retention settings."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count what would be deleted; delete nothing.")

    def handle(self, *args, dry_run=False, **options):
        verb = "would be deleted" if dry_run else "deleted"
        for table, rows in retention.prune(dry_run=dry_run).items():
            self.stdout.write(f"{table}: {rows} {verb}")
