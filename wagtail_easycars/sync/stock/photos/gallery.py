"""Vehicle galleries: bring each vehicle's photos in line with its EasyCars URL list.

Photos run after the stock rows have committed, so the listing is fresh before any download.
Work is per vehicle whose URL list changed (``easycars_images_hash``): a URL already in the
vehicle's gallery is never fetched again, and bytes already stored for the dealership (same
sha256) are never stored twice. Downloads (:mod:`.fetch`) run at most ``IMAGE_CONCURRENCY``
(capped at 5) at a time on threads; the database is only touched from the calling thread. A
photo that is missing, slow, too big or not an image is recorded and skipped; the vehicle keeps
the rest and its URL list is marked pending so the next sync retries only what failed.
"""

import hashlib
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from ....conf import get_setting
from ....models import SyncLog, Vehicle, VehicleImage
from ....models.vehicles import DataSource
from ... import runs
from .. import mapping
from .fetch import MAX_CONCURRENCY, ImageError, fetch_image, http_client
from .stores import collection_name, store_for

logger = logging.getLogger(__name__)

VEHICLES_PER_CHUNK = 25
#: ``easycars_images_hash`` of a vehicle whose photos still need work (failed, or left for later).
IMAGES_PENDING = "pending"


@dataclass
class ImageWork:
    vehicle_id: int
    stock_number: str
    #: ``None``: read the URLs from the vehicle's raw data (a retry of an unchanged item).
    urls: list | None
    images_hash: str


def process_images(dealership, work, recorder, *, deadline=None):
    """Bring the galleries of the vehicles in ``work`` (ImageWork items) in line with their URLs."""
    if not work:
        return
    pending_ids = [w.vehicle_id for w in work if w.urls is None]
    if pending_ids:  # vehicles retried from an earlier run: their URLs are in the raw data
        stored = dict(Vehicle.objects.filter(pk__in=pending_ids).values_list("pk", "easycars_raw_data"))
        for w in work:
            if w.urls is None:
                w.urls = list((stored.get(w.vehicle_id) or {}).get("ImageURLs") or [])
                w.images_hash = mapping.images_hash(w.urls)
    store = store_for(dealership)
    workers = max(1, min(MAX_CONCURRENCY, int(get_setting("IMAGE_CONCURRENCY"))))
    chunks = [work[start : start + VEHICLES_PER_CHUNK] for start in range(0, len(work), VEHICLES_PER_CHUNK)]
    with http_client() as client, ThreadPoolExecutor(max_workers=workers) as pool:
        # Pipelined: the next chunk downloads while this one is stored.
        prepared = _prepare_chunk(chunks[0], client, pool)
        for index, chunk in enumerate(chunks):
            if deadline is not None and time.monotonic() > deadline:
                for future in prepared[2].values():
                    future.cancel()
                left = [w for rest in chunks[index:] for w in rest]
                Vehicle.objects.filter(pk__in=[w.vehicle_id for w in left]).update(easycars_images_hash=IMAGES_PENDING)
                recorder.add_warning(
                    _("Photos of %(count)s vehicles were left for the next sync (time limit).") % {"count": len(left)}
                )
                return
            following = _prepare_chunk(chunks[index + 1], client, pool) if index + 1 < len(chunks) else None
            _store_chunk(dealership, chunk, prepared, recorder, store)
            prepared = following
            recorder.flush()


def _prepare_chunk(chunk, client, pool):
    """Read the chunk's galleries and start downloading what they lack."""
    ids = [w.vehicle_id for w in chunk]
    titles = dict(Vehicle.objects.filter(pk__in=ids).values_list("pk", "title"))
    gallery = {}
    for row in VehicleImage.objects.filter(vehicle_id__in=ids).order_by("sort_order", "pk"):
        gallery.setdefault(row.vehicle_id, []).append(row)
    downloads = {}
    for w in chunk:
        have = {row.source_url for row in gallery.get(w.vehicle_id, []) if row.source_url}
        for url in w.urls:
            if url not in have and url not in downloads:
                downloads[url] = pool.submit(fetch_image, client, url)
    return titles, gallery, downloads


