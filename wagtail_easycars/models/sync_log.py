from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from .dealerships import Dealership


class SyncLogQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(dealership__in=Dealership.objects.for_user(user))


class SyncLog(models.Model):
    """One sync run: created in_progress when it starts, finished with counts and a status."""

    class SyncType(models.TextChoices):
        STOCK = "stock", _("Stock")
        LEAD = "lead", _("Lead")

    class Direction(models.TextChoices):
        INBOUND = "inbound", _("Inbound")
        OUTBOUND = "outbound", _("Outbound")

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", _("In progress")
        SUCCESS = "success", _("Success")
        WARNING = "warning", _("Warning")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("Schedule")
        MANUAL = "manual", _("Manual")
        COMMAND = "command", _("Command line")
        EVENT = "event", _("Change")

    dealership = models.ForeignKey(
        Dealership, on_delete=models.CASCADE, related_name="sync_logs", verbose_name=_("dealership")
    )
    credential = models.ForeignKey(
        "EasyCarsCredential", null=True, blank=True, on_delete=models.SET_NULL, related_name="sync_logs"
    )
    sync_type = models.CharField(_("type"), max_length=10, choices=SyncType.choices)
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.IN_PROGRESS)
    trigger = models.CharField(_("trigger"), max_length=10, choices=Trigger.choices, default=Trigger.SCHEDULE)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    task_id = models.CharField(max_length=64, blank=True, editable=False)
    # A full refresh re-maps and rewrites every vehicle, ignoring stored hashes (stock runs only).
    full_refresh = models.BooleanField(_("full refresh"), default=False)
    # Set by "Cancel": the run stops at its next batch boundary and ends as cancelled.
    cancel_requested_at = models.DateTimeField(_("cancel requested at"), null=True, blank=True, editable=False)
    cancel_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    started_at = models.DateTimeField(_("started at"), db_index=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, editable=False)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)

    records_total = models.PositiveIntegerField(_("total"), default=0)
    records_processed = models.PositiveIntegerField(_("processed"), default=0)
    records_created = models.PositiveIntegerField(_("created"), default=0)
    records_updated = models.PositiveIntegerField(_("updated"), default=0)
    records_unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    records_failed = models.PositiveIntegerField(_("failed"), default=0)
    records_delisted = models.PositiveIntegerField(_("delisted"), default=0)
    records_relisted = models.PositiveIntegerField(_("relisted"), default=0)
    images_downloaded = models.PositiveIntegerField(_("images downloaded"), default=0)
    images_reused = models.PositiveIntegerField(_("images reused"), default=0)
    images_failed = models.PositiveIntegerField(_("images failed"), default=0)

    error_message = models.TextField(_("error message"), blank=True)
    error_details = models.TextField(_("error details"), blank=True)
    # [{"kind": "item"|"image"|"field"|"lead", "ref": "...", "message": "..."}, ...]
    item_failures = models.JSONField(_("item failures"), default=list, blank=True)
    warnings = models.JSONField(_("warnings"), default=list, blank=True)
    request_payload = models.JSONField(_("request payload (redacted)"), null=True, blank=True)
    response_summary = models.JSONField(_("response summary"), null=True, blank=True)

    objects = SyncLogQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-pk"]
        get_latest_by = "started_at"
        verbose_name = _("sync log")
        verbose_name_plural = _("sync logs")
        indexes = [
            models.Index(fields=["dealership", "sync_type", "-started_at"], name="easycars_log_latest_idx"),
            models.Index(fields=["status"], name="easycars_log_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(completed_at__isnull=True) | Q(completed_at__gte=F("started_at")),
                name="easycars_log_completed_after_started",
            ),
        ]
        permissions = [
            ("view_sync_status", _("Can view EasyCars sync status and history")),
            ("trigger_sync", _("Can trigger EasyCars syncs")),
        ]

    def __str__(self):
        return f"{self.get_sync_type_display()} {self.get_direction_display()} #{self.pk} ({self.get_status_display()})"

    @property
    def is_running(self):
        return self.status == self.Status.IN_PROGRESS

    @property
    def progress_percent(self):
        if not self.records_total:
            return 100 if not self.is_running else 0
        return min(100, round(100 * self.records_processed / self.records_total))

    @property
    def photos_unavailable(self):
        """Photos whose URLs are known to be broken and wait for their back-off (stock runs)."""
        summary = self.response_summary if isinstance(self.response_summary, dict) else {}
        value = summary.get("photos_unavailable", 0)
        return value if isinstance(value, int) else 0


class SyncLease(models.Model):
    """At most one run of each kind per dealership, across processes and machines.

    Acquired with a conditional UPDATE on the database clock, renewed while the run goes, and
    released by its owner; a lease left by a killed worker simply expires.
    """

    dealership = models.ForeignKey(Dealership, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20)
    owner = models.CharField(max_length=64, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    sync_log = models.ForeignKey(SyncLog, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["dealership", "kind"], name="easycars_unique_lease")]

    def __str__(self):
        return f"{self.dealership_id}:{self.kind}"
