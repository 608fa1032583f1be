"""The stock sync: fetch -> map -> diff -> write -> delist -> duplicates -> photos, in one SyncLog.

GetAdvertisementStocks has no paging and no delta, so every run compares the full snapshot with
what is stored. Cost is kept flat by hashing each item as received: an item whose hash matches
the stored ``easycars_content_hash`` is not mapped and its row is not written. Changed and new
items are written in batches of ``SYNC_BATCH_SIZE``, one transaction per batch; a batch the
database rejects is retried item by item so one bad row fails alone. Delisting and duplicate
reports follow (:mod:`.delisting`).
"""

import gc
import hashlib
import logging
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ... import jobs
from ...client.errors import EasyCarsError
from ...conf import get_setting
from ...crypto import EncryptionKeyError, SecretDecryptionError
from ...models import EasyCarsCredential, FieldChange, SyncLog, Vehicle, VehicleConflict
from ...models.vehicles import DataSource
from .. import runs
from ..accounts import account_for
from . import delisting, mapping
from .photos.gallery import IMAGES_PENDING, ImageWork, process_images

logger = logging.getLogger(__name__)

UNLISTED = Vehicle.Status.UNLISTED
#: Columns loaded once per run for every EasyCars vehicle of the dealership (cheap: no text).
#: Rows stay plain tuples, read by the positions below: a dict per row costs twice as much to
#: build, and named tuples (a tuple subclass) are never untracked by the garbage collector, so
#: 20,000 of them bring on full collections that cost more than the whole diff.
INDEX_COLUMNS = (
    "id", "easycars_stock_number", "vin", "easycars_content_hash", "easycars_images_hash", "status",
    "missing_pull_count",
)  # fmt: skip
ID, STOCK_NUMBER, VIN, CONTENT_HASH, IMAGES_HASH, STATUS, MISSING_PULLS = range(len(INDEX_COLUMNS))
#: Columns loaded for the vehicles whose item changed.
UPDATE_COLUMNS = (
    *mapping.SYNC_FIELDS,
    "dealership",
    "data_source",
    "easycars_stock_number",
    "easycars_raw_data",
    "locked_fields",
    "status_changed_at",
)


class SyncAborted(Exception):
    """The run cannot go on (no credentials, undecryptable secrets); the message is for editors."""


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
    queue_search_index_update(run.indexed_ids, recorder)
    with transaction.atomic():  # one commit for the run's last writes
        EasyCarsCredential.objects.filter(dealership=dealership).update(last_synced_at=timezone.now())
        return recorder.finish()


def feed_fingerprint(body):
    """SHA-256 of the mapping version and a GetAdvertisementStocks body; "" without a body."""
    if not body:
        return ""
    digest = hashlib.sha256(f"{mapping.MAPPING_VERSION}:".encode())
    digest.update(body)
    return digest.hexdigest()


INDEX_CHUNK = 500
#: Photo-only runs between two stock runs are skipped; past this many, items are just hashed.
PHOTO_RUNS_LOOKED_PAST = 5


def queue_search_index_update(vehicle_ids, recorder):
    """Queue the search index task for the vehicles a run created or changed (after commit)."""
    if not vehicle_ids:
        return
    chunks = [vehicle_ids[i : i + INDEX_CHUNK] for i in range(0, len(vehicle_ids), INDEX_CHUNK)]

    def enqueue():
        try:
            for chunk in chunks:
                jobs.enqueue(jobs.INDEX_VEHICLES, chunk, name="index-vehicles")
        except Exception:
            logger.exception("Queueing the search index update after a stock sync failed")

    transaction.on_commit(enqueue)


def index_vehicles(vehicle_ids):
    """Add or update these vehicles in every auto-updating search backend."""
    from wagtail.search.backends import get_search_backends

    vehicles = list(Vehicle.objects.filter(pk__in=vehicle_ids))
    for backend in get_search_backends(with_auto_update=True):
        backend.add_bulk(Vehicle, vehicles)
    return len(vehicles)


