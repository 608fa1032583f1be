from django.apps import AppConfig
from django.db.models.signals import post_save, pre_save
from django.utils.translation import gettext_lazy as _


class WagtailEasyCarsConfig(AppConfig):
    name = "wagtail_easycars"
    label = "wagtail_easycars"
    verbose_name = _("EasyCars")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import checks  # noqa: F401 - registers the system checks
        from .models import Lead, Vehicle
        from .sync.leads import outbox
        from .sync.stock import locks

        # An editor's save locks the fields it changed (the sync writes without signals).
        pre_save.connect(locks.find_edited_fields, sender=Vehicle, dispatch_uid="wagtail_easycars_find_edits")
        post_save.connect(locks.lock_edited_fields, sender=Vehicle, dispatch_uid="wagtail_easycars_lock_edits")
        # The lead outbox: mark pending in the same save, queue the push after commit.
        pre_save.connect(outbox.mark_lead_pending, sender=Lead, dispatch_uid="wagtail_easycars_lead_outbox")
        post_save.connect(outbox.enqueue_pending_lead, sender=Lead, dispatch_uid="wagtail_easycars_lead_outbox_enqueue")