def _store_chunk(dealership, chunk, prepared, recorder, store):
    titles, gallery, downloads = prepared
    fetched, errors = {}, {}
    for url, future in downloads.items():
        try:
            data, extension = future.result()
        except ImageError as exc:
            errors[url] = str(exc)
        except Exception as exc:  # a bug or an unexpected network error must not stop the run
            logger.exception("Unexpected error fetching a vehicle photo")
            errors[url] = type(exc).__name__
        else:
            fetched[url] = (data, extension, hashlib.sha256(data).hexdigest())
            recorder.count("images_downloaded")
    known = {
        row["content_hash"]: row
        for row in VehicleImage.objects.filter(
            vehicle__dealership=dealership, content_hash__in={h for _, _, h in fetched.values()}
        ).values("content_hash", "image_id", "external_url")
    }
    done_hashes = []
    for w in chunk:
        failed = False
        with transaction.atomic():
            rows = gallery.get(w.vehicle_id, [])
            by_url = {row.source_url: row for row in rows if row.source_url}
            keep, create = [], []
            for position, url in enumerate(w.urls):
                if url in by_url:
                    keep.append((by_url[url], position))
                    recorder.count("images_reused")
                    continue
                if url in errors or url not in fetched:
                    failed = True
                    recorder.count("images_failed")
                    recorder.add_failure("image", f"{w.stock_number} {url}"[:200], errors.get(url, _("not fetched")))
                    continue
                data, extension, content_hash = fetched[url]
                stored = known.get(content_hash)
                if stored is None:
                    title = _("%(title)s photo %(number)s") % {
                        "title": titles.get(w.vehicle_id, ""),
                        "number": position + 1,
                    }
                    stored = known[content_hash] = store.save(data, extension, content_hash, title)
                else:
                    recorder.count("images_reused")
                create.append(
                    VehicleImage(
                        vehicle_id=w.vehicle_id,
                        image_id=stored["image_id"],
                        external_url=stored["external_url"],
                        source_url=url,
                        content_hash=content_hash,
                        alt_text=titles.get(w.vehicle_id, "")[:255],
                        sort_order=position,
                    )
                )
            wanted = set(w.urls)
            pruned = [row for row in rows if row.source_url and row.source_url not in wanted]
            editor_rows = [row for row in rows if not row.source_url]
            if pruned:
                VehicleImage.objects.filter(pk__in=[row.pk for row in pruned]).delete()
                _delete_orphans(dealership, {row.image_id for row in pruned if row.image_id})
            moved = []
            for row, position in keep:
                if row.sort_order != position:
                    row.sort_order = position
                    moved.append(row)
            for offset, row in enumerate(editor_rows):  # photos an editor added stay, after the feed's
                if row.sort_order != len(w.urls) + offset:
                    row.sort_order = len(w.urls) + offset
                    moved.append(row)
            if moved:
                VehicleImage.objects.bulk_update(moved, ["sort_order"])
            if create:
                VehicleImage.objects.bulk_create(create)
        done_hashes.append(Vehicle(pk=w.vehicle_id, easycars_images_hash=IMAGES_PENDING if failed else w.images_hash))
    Vehicle.objects.bulk_update(done_hashes, ["easycars_images_hash"])


def _delete_orphans(dealership, image_ids):
    """Delete Wagtail images this sync stored in the dealership's collection that no gallery uses."""
    if not image_ids:
        return
    from wagtail.images import get_image_model

    used = set(VehicleImage.objects.filter(image_id__in=image_ids).values_list("image_id", flat=True))
    orphans = get_image_model().objects.filter(pk__in=image_ids - used, collection__name=collection_name(dealership))
    for image in orphans:  # one by one so Wagtail's signal handlers remove the files and renditions
        image.delete()


def pending_image_work(dealership):
    """ImageWork for every EasyCars vehicle whose gallery is behind its URL list (from the database)."""
    work = []
    rows = Vehicle.objects.filter(dealership=dealership, data_source=DataSource.EASYCARS).values_list(
        "pk", "easycars_stock_number", "easycars_images_hash", "easycars_raw_data"
    )
    for pk, number, stored_hash, raw in rows.iterator(chunk_size=2000):
        urls = list((raw or {}).get("ImageURLs") or [])
        wanted = mapping.images_hash(urls)
        if wanted != stored_hash:
            work.append(ImageWork(pk, number or "", urls, wanted))
    return work


def sync_images(dealership, *, trigger=SyncLog.Trigger.SCHEDULE, user=None, deadline=None):
    """A photo-only run (after a ``sync_stock(..., images=False)``); shares the stock lease."""
    log, started = runs.begin_run(
        dealership, SyncLog.SyncType.STOCK, SyncLog.Direction.INBOUND, trigger=trigger, user=user
    )
    if not started:
        return log
    recorder = runs.RunRecorder(log)
    try:
        work = pending_image_work(dealership)
        recorder.log.response_summary = {"photo_run": True, "vehicles": len(work)}
        process_images(dealership, work, recorder, deadline=deadline)
    except Exception as exc:
        logger.exception("Photo run of dealership %s failed", dealership.pk)
        return recorder.fail(exc, message=_("The photo sync stopped because of an unexpected error."))
    return recorder.finish()
