"""Vehicle galleries: bring each vehicle's photos in line with its EasyCars URL list.

Photo work is a state of each vehicle (``Vehicle.photos_state``), not a side effect of writing
its row: the stock row whose URL list changed is written "pending", and only this module marks
it "complete" (every photo of the list is in the gallery) or "incomplete" (some photo could not
be used), with the URL list it handled in ``easycars_images_hash``. A run stopped before or
during its photos (killed, failed, out of time) leaves its vehicles pending, and the next run
takes up every vehicle that is not complete, even when the feed is unchanged.

Photos run after the stock rows have committed, so the listing is fresh before any download. A
URL already in the vehicle's gallery is never fetched again, and bytes already stored for the
dealership (same sha256) are never stored twice. Downloads (:mod:`.fetch`) run at most
``IMAGE_CONCURRENCY`` (capped at 5) at a time on threads; the database is only touched from the
calling thread. A photo that cannot be fetched, decoded or stored fails alone: the vehicle keeps
the rest. A URL that failed waits out a back-off before it is fetched again (:mod:`.broken`);
while it waits, its vehicle stays incomplete and costs no download and no write.
"""

import hashlib
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import NamedTuple

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ....conf import get_setting
from ....models import SyncLog, Vehicle, VehicleImage
from ... import runs
from .. import mapping
from .broken import BrokenURLs, forget_stale_broken_urls, readable_url
from .fetch import MAX_CONCURRENCY, ImageError, fetch_image, http_client
from .stores import delete_unused_images, store_for

logger = logging.getLogger(__name__)

VEHICLES_PER_CHUNK = 25
COMPLETE = Vehicle.PhotosState.COMPLETE
INCOMPLETE = Vehicle.PhotosState.INCOMPLETE


@dataclass
class ImageWork:
    vehicle_id: int
    stock_number: str
    #: ``None``: read the URLs from the vehicle's raw data (a retry of an unchanged item).
    urls: list | None
    images_hash: str


class PhotoRun:
    """What one run's photo work shares: its store, the dealership's broken URLs, the counts."""

    def __init__(self, dealership, recorder):
        self.dealership = dealership
        self.recorder = recorder
        self.now = timezone.now()
        self.store = store_for(dealership)
        self.broken = BrokenURLs(dealership, self.now)
        #: Photos of known-broken URLs (waiting out their back-off, or failing again).
        self.unavailable = 0

    def photo_failed(self, work, url, message):
        """A photo failed for the first time: an image failure of the run (a warning)."""
        self.recorder.count("images_failed")
        self.recorder.add_failure("image", f"{work.stock_number} {readable_url(url)}"[:200], message)

    def note_unavailable(self):
        """Put the count of unavailable photos in the run's summary ("N photos unavailable")."""
        if self.unavailable:
            summary = self.recorder.log.response_summary
            summary = dict(summary) if isinstance(summary, dict) else {}
            summary["photos_unavailable"] = self.unavailable
            self.recorder.log.response_summary = summary


def process_images(dealership, work, recorder, *, deadline=None):
    """Bring the galleries of the vehicles in ``work`` (ImageWork items) in line with their URLs.

    Stops at ``deadline`` (a ``time.monotonic()`` value): the vehicles left keep their state
    (pending or incomplete), so the next run takes them up.
    """
    if not work:
        return
    _read_urls_of_retried_vehicles(work)
    run = PhotoRun(dealership, recorder)
    forget_stale_broken_urls(dealership, run.now)
    chunks = [work[start : start + VEHICLES_PER_CHUNK] for start in range(0, len(work), VEHICLES_PER_CHUNK)]
    try:
        _work_through(chunks, run, deadline)
    finally:
        run.note_unavailable()


