"""A counter per key and time window, atomic on every database (the enquiry rate limit)."""

from django.db import IntegrityError, models, transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _


class EnquiryRateCounter(models.Model):
    """How many enquiries one sender made in its current window (docs/showroom.md).

    Counted with a conditional UPDATE, which every database applies atomically, so the limit
    holds across processes and servers whatever cache the site runs (a cache's ``incr`` is
    atomic on Redis and Memcached, not on the file or database cache). ``key`` is a keyed hash
    of the sender's address, never the address; rows of lapsed windows are pruned as new
    senders arrive.
    """

    key = models.CharField(_("key"), max_length=64, primary_key=True)
    count = models.PositiveIntegerField(_("count"), default=0)
    window_end = models.DateTimeField(_("window end"))

    class Meta:
        verbose_name = _("enquiry rate counter")
        verbose_name_plural = _("enquiry rate counters")
        indexes = [models.Index(fields=["window_end"], name="easycars_enquiry_window_idx")]

    def __str__(self):
        return f"{self.key}: {self.count}"

    @classmethod
    def take(cls, key, *, limit, window):
        """Count one for ``key`` and return True, or False (counting nothing) once ``limit`` were counted.

        ``window`` (a timedelta) starts with the first count and ends on the database clock.
        """
        if cls._count_one(key, limit, window):
            return True
        try:
            with transaction.atomic():
                cls.objects.create(key=key, count=1, window_end=Now() + window)
        except IntegrityError:  # the row exists: at the limit, or created by a concurrent request
            return cls._count_one(key, limit, window)
        cls.objects.filter(window_end__lte=Now()).delete()
        return True

    @classmethod
    def _count_one(cls, key, limit, window):
        """One conditional UPDATE: count one if under ``limit``, or start a new window if it lapsed."""
        lapsed = Q(window_end__lte=Now())
        updated = cls.objects.filter(Q(count__lt=limit) | lapsed, key=key).update(
            count=Case(When(lapsed, then=Value(1)), default=F("count") + 1),
            window_end=Case(When(lapsed, then=Now() + window), default=F("window_end")),
        )
        return bool(updated)
