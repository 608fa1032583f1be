"""``manage.py easycars_health [--json]``: the health checks, one line each; exit status 1 when any fails."""

import json
import sys

from django.core.management.base import BaseCommand

from ...health import checks


class Command(BaseCommand):
    help = "Check the database, the django-q2 cluster, the cache, EasyCars and each dealership's stock freshness."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Print one JSON object instead of lines.")

    def handle(self, *args, **options):
        results = checks.run_checks()
        body = checks.report(results)
        if options["json"]:
            self.stdout.write(json.dumps(body, indent=2))
        else:
            for result in results:
                line = f"{result.name}: {'OK' if result.ok else result.message}"
                self.stdout.write(self.style.SUCCESS(line) if result.ok else self.style.ERROR(line))
        if not body["ok"]:
            sys.exit(1)
