from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class FieldChange(models.Model):
    """One field of a vehicle or lead changed, from what to what, and by whom (a sync or an editor)."""

    class Source(models.TextChoices):
        EASYCARS = "easycars", _("EasyCars sync")
        EDITOR = "editor", _("Editor")
        CONFLICT_RESOLUTION = "conflict", _("Conflict resolution")

    vehicle = models.ForeignKey(
        "Vehicle", null=True, blank=True, on_delete=models.CASCADE, related_name="field_changes"
    )
    lead = models.ForeignKey("Lead", null=True, blank=True, on_delete=models.CASCADE, related_name="field_changes")
    field = models.CharField(_("field"), max_length=64)
    old_value = models.JSONField(_("old value"), null=True, blank=True)
    new_value = models.JSONField(_("new value"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, default=Source.EASYCARS)
    sync_log = models.ForeignKey("SyncLog", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(_("changed at"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-changed_at", "-pk"]
        verbose_name = _("field change")
        verbose_name_plural = _("field changes")
        constraints = [
            models.CheckConstraint(
                condition=(Q(vehicle__isnull=False, lead__isnull=True) | Q(vehicle__isnull=True, lead__isnull=False)),
                name="easycars_change_has_one_owner",
            ),
        ]
        indexes = [models.Index(fields=["vehicle", "field"], name="easycars_change_vehicle_idx")]

    def __str__(self):
        return f"{self.field}: {self.old_value!r} → {self.new_value!r}"
