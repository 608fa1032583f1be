from django.contrib.auth.models import Permission
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from wagtail.models.audit_log import BaseLogEntry, ModelLogEntryManager

from .dealerships import Dealership

#: Audit-log actions about a dealership's EasyCars credentials (admin/services.py logs them).
CREDENTIAL_ACTIONS = "wagtail_easycars.credentials."


class DealershipLogEntryManager(ModelLogEntryManager):
    def log_action(self, instance, action, **kwargs):
        dealership_id = instance.pk if isinstance(instance, Dealership) else getattr(instance, "dealership_id", None)
        kwargs.setdefault("dealership_id", dealership_id)
        return super().log_action(instance, action, **kwargs)

    def viewable_by_user(self, user):
        """Wagtail's rule (any permission on the object's type), narrowed to the user's dealerships."""
        if user.is_superuser:
            return self.all()
        # Not super(): Wagtail 7.0 caches the allowed types on the user object, computed from the
        # first log model it is asked about, so our types would be missing for the second.
        used_types = self.values_list("content_type_id", flat=True).distinct()
        permissions = Permission.objects.filter(content_type_id__in=used_types).select_related("content_type")
        allowed_types = {
            permission.content_type_id
            for permission in permissions
            if user.has_perm(f"{permission.content_type.app_label}.{permission.codename}")
        }
        visible = self.filter(content_type_id__in=allowed_types, dealership__in=Dealership.objects.for_user(user))
        # Who changed, tested or paused the credentials is the integration's business: admins only.
        credentials_elsewhere = Q(action__startswith=CREDENTIAL_ACTIONS) & ~Q(
            dealership__in=Dealership.objects.administered_by(user)
        )
        return visible.exclude(credentials_elsewhere)


class DealershipLogEntry(BaseLogEntry):
    """Audit-log entries of dealerships and their credentials, vehicles and leads.

    Registered for those models in ``wagtail_hooks``. Wagtail's own ``ModelLogEntry`` shows an
    entry to anyone allowed to see the object's type, so its Site history report would list
    dealership B's vehicle titles, customer names and credential changes to a member of A;
    these entries remember their dealership and show only to its members (and superusers).
    Read them through ``wagtail.log_actions.registry.get_logs_for_instance(obj)``.
    """

    object_id = models.CharField(max_length=255, db_index=True)
    # SET_NULL: the audit trail outlives a deleted dealership (then only superusers see it).
    dealership = models.ForeignKey(
        Dealership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("dealership")
    )

    objects = DealershipLogEntryManager()

    class Meta:
        ordering = ["-timestamp", "-id"]
        verbose_name = _("dealership log entry")
        verbose_name_plural = _("dealership log entries")
        indexes = [models.Index(fields=["uuid", "action", "-timestamp"], name="easycars_log_entry_uuid_idx")]

    def __str__(self):
        return f"DealershipLogEntry {self.pk}: {self.action!r} on {self.content_type_id}:{self.object_id}"
