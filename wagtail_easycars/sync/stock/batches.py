"""Writing one batch of the feed in one transaction: new vehicles inserted, changed ones updated.

A batch the database refuses is written again item by item, so one bad row fails alone.
"""

import logging
from dataclasses import dataclass, field

from django.db import DatabaseError, transaction
from django.utils.translation import gettext as _

from ...models import Vehicle
from . import insert
from .photos.gallery import ImageWork
from .updates import apply_updates

logger = logging.getLogger(__name__)


@dataclass
class BatchResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    relisted: int = 0
    failed: list = field(default_factory=list)
    image_work: list = field(default_factory=list)
    #: Ids of the vehicles created or changed, for the search index.
    written: list = field(default_factory=list)

    def merge(self, other):
        for name in ("created", "updated", "unchanged", "relisted"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.failed += other.failed
        self.image_work += other.image_work
        self.written += other.written


class BatchWriter:
    """Writes the batches of one run: its dealership, SyncLog and clock."""

    def __init__(self, dealership, log, now):
        self.dealership = dealership
        self.log = log
        self.now = now

    def write_safely(self, creates, updates, reset_ids):
        """Write a batch; if the database refuses it, each item alone. Returns a BatchResult.

        ``creates``: MappedStockItems; ``updates``: ``(vehicle id, stored images hash,
        MappedStockItem)``; ``reset_ids``: unchanged vehicles seen again after missing pulls.
        """
        try:
            with transaction.atomic():
                return self.write(creates, updates, reset_ids)
        except DatabaseError:
            logger.warning("A stock batch of dealership %s was refused; retrying item by item", self.dealership.pk)
        # One row spoiled the batch: write item by item so the others still land.
        result = BatchResult()
        _reset_missing_pulls(reset_ids)
        for one_create, one_update, stock_number in _one_by_one(creates, updates):
            try:
                with transaction.atomic():
                    part = self.write(one_create, one_update, [])
            except DatabaseError as exc:
                result.failed.append((stock_number, _("The database refused this vehicle: %(error)s") % {"error": exc}))
                continue
            result.merge(part)
        return result

    def write(self, creates, updates, reset_ids):
        """Write a batch (in the caller's transaction) and return its BatchResult."""
        result = BatchResult()
        _reset_missing_pulls(reset_ids)
        if creates:
            ids = insert.insert_vehicles(self.dealership, creates, self.now)
            result.created = len(ids)
            result.written += ids
            for pk, m in zip(ids, creates, strict=True):
                if m.images_hash:
                    result.image_work.append(ImageWork(pk, m.stock_number, m.image_urls, m.images_hash))
        if updates:
            apply_updates(updates, result, log=self.log, now=self.now)
        return result


def _reset_missing_pulls(vehicle_ids):
    if vehicle_ids:
        Vehicle.objects.filter(pk__in=vehicle_ids).update(missing_pull_count=0)


def _one_by_one(creates, updates):
    """``(creates, updates, stock number)`` for each item of a batch alone, new vehicles first."""
    for mapped in creates:
        yield [mapped], [], mapped.stock_number
    for update in updates:
        yield [], [update], update[-1].stock_number
