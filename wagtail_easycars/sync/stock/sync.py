"""The stock sync: fetch -> map -> diff -> write -> delist -> duplicates -> photos, in one SyncLog.

GetAdvertisementStocks has no paging and no delta, so every run compares the full snapshot with
what is stored (:mod:`.feed` fetches it). Cost is kept flat by hashing each item as received: an
item whose hash matches the stored ``easycars_content_hash`` is not mapped and its row is not
written, and a feed byte for byte the previous run's is not even hashed (:mod:`.fingerprints`).
Changed and new items are written in batches of ``SYNC_BATCH_SIZE``, one transaction per batch
(:mod:`.batches`: new rows by :mod:`.insert`, changed ones by :mod:`.updates`). Delisting and
duplicate reports follow (:mod:`.delisting`), then photos (:mod:`.photos.gallery`).
"""

import gc
import logging
from contextlib import contextmanager

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ...client.errors import EasyCarsError
from ...conf import get_setting
from ...models import EasyCarsCredential, SyncLog, Vehicle
from ...models.vehicles import DataSource
from .. import runs
from . import delisting, mapping
from .batches import BatchWriter
from .feed import SyncAborted, fetch_feed
from .fingerprints import feed_fingerprint, previous_fingerprint
from .photos.gallery import ImageWork, process_images
from .search_index import queue_search_index_update

logger = logging.getLogger(__name__)

UNLISTED = Vehicle.Status.UNLISTED
PHOTOS_COMPLETE = Vehicle.PhotosState.COMPLETE
#: Columns loaded once per run for every EasyCars vehicle of the dealership (cheap: no text).
#: Rows stay plain tuples, read by the positions below: a dict per row costs twice as much to
#: build, and named tuples (a tuple subclass) are never untracked by the garbage collector, so
#: 20,000 of them bring on full collections that cost more than the whole diff.
INDEX_COLUMNS = (
    "id", "easycars_stock_number", "vin", "easycars_content_hash", "easycars_images_hash", "status",
    "missing_pull_count", "photos_state",
)  # fmt: skip
ID, STOCK_NUMBER, VIN, CONTENT_HASH, IMAGES_HASH, STATUS, MISSING_PULLS, PHOTOS_STATE = range(len(INDEX_COLUMNS))


def sync_stock(
    dealership,
    *,
    log=None,
    trigger=SyncLog.Trigger.SCHEDULE,
    user=None,
    progress=None,
    images=True,
    client=None,
    deadline=None,
):
    """Run a stock sync for ``dealership`` and return its SyncLog.

    Without ``log`` a run is begun here; if another run holds the lease, that run's log is
    returned and nothing else happens. ``progress(processed, total)`` is called as batches
    finish. ``images=False`` leaves photos to :func:`wagtail_easycars.sync.stock.photos.gallery.sync_images`;
    photo work stops at ``deadline`` (a ``time.monotonic()`` value) and resumes next run.
    """
    just_begun = log is None
    if just_begun:
        log, started = runs.begin_run(
            dealership, SyncLog.SyncType.STOCK, SyncLog.Direction.INBOUND, trigger=trigger, user=user
        )
        if not started:
            return log
    recorder = runs.RunRecorder(log, just_begun=just_begun)
    try:
        run = StockSync(dealership, recorder, progress=progress, client=client)
        run.run()
        if images and run.image_work:
            process_images(dealership, run.image_work, recorder, deadline=deadline)
    except SyncAborted as exc:
        return recorder.finish(error_message=str(exc))
    except EasyCarsError as exc:
        return recorder.fail(
            exc, message=_("EasyCars could not be reached or refused the request: %(error)s") % {"error": exc}
        )
    except Exception as exc:
        logger.exception("Stock sync of dealership %s failed", dealership.pk)
        return recorder.fail(exc, message=_("The stock sync stopped because of an unexpected error."))
    queue_search_index_update(run.indexed_ids)
    with transaction.atomic():  # one commit for the run's last writes
        EasyCarsCredential.objects.filter(dealership=dealership).update(last_synced_at=timezone.now())
        return recorder.finish()


