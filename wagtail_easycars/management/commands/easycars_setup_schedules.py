"""Create or update the package's django-q2 schedules (safe to run on every deploy)."""

from django.conf import settings
from django.core.management.base import BaseCommand

from ...conf import get_setting
from ...jobs import ensure_schedules


class Command(BaseCommand):
    help = "Create or update the wagtail_easycars:* django-q2 schedules from WAGTAIL_EASYCARS settings."

    def handle(self, *args, **options):
        for name, action in ensure_schedules():
            self.stdout.write(f"{name}: {action}")
        for warning in cluster_warnings():
            self.stderr.write(self.style.WARNING(warning))


def cluster_warnings():
    """Q_CLUSTER settings that would run a sync twice or retry it forever."""
    cluster = getattr(settings, "Q_CLUSTER", {}) or {}
    timeout = int(get_setting("TASK_TIMEOUT"))
    warnings = []
    retry = cluster.get("retry", 60)
    if retry <= max(timeout, cluster.get("timeout") or 0):
        warnings.append(
            f"Q_CLUSTER['retry'] ({retry}) must be longer than the task timeout ({timeout}); otherwise a second "
            "worker picks up a sync that is still running."
        )
    if not cluster.get("max_attempts"):
        warnings.append("Q_CLUSTER['max_attempts'] is unset (infinite): set it (1 to 3) with ack_failures=True.")
    return warnings
