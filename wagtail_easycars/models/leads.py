import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.search import index

from .dealerships import Dealership


class LeadQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(dealership__in=Dealership.objects.for_user(user))


class Lead(index.Indexed, models.Model):
    class Status(models.TextChoices):
        NEW = "new", _("New")
        IN_PROGRESS = "in_progress", _("In progress")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")
        DELETED = "deleted", _("Deleted")

    class DataSource(models.TextChoices):
        MANUAL = "manual", _("Manual")
        EASYCARS = "easycars", _("EasyCars")
        WEBFORM = "webform", _("Web form")

    # The contract's enums, stored as words; sync/mapping.py turns them into EasyCars integers.
    class VehicleInterest(models.TextChoices):
        BUY = "buy", _("Buy")
        LEASE = "lease", _("Lease")
        SELL = "sell", _("Sell")
        TEST_DRIVE = "test_drive", _("Test drive")
        SERVICE = "service", _("Service")

    class FinanceStatus(models.TextChoices):
        YES = "yes", _("Yes")
        NO = "no", _("No")
        MAYBE = "maybe", _("Maybe")

    class Rating(models.TextChoices):
        COLD = "cold", _("Cold")
        WARM = "warm", _("Warm")
        HOT = "hot", _("Hot")

    class SyncState(models.TextChoices):
        NOT_APPLICABLE = "not_applicable", _("Not applicable")
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    dealership = models.ForeignKey(
        Dealership, on_delete=models.CASCADE, related_name="leads", verbose_name=_("dealership")
    )
    vehicle = models.ForeignKey(
        "Vehicle", null=True, blank=True, on_delete=models.SET_NULL, related_name="leads", verbose_name=_("vehicle")
    )
    name = models.CharField(_("name"), max_length=100)
    email = models.EmailField(_("email"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    mobile = models.CharField(_("mobile"), max_length=20, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=50, blank=True)
    state = models.CharField(_("state"), max_length=20, blank=True)
    postcode = models.CharField(_("postcode"), max_length=10, blank=True)
    message = models.TextField(_("message"), blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.NEW)
    data_source = models.CharField(
        _("data source"), max_length=20, choices=DataSource.choices, default=DataSource.MANUAL
    )
    vehicle_interest = models.CharField(
        _("interest"), max_length=20, choices=VehicleInterest.choices, default=VehicleInterest.BUY
    )
    finance_status = models.CharField(_("finance wanted"), max_length=10, choices=FinanceStatus.choices, blank=True)
    rating = models.CharField(_("rating"), max_length=10, choices=Rating.choices, blank=True)

    # Outbound sync state (a transactional outbox: set in the same transaction as the save).
    external_id = models.UUIDField(_("external id"), default=uuid.uuid4, unique=True, editable=False)
    sync_state = models.CharField(
        _("sync state"), max_length=20, choices=SyncState.choices, default=SyncState.NOT_APPLICABLE
    )
    sync_error = models.TextField(_("last sync error"), blank=True)
    sync_attempts = models.PositiveIntegerField(default=0, editable=False)
    # Set just before CreateLead is sent; if still set on retry, the outcome is unknown and must be reconciled
    # (not before LEAD_RECONCILE_QUIET_SECONDS have passed: EasyCars may still be working on it).
    push_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Reconciliation scans of that create that found nothing, and when the last one looked. A create is
    # sent again only after two such scans, each a quiet period after the one before (or the send).
    reconcile_misses = models.PositiveSmallIntegerField(default=0, editable=False)
    reconcile_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The values EasyCars last acknowledged, so UpdateLead can carry only what changed.
    synced_values = models.JSONField(default=dict, blank=True, editable=False)
    # The highest LeadNumber we knew when CreateLead was last sent: a lost answer is looked for
    # after it. None until a create is sent ("" when the dealership had no LeadNumber yet).
    reconcile_after = models.CharField(max_length=20, null=True, blank=True, editable=False)
    # A lost create that could not be found in EasyCars nor ruled out: held for an editor.
    create_unresolved = models.BooleanField(default=False, editable=False)
    # The editor confirmed (Retry sync) that such a create may be sent again without checking.
    resend_confirmed = models.BooleanField(default=False, editable=False)
    # Local values EasyCars cannot take ({field: value}); not pending changes while they stay.
    unsendable_fields = models.JSONField(default=dict, blank=True, editable=False)

    easycars_lead_number = models.CharField(_("EasyCars lead number"), max_length=20, null=True, blank=True)
    easycars_customer_no = models.CharField(_("EasyCars customer number"), max_length=20, blank=True)
    easycars_raw_data = models.JSONField(_("EasyCars data"), null=True, blank=True, editable=False)
    last_synced_to_easycars = models.DateTimeField(_("last sent to EasyCars"), null=True, blank=True)
    last_synced_from_easycars = models.DateTimeField(_("last refreshed from EasyCars"), null=True, blank=True)

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = LeadQuerySet.as_manager()

    search_fields = [
        index.SearchField("name"),
        index.SearchField("email"),
        index.SearchField("phone"),
        index.SearchField("message"),
        index.SearchField("easycars_lead_number"),
        index.AutocompleteField("name"),
        index.FilterField("dealership"),
        index.FilterField("status"),
        index.FilterField("sync_state"),
    ]

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        constraints = [
            models.UniqueConstraint(
                fields=["dealership", "easycars_lead_number"],
                condition=models.Q(easycars_lead_number__isnull=False),
                name="easycars_unique_lead_number",
            ),
        ]
        indexes = [
            models.Index(fields=["dealership", "sync_state"], name="easycars_lead_sync_idx"),
            models.Index(fields=["data_source"], name="easycars_lead_source_idx"),
            models.Index(fields=["dealership", "-created_at"], name="easycars_lead_recent_idx"),
        ]

    def __str__(self):
        return f"{self.name} ({self.get_status_display()})"


class LeadClaim(models.Model):
    """The right to push one lead: a push holds it while it works, a retry while it waits.

    Taken with a conditional UPDATE on the database clock (``push.claim_leads``): free when
    ``lease_until`` has passed or the claim only holds a retry back-off. Released (deleted) by
    its owner; a killed worker's claim simply expires and the sweeper takes the lead up again.
    """

    lead = models.OneToOneField(Lead, on_delete=models.CASCADE, primary_key=True, related_name="push_claim")
    #: The claiming push's token; blank while the claim only holds a back-off.
    owner = models.CharField(max_length=64, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    #: Held until the next retry: any push (a manual sync, Retry sync) may take it over.
    backoff = models.BooleanField(default=False)

    def __str__(self):
        return f"lead {self.lead_id} ({'back-off' if self.backoff else self.owner})"
