import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel


def validate_timezone(value):
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not an IANA time zone name."), params={"value": value})


class DealershipQuerySet(models.QuerySet):
    def for_user(self, user):
        """The dealerships a user may see: all for superusers, their memberships otherwise."""
        if not user or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self
        return self.filter(memberships__user=user).distinct()

    def administered_by(self, user):
        if not user or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self
        return self.filter(memberships__user=user, memberships__role=DealershipMembership.Role.ADMIN).distinct()


class Dealership(ClusterableModel):
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    site = models.OneToOneField(
        "wagtailcore.Site",
        verbose_name=_("site"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="easycars_dealership",
        help_text=_("The Wagtail site that shows this dealership's stock."),
    )
    timezone = models.CharField(
        _("time zone"), max_length=64, default="Australia/Sydney", validators=[validate_timezone]
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = DealershipQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("dealership")
        verbose_name_plural = _("dealerships")

    def __str__(self):
        return self.name

    @property
    def zoneinfo(self):
        return zoneinfo.ZoneInfo(self.timezone)

    @classmethod
    def for_site(cls, site):
        if site is None:
            return None
        return cls.objects.filter(site=site).first()


class DealershipMembership(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin", _("Admin")
        STAFF = "staff", _("Staff")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="easycars_memberships")
    # A ParentalKey so that memberships can be edited inline on the dealership in the admin.
    dealership = ParentalKey(Dealership, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.STAFF)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "dealership"], name="easycars_unique_membership"),
        ]
        verbose_name = _("dealership membership")
        verbose_name_plural = _("dealership memberships")

    def __str__(self):
        return f"{self.user} @ {self.dealership} ({self.get_role_display()})"