def insert_vehicles(dealership, creates, now):
    """Insert a vehicle for each MappedStockItem in ``creates``; return their primary keys in order.

    On PostgreSQL a COPY is used: the JSON columns make Django's UNNEST-based bulk_create spend
    most of a first import escaping JSON into array literals. Elsewhere, ``bulk_create``.
    """
    common = {
        "dealership": dealership, "data_source": DataSource.EASYCARS, "last_synced_from_easycars": now,
        "status_changed_at": now,
    }  # fmt: skip
    if connection.vendor != "postgresql" or len(creates) < 2:
        vehicles = Vehicle.objects.bulk_create(
            [
                Vehicle(
                    easycars_stock_number=m.stock_number,
                    easycars_raw_data=m.raw,
                    easycars_content_hash=m.content_hash,
                    **m.fields,
                    **common,
                )
                for m in creates
            ]  # fmt: skip
        )
        return [v.pk for v in vehicles]
    _copy_vehicles(Vehicle(**common), creates)
    ids = dict(
        Vehicle.objects.filter(
            dealership=dealership,
            data_source=DataSource.EASYCARS,
            easycars_stock_number__in=[m.stock_number for m in creates],
        ).values_list("easycars_stock_number", "pk")
    )
    return [ids[m.stock_number] for m in creates]


#: Column types whose values PostgreSQL takes as the mapping produces them (str, int, bool,
#: Decimal, date, None): Django's get_db_prep_save would return them unchanged, at a cost that
#: was a fifth of a 20,000-vehicle first import.
_AS_IS_ON_POSTGRESQL = frozenset(
    {"CharField", "TextField", "IntegerField", "PositiveIntegerField", "PositiveSmallIntegerField",
     "SmallIntegerField", "BigIntegerField", "BooleanField", "DecimalField", "DateField"}
)  # fmt: skip