def _work_through(chunks, run, deadline):
    """Store the chunks in turn, the next one downloading while this one is stored."""
    workers = max(1, min(MAX_CONCURRENCY, int(get_setting("IMAGE_CONCURRENCY"))))
    with http_client() as client, ThreadPoolExecutor(max_workers=workers) as pool:
        prepared = _prepare_chunk(chunks[0], client, pool, run.broken)
        for index, chunk in enumerate(chunks):
            if deadline is not None and time.monotonic() > deadline:
                for future in prepared.downloads.values():
                    future.cancel()
                left = sum(len(rest) for rest in chunks[index:])
                run.recorder.add_warning(
                    _("Photos of %(count)s vehicles were left for the next sync (time limit).") % {"count": left}
                )
                return
            following = None
            if index + 1 < len(chunks):
                following = _prepare_chunk(chunks[index + 1], client, pool, run.broken)
            _store_chunk(chunk, prepared, run)
            prepared = following
            run.recorder.flush()


def _read_urls_of_retried_vehicles(work):
    """Fill in the URLs of the vehicles retried from an earlier run, from their raw data."""
    pending_ids = [w.vehicle_id for w in work if w.urls is None]
    if not pending_ids:
        return
    stored = dict(Vehicle.objects.filter(pk__in=pending_ids).values_list("pk", "easycars_raw_data"))
    for w in work:
        if w.urls is None:
            w.urls = list((stored.get(w.vehicle_id) or {}).get("ImageURLs") or [])
            w.images_hash = mapping.images_hash(w.urls)


class PreparedChunk(NamedTuple):
    #: Vehicle id -> ``(title, easycars_images_hash, photos_state)`` as stored.
    vehicles: dict
    #: Vehicle id -> its VehicleImage rows, in gallery order.
    galleries: dict
    #: URL -> the Future of its download.
    downloads: dict


def _prepare_chunk(chunk, client, pool, broken):
    """Read the chunk's vehicles and galleries, and start downloading what they lack.

    A URL waiting out its back-off is not downloaded.
    """
    ids = [w.vehicle_id for w in chunk]
    vehicles = {
        pk: (title, images_hash, state)
        for pk, title, images_hash, state in Vehicle.objects.filter(pk__in=ids).values_list(
            "pk", "title", "easycars_images_hash", "photos_state"
        )
    }
    galleries = {}
    for row in VehicleImage.objects.filter(vehicle_id__in=ids).order_by("sort_order", "pk"):
        galleries.setdefault(row.vehicle_id, []).append(row)
    downloads = {}
    for w in chunk:
        have = {row.source_url for row in galleries.get(w.vehicle_id, []) if row.source_url}
        for url in w.urls:
            if url not in have and url not in downloads and not broken.waiting(url):
                downloads[url] = pool.submit(fetch_image, client, url)
    return PreparedChunk(vehicles, galleries, downloads)


def _store_chunk(chunk, prepared, run):
    """Bring each gallery of the chunk in line with its URLs, then record each vehicle's photo state.

    Only the vehicles whose state or handled URL list changed are written: a vehicle whose only
    missing photos are known to be broken stays as it is.
    """
    photos = _DownloadedPhotos(run, prepared.downloads)
    changed = []
    for w in chunk:
        stored = prepared.vehicles.get(w.vehicle_id)
        if stored is None:  # deleted meanwhile by an editor
            continue
        title, stored_hash, stored_state = stored
        rows = prepared.galleries.get(w.vehicle_id, [])
        with transaction.atomic():
            complete = _update_gallery(run, w, rows, title, photos)
        state = COMPLETE if complete else INCOMPLETE
        if (stored_hash, stored_state) != (w.images_hash, state):
            changed.append(Vehicle(pk=w.vehicle_id, easycars_images_hash=w.images_hash, photos_state=state))
    if changed:
        Vehicle.objects.bulk_update(changed, ["easycars_images_hash", "photos_state"])
    run.broken.save()


