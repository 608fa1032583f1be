from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail.images import get_image_model_string
from wagtail.models import Orderable
from wagtail.search import index

from .dealerships import Dealership


class DataSource(models.TextChoices):
    MANUAL = "manual", _("Manual")
    EASYCARS = "easycars", _("EasyCars")
    IMPORT = "import", _("Import")


class VehicleQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(dealership__in=Dealership.objects.for_user(user))

    def available(self):
        return self.filter(status=Vehicle.Status.AVAILABLE)


class Vehicle(index.Indexed, ClusterableModel):
    class PhotosState(models.TextChoices):
        """Whether the vehicle's gallery holds every photo of its EasyCars URL list."""

        #: The gallery matches the URL list (a vehicle without EasyCars photos is complete too).
        COMPLETE = "complete", _("Complete")
        #: The URL list is new or changed and its photo work has not finished (or never started).
        PENDING = "pending", _("Pending")
        #: Photo work ran, but some photos could not be used; they are retried.
        INCOMPLETE = "incomplete", _("Incomplete")

    #: States a stock run picks up for photo work.
    PHOTOS_TO_DO = (PhotosState.PENDING, PhotosState.INCOMPLETE)

    class Condition(models.TextChoices):
        NEW = "new", _("New")
        USED = "used", _("Used")
        DEMO = "demo", _("Demo")

    class Status(models.TextChoices):
        AVAILABLE = "available", _("Available")
        SOLD = "sold", _("Sold")
        UNLISTED = "unlisted", _("Unlisted")

    class StockType(models.TextChoices):
        CAR = "A", _("Car")
        BOAT = "B", _("Boat")
        CARAVAN = "C", _("Caravan/Camper")
        HEAVY = "H", _("Heavy truck/bus")
        MOTORBIKE = "M", _("Motorbike")
        TRAILER = "T", _("Trailer")

    dealership = models.ForeignKey(
        Dealership, on_delete=models.CASCADE, related_name="vehicles", verbose_name=_("dealership")
    )
    title = models.CharField(_("title"), max_length=255)
    make = models.CharField(_("make"), max_length=100, blank=True)
    model = models.CharField(_("model"), max_length=100, blank=True)
    badge = models.CharField(_("badge"), max_length=100, blank=True)
    series = models.CharField(_("series"), max_length=100, blank=True)
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    price = models.DecimalField(
        _("price"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Leave empty to show 'Price on application'."),
    )
    special_price = models.DecimalField(_("special price"), max_digits=12, decimal_places=2, null=True, blank=True)
    is_drive_away = models.BooleanField(_("drive-away price"), default=False)
    is_special = models.BooleanField(_("special offer"), default=False)
    is_prestige = models.BooleanField(_("prestige"), default=False)
    odometer = models.PositiveIntegerField(_("odometer"), null=True, blank=True)
    odometer_in_miles = models.BooleanField(_("odometer in miles"), default=False)
    condition = models.CharField(_("condition"), max_length=10, choices=Condition.choices, default=Condition.USED)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.AVAILABLE)
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True)
    description = models.TextField(_("description"), blank=True)
    short_description = models.CharField(_("short description"), max_length=500, blank=True)
    body = models.CharField(_("body type"), max_length=100, blank=True)
    exterior_colour = models.CharField(_("exterior colour"), max_length=100, blank=True)
    interior_colour = models.CharField(_("interior colour"), max_length=100, blank=True)
    fuel_type = models.CharField(_("fuel"), max_length=100, blank=True)
    gear_type = models.CharField(_("transmission"), max_length=100, blank=True)
    gear_count = models.PositiveSmallIntegerField(_("gears"), null=True, blank=True)
    engine_capacity = models.CharField(_("engine capacity"), max_length=50, blank=True)
    engine_size_cc = models.PositiveIntegerField(_("engine size (cc)"), null=True, blank=True)
    cylinders = models.CharField(_("cylinders"), max_length=20, blank=True)
    power_kw = models.DecimalField(_("power (kW)"), max_digits=8, decimal_places=2, null=True, blank=True)
    doors = models.PositiveSmallIntegerField(_("doors"), null=True, blank=True)
    seats = models.PositiveSmallIntegerField(_("seats"), null=True, blank=True)
    drive_train = models.CharField(_("drive train"), max_length=50, blank=True)
    stock_type = models.CharField(
        _("vehicle kind"), max_length=1, choices=StockType.choices, default=StockType.CAR, blank=True
    )
    rego_number = models.CharField(_("registration"), max_length=20, blank=True)
    rego_state = models.CharField(_("registration state"), max_length=10, blank=True)
    rego_expiry = models.DateField(_("registration expiry"), null=True, blank=True)
    vin = models.CharField(_("VIN"), max_length=20, blank=True)
    features = models.JSONField(_("features"), default=list, blank=True)
    video_url = models.URLField(_("video"), max_length=500, blank=True)
    location = models.CharField(_("location"), max_length=200, blank=True)

    data_source = models.CharField(
        _("data source"), max_length=20, choices=DataSource.choices, default=DataSource.MANUAL
    )
    easycars_stock_number = models.CharField(_("EasyCars stock number"), max_length=100, null=True, blank=True)
    easycars_yard_code = models.CharField(_("EasyCars yard code"), max_length=50, blank=True)
    easycars_raw_data = models.JSONField(_("EasyCars data"), null=True, blank=True, editable=False)
    easycars_content_hash = models.CharField(max_length=64, blank=True, editable=False)
    # The URL list the photo work last handled; ``photos_state`` says whether it finished.
    easycars_images_hash = models.CharField(max_length=64, blank=True, editable=False)
    # Written "pending" with the stock row whose URL list changed; only the photo work sets it
    # complete, so a run killed before or during its photos leaves the vehicle for the next run.
    photos_state = models.CharField(
        _("photos"), max_length=10, choices=PhotosState.choices, default=PhotosState.COMPLETE, editable=False
    )
    last_synced_from_easycars = models.DateTimeField(_("last synced from EasyCars"), null=True, blank=True)
    # Consecutive complete pulls this vehicle was missing from; delisting waits for N of them.
    missing_pull_count = models.PositiveSmallIntegerField(default=0, editable=False)
    # Fields an editor changed on an EasyCars vehicle: syncs keep the editor's value.
    locked_fields = models.JSONField(_("locked fields"), default=list, blank=True)

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = VehicleQuerySet.as_manager()

    search_fields = [
        index.SearchField("title"),
        index.SearchField("make"),
        index.SearchField("model"),
        index.SearchField("badge"),
        index.SearchField("description"),
        index.SearchField("vin"),
        index.SearchField("easycars_stock_number"),
        index.AutocompleteField("title"),
        index.FilterField("dealership"),
        index.FilterField("status"),
        index.FilterField("condition"),
        index.FilterField("data_source"),
    ]

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("vehicle")
        verbose_name_plural = _("vehicles")
        constraints = [
            # Only EasyCars vehicles own a stock number: a manual vehicle may carry the same one
            # (the sync reports it as a potential duplicate instead of failing to import).
            models.UniqueConstraint(
                fields=["dealership", "easycars_stock_number"],
                condition=Q(easycars_stock_number__isnull=False, data_source="easycars"),
                name="easycars_unique_stock_number",
            ),
        ]
        indexes = [
            models.Index(fields=["dealership", "status"], name="easycars_vehicle_status_idx"),
            models.Index(fields=["data_source"], name="easycars_vehicle_source_idx"),
            models.Index(fields=["dealership", "vin"], name="easycars_vehicle_vin_idx"),
            models.Index(fields=["dealership", "make", "model"], name="easycars_vehicle_make_idx"),
            models.Index(fields=["dealership", "price"], name="easycars_vehicle_price_idx"),
            # Small: only the vehicles whose photo work is not done.
            models.Index(
                fields=["dealership"],
                condition=Q(photos_state__in=["pending", "incomplete"]),
                name="easycars_vehicle_photos_idx",
            ),
        ]

    def __str__(self):
        return self.title or _("Vehicle %(pk)s") % {"pk": self.pk}

    @property
    def slug(self):
        """A readable URL part, e.g. ``2020-volvo-v90-d5-12``; the trailing number is the id."""
        words = slugify(" ".join(str(p) for p in (self.year or "", self.make, self.model, self.badge) if p))
        return f"{words[:80].strip('-')}-{self.pk}" if words else str(self.pk)

    @property
    def display_price(self):
        return self.special_price if self.special_price is not None else self.price

    @property
    def is_from_easycars(self):
        return self.data_source == DataSource.EASYCARS