def _copy_vehicles(template, creates):
    """COPY one row per mapped item: the template's values, with each item's own fields over them."""
    db = connections[DEFAULT_DB_ALIAS]
    fields = [f for f in Vehicle._meta.concrete_fields if not f.primary_key]
    base = [f.get_db_prep_save(f.pre_save(template, True), db) for f in fields]
    position = {f.attname: i for i, f in enumerate(fields)}
    per_item = [*mapping.SYNC_FIELDS, "easycars_stock_number", "easycars_raw_data", "easycars_content_hash"]
    slots = []
    for name in per_item:
        column = fields[position[name]]
        prepare = None if column.get_internal_type() in _AS_IS_ON_POSTGRESQL else column.get_db_prep_save
        slots.append((position[name], name, prepare))
    quote = db.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    with db.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {quote(Vehicle._meta.db_table)} ({columns}) FROM STDIN") as copy:
            for m in creates:
                values = {
                    **m.fields, "easycars_stock_number": m.stock_number, "easycars_raw_data": m.raw,
                    "easycars_content_hash": m.content_hash,
                }  # fmt: skip
                row = base.copy()
                for index, name, prep in slots:
                    value = values[name]
                    row[index] = value if prep is None else prep(value, db)
                copy.write_row(row)


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
    def __init__(self, dealership, recorder, *, progress=None, client=None):
        self.dealership = dealership
        self.recorder = recorder
        self.log = recorder.log
        self.progress = progress
        self.client = client
        self.now = timezone.now()
        self.trusted = False
        self.image_work = []
        self.indexed_ids = []

    # Fetch ----------------------------------------------------------------------------------

    def credential(self):
        credential = EasyCarsCredential.objects.filter(dealership=self.dealership).first()
        if credential is None or not credential.is_configured:
            raise SyncAborted(_("This dealership has no EasyCars credentials yet."))
        # Checked here, not only where runs are requested: a command run with --now, or a task
        # queued just before an admin paused the dealership, must not call EasyCars either.
        if not credential.is_active:
            raise SyncAborted(_("EasyCars syncing is turned off for this dealership."))
        credential.dealership = self.dealership  # spares a query for the client's label
        return credential

    def fetch(self):
        from ...client.http import EasyCarsClient

        credential = self.credential()
        yard_code = credential.yard_code.strip() or None
        self.log.request_payload = {
            "endpoint": "StockService/GetAdvertisementStocks",
            "AccountNumber": credential.masked_account_number,
            "AccountSecret": "***",
            **({"YardCode": yard_code} if yard_code else {}),
        }
        if self.client is not None:
            return self.client.get_advertisement_stocks(yard_code)
        try:
            account = account_for(credential)
        except (SecretDecryptionError, EncryptionKeyError) as exc:
            raise SyncAborted(_("The stored EasyCars credentials cannot be decrypted: %(error)s") % {"error": exc})
        with EasyCarsClient(account) as client:
            return client.get_advertisement_stocks(yard_code)

    # The run --------------------------------------------------------------------------------

    def run(self):
        # Frozen before the fetch, so what the fetch leaves behind (the response body) stays
        # collectable; the parsed items are plain dicts of scalars, which the collector skips anyway.
        with objects_frozen():
            self.process(self.fetch())

    def process(self, response):
        items = response.items
        self.recorder.set_total(len(items))
        if response.warning:
            self.recorder.add_warning(
                _("EasyCars answered with a warning: %(message)s") % {"message": response.warning}
            )
        fingerprint = feed_fingerprint(response.body)
        response.body = b""  # tens of megabytes for a big dealership: not kept through the writes
        self.trusted = bool(fingerprint) and fingerprint == self.previous_fingerprint()
        feed, hashes, unidentified = self.identify(items)
        rows = (
            Vehicle.objects.filter(dealership=self.dealership, data_source=DataSource.EASYCARS)
            .exclude(easycars_stock_number=None)
            .order_by()  # the model's default ordering would sort every row for nothing
            .values_list(*INDEX_COLUMNS)
        )
        existing = {row[STOCK_NUMBER]: row for row in rows}
        # Vehicles whose stock number left the feed can still be matched by VIN (re-stocked cars).
        by_vin = {}
        for number, row in existing.items():
            if number not in feed and row[VIN]:
                by_vin.setdefault(row[VIN], []).append(row)
        self.by_vin = {vin: rows[0] for vin, rows in by_vin.items() if len(rows) == 1}
        self.matched_ids = set()

        self.write_feed(feed, hashes, existing)
        present_ids = {existing[n][ID] for n in feed if n in existing} | self.matched_ids
        partial = bool(response.warning) or unidentified
        delisting.delist_missing(
            ((row[ID], row[STATUS], row[MISSING_PULLS]) for row in existing.values()),
            present_ids,
            partial=partial,
            recorder=self.recorder,
            now=self.now,
        )
        delisting.detect_duplicates(self.dealership)
        self.log.response_summary = {
            "items": len(items),
            "warning": response.warning,
            "unidentified_items": unidentified,
            "yards": sorted({str(item.get("YardCode") or "")[:50] for item in items})[:50],
            # Only when every item of this feed is now stored with its hash (see previous_fingerprint).
            "feed_fingerprint": fingerprint if not self.log.records_failed else "",
        }

    def previous_fingerprint(self):
        """The fingerprint of the feed the previous stock run left stored, or "".

        When this run's feed is byte for byte that one, each stored vehicle's content hash is
        already the hash of its item, unless it was cleared since (an editor unlocked a field)
        or the vehicle is gone: the items need not be hashed one by one, which is most of the
        cost of a re-sync with nothing changed. Runs are serial per dealership (the lease), so
        "previous" is the latest other stock run that fetched; photo-only runs do not count,
        and one that failed, or left any item unstored, has no fingerprint.
        """
        recent = (
            SyncLog.objects.filter(dealership=self.dealership, sync_type=SyncLog.SyncType.STOCK)
            .exclude(pk=self.log.pk)
            .values_list("status", "response_summary")[:PHOTO_RUNS_LOOKED_PAST]
        )
        for status, summary in recent:
            summary = summary if isinstance(summary, dict) else {}
            if summary.get("photo_run"):
                continue
            if status in (SyncLog.Status.SUCCESS, SyncLog.Status.WARNING):
                return summary.get("feed_fingerprint") or ""
            return ""
        return ""

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
        batch_size = max(1, int(get_setting("SYNC_BATCH_SIZE")))
        numbers = list(feed)
        for start in range(0, len(numbers), batch_size):
            creates, updates, reset_ids = [], [], []
            unchanged = 0
            for number in numbers[start : start + batch_size]:
                row = existing.get(number)
                stored = row[CONTENT_HASH] if row is not None else ""
                if stored and row[STATUS] != UNLISTED and (self.trusted or stored == hashes[number]):
                    unchanged += 1
                    if row[MISSING_PULLS]:
                        reset_ids.append(row[ID])
                    if row[IMAGES_HASH] == IMAGES_PENDING:
                        self.image_work.append(ImageWork(row[ID], number, None, ""))
                    continue
                item = feed[number]
                try:
                    mapped = mapping.map_stock_item(item, hashes.get(number))
                except mapping.StockItemError as exc:
                    self.fail_item(number, exc)
                    continue
                if mapped.problems:
                    self.recorder.add_failure("field", number, "; ".join(str(p) for p in mapped.problems))
                if row is None:
                    row = self.by_vin.pop(mapped.fields["vin"], None) if mapped.fields["vin"] else None
                    if row is not None:
                        self.matched_ids.add(row[ID])
                if row is None:
                    creates.append(mapped)
                else:
                    updates.append((row, mapped))
            result = self.write_batch_safely(creates, updates, reset_ids)
            result.unchanged += unchanged
            self.record(result)

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
        r.flush()
        if self.progress:
            self.progress(self.log.records_processed, self.log.records_total)

    def write_batch_safely(self, creates, updates, reset_ids):
        try:
            with transaction.atomic():
                result = self.write_batch(creates, updates, reset_ids)
            self.update_search_index(result.written)
            return result
        except DatabaseError:
            logger.warning("A stock batch of dealership %s was refused; retrying item by item", self.dealership.pk)
        # One row spoiled the batch: write item by item so the others still land.
        result = BatchResult()
        if reset_ids:
            Vehicle.objects.filter(pk__in=reset_ids).update(missing_pull_count=0)
        for one_create, one_update in [([m], []) for m in creates] + [([], [u]) for u in updates]:
            ref = one_create[0].stock_number if one_create else one_update[0][1].stock_number
            try:
                with transaction.atomic():
                    part = self.write_batch(one_create, one_update, [])
            except DatabaseError as exc:
                result.failed.append((ref, _("The database refused this vehicle: %(error)s") % {"error": exc}))
                continue
            self.update_search_index(part.written)
            result.merge(part)
        return result

    def update_search_index(self, vehicle_ids):
        """Bulk writes send no signals, so the search index is brought up to date separately.

        Indexing costs milliseconds per vehicle in Wagtail's search backends, far more than the
        sync itself, so it runs as queued tasks (ids only) once the rows have committed.
        """
        self.indexed_ids.extend(vehicle_ids)

    def write_batch(self, creates, updates, reset_ids):
        result = BatchResult()
        now = self.now
        if reset_ids:
            Vehicle.objects.filter(pk__in=reset_ids).update(missing_pull_count=0)
        if creates:
            ids = insert_vehicles(self.dealership, creates, now)
            result.created = len(ids)
            result.written += ids
            for pk, m in zip(ids, creates, strict=True):
                if m.images_hash:
                    result.image_work.append(ImageWork(pk, m.stock_number, m.image_urls, m.images_hash))
        if updates:
            self.apply_updates(updates, result)
        return result

    def apply_updates(self, updates, result):
        now = self.now
        current = Vehicle.objects.only(*UPDATE_COLUMNS).in_bulk([row[ID] for row, _ in updates])
        open_conflicts = {
            (c.vehicle_id, c.field): c
            for c in VehicleConflict.objects.filter(vehicle_id__in=list(current), resolved_at__isnull=True)
        }
        written, changes, new_conflicts, touched_conflicts, agreed_conflicts = [], [], [], [], []
        columns = {"easycars_content_hash", "easycars_raw_data", "last_synced_from_easycars", "missing_pull_count"}
        for row, m in updates:
            vehicle = current.get(row[ID])
            if vehicle is None:  # deleted meanwhile by an editor: it will be created again next run
                continue
            locked = set(vehicle.locked_fields or [])
            changed = []
            relisted = vehicle.status == UNLISTED
            for name in mapping.SYNC_FIELDS:
                new, old = m.fields[name], getattr(vehicle, name)
                key = (vehicle.pk, name)
                if new != old and name in locked:
                    local, remote = mapping.to_json(name, old), mapping.to_json(name, new)
                    if key in open_conflicts:
                        conflict = open_conflicts[key]
                        conflict.local_value, conflict.easycars_value = local, remote
                        conflict.sync_log = self.log
                        touched_conflicts.append(conflict)
                    else:
                        new_conflicts.append(
                            VehicleConflict(
                                vehicle=vehicle, field=name, local_value=local, easycars_value=remote,
                                sync_log=self.log,
                            )
                        )  # fmt: skip
                    continue
                # The vehicle shows EasyCars' value from here on (EasyCars now sends the editor's
                # value, or the field was unlocked): an open conflict on it is moot.
                if key in open_conflicts:
                    agreed_conflicts.append(open_conflicts[key].pk)
                if new == old:
                    continue
                setattr(vehicle, name, new)
                changed.append(name)
                changes.append(
                    FieldChange(
                        vehicle=vehicle, field=name, old_value=mapping.to_json(name, old),
                        new_value=mapping.to_json(name, new), source=FieldChange.Source.EASYCARS, sync_log=self.log,
                    )
                )  # fmt: skip
            if relisted and vehicle.status == UNLISTED:  # status locked as unlisted by an editor
                relisted = False
            if "status" in changed:
                vehicle.status_changed_at = now
                columns.add("status_changed_at")
            raw_changed = vehicle.easycars_raw_data != m.raw
            if vehicle.easycars_stock_number != m.stock_number:  # matched by VIN: the stock number moved
                vehicle.easycars_stock_number = m.stock_number
                columns.add("easycars_stock_number")
            vehicle.easycars_raw_data = m.raw
            vehicle.easycars_content_hash = m.content_hash
            vehicle.last_synced_from_easycars = now
            vehicle.missing_pull_count = 0
            if changed:
                vehicle.updated_at = now
                columns.add("updated_at")
            columns.update(changed)
            written.append(vehicle)
            if relisted:
                result.relisted += 1
            if changed:
                result.written.append(vehicle.pk)
            if changed or raw_changed:
                result.updated += 1
            else:
                result.unchanged += 1
            if m.images_hash != row[IMAGES_HASH]:
                result.image_work.append(ImageWork(vehicle.pk, m.stock_number, m.image_urls, m.images_hash))
        if written:
            Vehicle.objects.bulk_update(written, sorted(columns))
        if changes:
            FieldChange.objects.bulk_create(changes)
        if new_conflicts:
            VehicleConflict.objects.bulk_create(new_conflicts)
        if touched_conflicts:
            VehicleConflict.objects.bulk_update(touched_conflicts, ["local_value", "easycars_value", "sync_log"])
        if agreed_conflicts:
            VehicleConflict.objects.filter(pk__in=agreed_conflicts, resolved_at__isnull=True).update(
                resolution=VehicleConflict.Resolution.AGREED, resolved_at=now, sync_log=self.log
            )