class _DownloadedPhotos:
    """A chunk's finished downloads, stored once per content hash for the dealership."""

    def __init__(self, run, downloads):
        self.run = run
        #: URL -> (bytes, extension, sha256) and URL -> why it could not be fetched.
        self.fetched, self.errors = {}, {}
        #: sha256 -> why it could not be stored.
        self.store_errors = {}
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
                run.recorder.count("images_downloaded")
                run.broken.fetched(url)
        for url, message in self.errors.items():
            run.broken.failed(url, message)
        #: sha256 -> ``{"image_id", "external_url"}`` of the photos the dealership already has.
        self.stored = {
            row["content_hash"]: row
            for row in VehicleImage.objects.filter(
                vehicle__dealership=run.dealership, content_hash__in={h for _, _, h in self.fetched.values()}
            ).values("content_hash", "image_id", "external_url")
        }

    def stored_photo(self, url, vehicle_title, number):
        """``(content hash, stored photo)`` for a fetched URL, storing its bytes unless already stored.

        Raises ImageError when the store refuses or fails: the photo fails alone.
        """
        data, extension, content_hash = self.fetched[url]
        photo = self.stored.get(content_hash)
        if photo is not None:
            self.run.recorder.count("images_reused")
            return content_hash, photo
        if content_hash in self.store_errors:
            raise ImageError(self.store_errors[content_hash])
        title = _("%(title)s photo %(number)s") % {"title": vehicle_title, "number": number}
        try:
            with transaction.atomic():  # a failed store leaves the vehicle's transaction usable
                photo = self.run.store.save(data, extension, content_hash, title)
        except Exception as exc:  # Wagtail, the storage or Cloudinary: one photo must not stop the run
            self.store_errors[content_hash] = _store_error_message(exc)
            raise ImageError(self.store_errors[content_hash]) from None
        self.stored[content_hash] = photo
        return content_hash, photo


def _store_error_message(exc):
    """Why a photo could not be stored, without what an exception's text might quote."""
    if isinstance(exc, ImageError):
        return str(exc)
    logger.exception("Unexpected error storing a vehicle photo")
    return _("the photo could not be stored (%(error)s)") % {"error": type(exc).__name__}


def _update_gallery(run, work, rows, vehicle_title, photos):
    """Bring one vehicle's gallery (``rows``) in line with its URLs; False when a photo is missing."""
    kept, created, complete = _place_feed_photos(run, work, rows, vehicle_title, photos)
    _prune_removed_photos(run.dealership, rows, work.urls)
    _save_order(kept, [row for row in rows if not row.source_url], len(work.urls))
    if created:
        VehicleImage.objects.bulk_create(created)
    return complete


def _place_feed_photos(run, work, rows, vehicle_title, photos):
    """Go through the vehicle's URLs in feed order: ``(kept rows, new rows, whether none is missing)``.

    A URL already in the gallery keeps its row (``kept`` pairs it with its new position); a fetched
    one gets a new VehicleImage once stored; any other is missing: a failure the first time its
    URL fails, an unavailable photo once the URL is known to be broken.
    """
    by_url = {row.source_url: row for row in rows if row.source_url}
    kept, created, complete = [], [], True
    for position, url in enumerate(work.urls):
        if url in by_url:
            kept.append((by_url[url], position))
            run.recorder.count("images_reused")
            continue
        if url in photos.fetched:
            try:
                content_hash, photo = photos.stored_photo(url, vehicle_title, position + 1)
            except ImageError as exc:
                complete = False
                run.photo_failed(work, url, str(exc))
                continue
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
            continue
        complete = False
        if url in photos.errors and not run.broken.was_known(url):
            run.photo_failed(work, url, photos.errors[url])
        else:
            run.unavailable += 1
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
    """ImageWork for every listed vehicle whose photos are not complete (one indexed query)."""
    rows = (
        Vehicle.objects.filter(dealership=dealership, photos_state__in=Vehicle.PHOTOS_TO_DO)
        .exclude(status=Vehicle.Status.UNLISTED)
        .order_by("pk")
        .values_list("pk", "easycars_stock_number", "easycars_raw_data")
    )
    work = []
    for pk, number, raw in rows.iterator(chunk_size=2000):
        urls = list((raw or {}).get("ImageURLs") or [])
        work.append(ImageWork(pk, number or "", urls, mapping.images_hash(urls)))
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