class VehicleImage(Orderable):
    vehicle = ParentalKey(Vehicle, on_delete=models.CASCADE, related_name="images")
    image = models.ForeignKey(
        get_image_model_string(), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # Set for images stored in Cloudinary instead of Wagtail images.
    external_url = models.URLField(max_length=1000, blank=True)
    source_url = models.URLField(max_length=1000, blank=True, editable=False)
    content_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    alt_text = models.CharField(_("alt text"), max_length=255, blank=True)

    class Meta(Orderable.Meta):
        verbose_name = _("vehicle photo")
        verbose_name_plural = _("vehicle photos")

    def __str__(self):
        return self.alt_text or self.source_url or str(self.image)


class BrokenPhotoURL(models.Model):
    """A photo URL of a dealership's feed that could not be used, and when to try it again.

    A URL that fails again waits twice as long, from ``PHOTO_RETRY_INITIAL_DELAY`` up to
    ``PHOTO_RETRY_MAX_DELAY``; one that is fetched and stored is forgotten.
    """

    dealership = models.ForeignKey(
        Dealership, on_delete=models.CASCADE, related_name="broken_photo_urls", verbose_name=_("dealership")
    )
    #: SHA-256 of the whole URL: the URL itself is only kept without its query string.
    url_hash = models.CharField(max_length=64, editable=False)
    url = models.CharField(_("URL (without query string)"), max_length=1000, editable=False)
    reason = models.CharField(_("reason"), max_length=255, editable=False)
    failures = models.PositiveIntegerField(_("failures"), default=1, editable=False)
    first_failed_at = models.DateTimeField(_("first failed at"), editable=False)
    last_failed_at = models.DateTimeField(_("last failed at"), editable=False)
    retry_after = models.DateTimeField(_("retry after"), editable=False)

    class Meta:
        ordering = ["-last_failed_at"]
        verbose_name = _("broken photo URL")
        verbose_name_plural = _("broken photo URLs")
        constraints = [
            models.UniqueConstraint(fields=["dealership", "url_hash"], name="easycars_unique_broken_photo"),
        ]

    def __str__(self):
        return self.url


class VehicleConflict(models.Model):
    """An EasyCars value that a sync did not apply because an editor had changed the field."""

    class Resolution(models.TextChoices):
        KEEP_LOCAL = "keep_local", _("Keep local value")
        ACCEPT_EASYCARS = "accept_easycars", _("Accept EasyCars value")
        #: Closed by a sync: the vehicle now shows the value EasyCars sends (EasyCars took the
        #: editor's value, or the field was unlocked and the EasyCars value applied).
        AGREED = "agreed", _("Values agree")

    #: What an editor can decide.
    EDITOR_RESOLUTIONS = (Resolution.KEEP_LOCAL, Resolution.ACCEPT_EASYCARS)

    vehicle = models.ForeignKey(Vehicle, on_delete=models.CASCADE, related_name="conflicts")
    field = models.CharField(_("field"), max_length=64)
    local_value = models.JSONField(_("local value"), null=True, blank=True)
    easycars_value = models.JSONField(_("EasyCars value"), null=True, blank=True)
    detected_at = models.DateTimeField(_("detected at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    sync_log = models.ForeignKey("SyncLog", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    resolution = models.CharField(_("resolution"), max_length=20, choices=Resolution.choices, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-detected_at"]
        verbose_name = _("sync conflict")
        verbose_name_plural = _("sync conflicts")
        constraints = [
            models.UniqueConstraint(
                fields=["vehicle", "field"], condition=Q(resolved_at__isnull=True), name="easycars_one_open_conflict"
            ),
        ]

    def __str__(self):
        return f"{self.vehicle}: {self.field}"


class PotentialDuplicate(models.Model):
    """A manual vehicle that shares a VIN or stock number with an EasyCars vehicle."""

    class Reason(models.TextChoices):
        VIN = "vin", _("Same VIN")
        STOCK_NUMBER = "stock_number", _("Same stock number")

    class Resolution(models.TextChoices):
        OPEN = "open", _("Open")
        MERGED = "merged", _("Merged")
        KEPT_SEPARATE = "kept_separate", _("Kept separate")

    dealership = models.ForeignKey(Dealership, on_delete=models.CASCADE, related_name="potential_duplicates")
    manual_vehicle = models.ForeignKey(Vehicle, on_delete=models.CASCADE, related_name="+")
    easycars_vehicle = models.ForeignKey(Vehicle, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    resolution = models.CharField(_("resolution"), max_length=20, choices=Resolution.choices, default=Resolution.OPEN)
    detected_at = models.DateTimeField(_("detected at"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-detected_at"]
        verbose_name = _("potential duplicate")
        verbose_name_plural = _("potential duplicates")
        constraints = [
            models.UniqueConstraint(fields=["manual_vehicle", "easycars_vehicle"], name="easycars_unique_duplicate"),
        ]

    def __str__(self):
        return f"{self.manual_vehicle} ≈ {self.easycars_vehicle}"
