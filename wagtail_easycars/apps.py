from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WagtailEasyCarsConfig(AppConfig):
    name = "wagtail_easycars"
    label = "wagtail_easycars"
    verbose_name = _("EasyCars")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import checks, signals  # noqa: F401
