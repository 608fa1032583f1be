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
from typing import NamedTuple

from django.db import transaction
from django.utils.translation import gettext as _

from ....conf import get_setting
from ....models import SyncLog, Vehicle, VehicleImage
from ....models.vehicles import DataSource
from ... import runs
from .. import mapping
from .fetch import MAX_CONCURRENCY, ImageError, fetch_image, http_client
from .stores import delete_unused_images, store_for

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
                for future in prepared.downloads.values():
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


class PreparedChunk(NamedTuple):
    #: Vehicle id -> title.
    titles: dict
    #: Vehicle id -> its VehicleImage rows, in gallery order.
    galleries: dict
    #: URL -> the Future of its download.
    downloads: dict


def _prepare_chunk(chunk, client, pool):
    """Read the chunk's galleries and start downloading what they lack."""
    ids = [w.vehicle_id for w in chunk]
    titles = dict(Vehicle.objects.filter(pk__in=ids).values_list("pk", "title"))
    galleries = {}
    for row in VehicleImage.objects.filter(vehicle_id__in=ids).order_by("sort_order", "pk"):
        galleries.setdefault(row.vehicle_id, []).append(row)
    downloads = {}
    for w in chunk:
        have = {row.source_url for row in galleries.get(w.vehicle_id, []) if row.source_url}
        for url in w.urls:
            if url not in have and url not in downloads:
                downloads[url] = pool.submit(fetch_image, client, url)
    return PreparedChunk(titles, galleries, downloads)


def _store_chunk(dealership, chunk, prepared, recorder, store):
    """Bring each gallery of the chunk in line with its URLs, then mark the vehicles' images hashes.

    A vehicle with a photo that could not be fetched is marked pending, so the next sync retries it.
    """
    photos = _DownloadedPhotos(dealership, prepared.downloads, recorder, store)
    images_hashes = []
    for w in chunk:
        rows = prepared.galleries.get(w.vehicle_id, [])
        with transaction.atomic():
            complete = _update_gallery(dealership, w, rows, prepared.titles.get(w.vehicle_id, ""), photos, recorder)
        images_hashes.append(
            Vehicle(pk=w.vehicle_id, easycars_images_hash=w.images_hash if complete else IMAGES_PENDING)
        )
    Vehicle.objects.bulk_update(images_hashes, ["easycars_images_hash"])


class _DownloadedPhotos:
    """A chunk's finished downloads, stored once per content hash for the dealership."""

    def __init__(self, dealership, downloads, recorder, store):
        self.recorder = recorder
        self.store = store
        #: URL -> (bytes, extension, sha256) and URL -> why it could not be fetched.
        self.fetched, self.errors = {}, {}
        for url, future in downloads.items():
            try:
                data, extension = future.result()
            except ImageError as exc:
                self.errors[url] = str(exc)
            except Exception as exc:  # a bug or an unexpected network error must not stop the run
                logger.exception("Unexpected error fetching a vehicle photo")
                self.errors[url] = type(exc).__name__
            else:
                self.fetched[url] = (data, extension, hashlib.sha256(data).hexdigest())
                recorder.count("images_downloaded")
        #: sha256 -> ``{"image_id", "external_url"}`` of the photos the dealership already has.
        self.stored = {
            row["content_hash"]: row
            for row in VehicleImage.objects.filter(
                vehicle__dealership=dealership, content_hash__in={h for _, _, h in self.fetched.values()}
            ).values("content_hash", "image_id", "external_url")
        }

    def stored_photo(self, url, vehicle_title, number):
        """``(content hash, stored photo)`` for a fetched URL, storing its bytes unless already stored."""
        data, extension, content_hash = self.fetched[url]
        photo = self.stored.get(content_hash)
        if photo is None:
            title = _("%(title)s photo %(number)s") % {"title": vehicle_title, "number": number}
            photo = self.stored[content_hash] = self.store.save(data, extension, content_hash, title)
        else:
            self.recorder.count("images_reused")
        return content_hash, photo


def _update_gallery(dealership, work, rows, vehicle_title, photos, recorder):
    """Bring one vehicle's gallery (``rows``) in line with its URLs; False when a photo is missing."""
    kept, created, complete = _place_feed_photos(work, rows, vehicle_title, photos, recorder)
    _prune_removed_photos(dealership, rows, work.urls)
    _save_order(kept, [row for row in rows if not row.source_url], len(work.urls))
    if created:
        VehicleImage.objects.bulk_create(created)
    return complete


def _place_feed_photos(work, rows, vehicle_title, photos, recorder):
    """Go through the vehicle's URLs in feed order: ``(kept rows, new rows, whether none failed)``.

    A URL already in the gallery keeps its row (``kept`` pairs it with its new position); a fetched
    one gets a new VehicleImage; any other is recorded as a failed photo.
    """
    by_url = {row.source_url: row for row in rows if row.source_url}
    kept, created, complete = [], [], True
    for position, url in enumerate(work.urls):
        if url in by_url:
            kept.append((by_url[url], position))
            recorder.count("images_reused")
        elif url in photos.fetched:
            content_hash, photo = photos.stored_photo(url, vehicle_title, position + 1)
            created.append(
                VehicleImage(
                    vehicle_id=work.vehicle_id,
                    image_id=photo["image_id"],
                    external_url=photo["external_url"],
                    source_url=url,
                    content_hash=content_hash,
                    alt_text=vehicle_title[:255],
                    sort_order=position,
                )
            )
        else:
            complete = False
            recorder.count("images_failed")
            message = photos.errors.get(url, _("not fetched"))
            recorder.add_failure("image", f"{work.stock_number} {url}"[:200], message)
    return kept, created, complete


def _prune_removed_photos(dealership, rows, urls):
    """Delete the gallery rows of URLs no longer in the feed, and the images no gallery uses now."""
    wanted = set(urls)
    pruned = [row for row in rows if row.source_url and row.source_url not in wanted]
    if pruned:
        VehicleImage.objects.filter(pk__in=[row.pk for row in pruned]).delete()
        delete_unused_images(dealership, {row.image_id for row in pruned if row.image_id})


def _save_order(kept, editor_rows, feed_length):
    """Save the rows whose place moved: the feed's photos in feed order, then the ones editors added."""
    placed = [*kept, *((row, feed_length + offset) for offset, row in enumerate(editor_rows))]
    moved = []
    for row, position in placed:
        if row.sort_order != position:
            row.sort_order = position
            moved.append(row)
    if moved:
        VehicleImage.objects.bulk_update(moved, ["sort_order"])


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