def restock_candidates(existing, feed):
    """VIN -> index row of the vehicles whose stock number left the feed, for VINs held by one only.

    A car re-stocked under a new number is matched by its VIN and keeps its page, history and leads.
    """
    by_vin = {}
    for number, row in existing.items():
        if number not in feed and row[VIN]:
            by_vin.setdefault(row[VIN], []).append(row)
    return {vin: rows[0] for vin, rows in by_vin.items() if len(rows) == 1}


@contextmanager
def objects_frozen():
    """Keep the garbage collector off the objects that exist now (Django, Wagtail, ...).

    A first import allocates enough to set off several full collections, and each one walks every
    object in the process again: about 0.7 s of a 20,000-vehicle import. Frozen objects are only
    skipped, never freed; unfreezing hands them back to the collector.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


class StockSync:
    """One run's fetch, diff and writes; ``image_work`` and ``indexed_ids`` are left for what follows."""

    def __init__(self, dealership, recorder, *, progress=None, client=None):
        self.dealership = dealership
        self.recorder = recorder
        self.log = recorder.log
        self.progress = progress
        self.client = client
        self.now = timezone.now()
        self.trusted = False
        self.writer = BatchWriter(dealership, self.log, self.now)
        self.image_work = []
        #: Ids of the vehicles created or changed: bulk writes send no signals to the search index.
        self.indexed_ids = []

    # The run --------------------------------------------------------------------------------

    def run(self):
        # Frozen before the fetch, so what the fetch leaves behind (the response body) stays
        # collectable; the parsed items are plain dicts of scalars, which the collector skips anyway.
        with objects_frozen():
            self.process(fetch_feed(self.dealership, self.log, client=self.client))

    def process(self, response):
        items = response.items
        self.recorder.set_total(len(items))
        if response.warning:
            self.recorder.add_warning(
                _("EasyCars answered with a warning: %(message)s") % {"message": response.warning}
            )
        fingerprint = feed_fingerprint(response.body)
        response.body = b""  # tens of megabytes for a big dealership: not kept through the writes
        self.trusted = bool(fingerprint) and fingerprint == previous_fingerprint(self.dealership, self.log)
        feed, hashes, unidentified = self.identify(items)
        existing = self.stored_index()
        self.by_vin = restock_candidates(existing, feed)
        self.matched_ids = set()
        self.write_feed(feed, hashes, existing)
        present_ids = {existing[n][ID] for n in feed if n in existing} | self.matched_ids
        delisting.delist_missing(
            ((row[ID], row[STATUS], row[MISSING_PULLS]) for row in existing.values()),
            present_ids,
            partial=bool(response.warning) or unidentified,
            recorder=self.recorder,
            now=self.now,
        )
        delisting.detect_duplicates(self.dealership)
        self.log.response_summary = {
            "items": len(items),
            "warning": response.warning,
            "unidentified_items": unidentified,
            "yards": sorted({str(item.get("YardCode") or "")[:50] for item in items})[:50],
            # Only when every item of this feed is now stored with its hash (see fingerprints.previous_fingerprint).
            "feed_fingerprint": fingerprint if not self.log.records_failed else "",
        }

    def stored_index(self):
        """Stock number -> ``INDEX_COLUMNS`` row, for every EasyCars vehicle of the dealership."""
        rows = (
            Vehicle.objects.filter(dealership=self.dealership, data_source=DataSource.EASYCARS)
            .exclude(easycars_stock_number=None)
            .order_by()  # the model's default ordering would sort every row for nothing
            .values_list(*INDEX_COLUMNS)
        )
        return {row[STOCK_NUMBER]: row for row in rows}

    def identify(self, items):
        """Stock number -> item and stock number -> content hash, in feed order.

        Items without a stock number (or with a repeated one) fail here. The hash is taken in the
        same pass, so the 72-key items are walked once; for a trusted feed, only where needed
        (in :meth:`write_feed`).
        """
        feed, hashes = {}, {}
        unidentified = 0
        stock_number_of, item_hash = mapping.stock_number_of, mapping.item_hash
        for position, item in enumerate(items):
            number = stock_number_of(item)
            if not number:
                unidentified += 1
                self.fail_item(f"#{position + 1}", _("The item has no usable StockNumber."))
            elif number in feed:
                self.fail_item(number, _("The stock number appears more than once in the feed; the first was used."))
            else:
                feed[number] = item
                if not self.trusted:
                    hashes[number] = item_hash(item)
        return feed, hashes, unidentified

    def fail_item(self, ref, message):
        self.recorder.count("records_failed")
        self.recorder.count("records_processed")
        self.recorder.add_failure("item", ref, message)

    # Writing --------------------------------------------------------------------------------

    def write_feed(self, feed, hashes, existing):
        """Write the feed in batches of ``SYNC_BATCH_SIZE``, one transaction each."""
        batch_size = max(1, int(get_setting("SYNC_BATCH_SIZE")))
        numbers = list(feed)
        for start in range(0, len(numbers), batch_size):
            creates, updates, reset_ids, unchanged = self.sort_batch(
                numbers[start : start + batch_size], feed, hashes, existing
            )
            result = self.writer.write_safely(creates, updates, reset_ids)
            result.unchanged += unchanged
            self.record(result)

    def sort_batch(self, numbers, feed, hashes, existing):
        """``(creates, updates, reset_ids, unchanged count)`` for these stock numbers.

        Only new and changed items are mapped. ``updates`` holds ``(vehicle id, stored images
        hash, MappedStockItem)``; ``reset_ids`` the unchanged vehicles seen again after missing pulls.
        An unchanged vehicle whose photos are not complete (whatever stopped an earlier run) gets
        photo work, read from the index row: no query of its own.
        """
        creates, updates, reset_ids = [], [], []
        unchanged = 0
        for number in numbers:
            row = existing.get(number)
            if self.is_unchanged(row, number, hashes):
                unchanged += 1
                if row[MISSING_PULLS]:
                    reset_ids.append(row[ID])
                if row[PHOTOS_STATE] != PHOTOS_COMPLETE:
                    self.image_work.append(ImageWork(row[ID], number, None, ""))
                continue
            mapped = self.map_item(number, feed[number], hashes.get(number))
            if mapped is None:
                continue
            if row is None:
                row = self.match_by_vin(mapped)
            if row is None:
                creates.append(mapped)
            else:
                updates.append((row[ID], row[IMAGES_HASH], mapped))
        return creates, updates, reset_ids, unchanged

    def is_unchanged(self, row, number, hashes):
        """Whether the stored, listed vehicle already holds this item (same hash, or a trusted feed)."""
        stored = row[CONTENT_HASH] if row is not None else ""
        return bool(stored) and row[STATUS] != UNLISTED and (self.trusted or stored == hashes[number])

    def map_item(self, number, item, content_hash):
        """The item's MappedStockItem (its field problems reported), or None when it fails alone."""
        try:
            mapped = mapping.map_stock_item(item, content_hash)
        except mapping.StockItemError as exc:
            self.fail_item(number, exc)
            return None
        if mapped.problems:
            self.recorder.add_failure("field", number, "; ".join(str(p) for p in mapped.problems))
        return mapped

    def match_by_vin(self, mapped):
        """The index row of a re-stocked car: its old stock number left the feed, its VIN came back."""
        vin = mapped.fields["vin"]
        row = self.by_vin.pop(vin, None) if vin else None
        if row is not None:
            self.matched_ids.add(row[ID])
        return row

    def record(self, result):
        r = self.recorder
        r.count("records_created", result.created)
        r.count("records_updated", result.updated)
        r.count("records_unchanged", result.unchanged)
        r.count("records_relisted", result.relisted)
        r.count("records_processed", result.created + result.updated + result.unchanged)
        for ref, message in result.failed:
            self.fail_item(ref, message)
        self.image_work.extend(result.image_work)
        self.indexed_ids.extend(result.written)
        r.flush()
        if self.progress:
            self.progress(self.log.records_processed, self.log.records_total)
