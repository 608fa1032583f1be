"""Vehicle photos: download, verify, de-duplicate, store (Wagtail images or Cloudinary), order, prune.

Photos run after the stock rows have committed, so the listing is fresh before any download.
Work is per vehicle whose URL list changed (``easycars_images_hash``): a URL already in the
vehicle's gallery is never fetched again, and bytes already stored for the dealership (same
sha256) are never stored twice. Downloads run at most ``IMAGE_CONCURRENCY`` (capped at 5) at a
time on threads; the database is only touched from the calling thread. A photo that is missing,
slow, too big or not an image is recorded and skipped; the vehicle keeps the rest and its URL
list is marked pending so the next sync retries only what failed.

Only http(s) URLs are fetched, and only from public addresses: the host is resolved, every
address checked (private, loopback, link-local, reserved... are refused unless the host is in
``ALLOWED_PRIVATE_IMAGE_HOSTS``), and the request goes to the checked address itself, so a DNS
answer cannot change between the check and the connection. Redirects are followed by hand and
each hop is checked the same way.
"""

import hashlib
import io
import ipaddress
import logging
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx
from django.db import transaction
from django.utils.translation import gettext as _
from PIL import Image as PILImage

from ..conf import get_setting
from ..models import SyncLog, Vehicle, VehicleImage
from ..models.vehicles import DataSource
from . import mapping, runs

logger = logging.getLogger(__name__)

MAX_CONCURRENCY = 5
MAX_REDIRECTS = 5
MAX_PIXELS = 60_000_000
FORMATS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}
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


class ImageError(Exception):
    """One photo could not be used; the message says why (no secrets, no query strings)."""


# Fetching -----------------------------------------------------------------------------------


def _public_address(host, port):
    """The first address ``host`` resolves to, refusing non-public ones unless the host is allowed."""
    allowed = {h.lower() for h in get_setting("ALLOWED_PRIVATE_IMAGE_HOSTS") or []}
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise ImageError(_("the host %(host)s cannot be resolved") % {"host": host})
    # IPv4 first: hosts such as "localhost" often list ::1 first while the server listens on IPv4.
    addresses = sorted({info[4][0]: info[0] for info in infos}.items(), key=lambda a: a[1] != socket.AF_INET)
    addresses = [address for address, _family in addresses]
    if host.lower() not in allowed:
        for address in addresses:
            ip = ipaddress.ip_address(address.split("%")[0])
            mapped = getattr(ip, "ipv4_mapped", None)
            if not ip.is_global or ip.is_multicast or (mapped is not None and not mapped.is_global):
                raise ImageError(_("%(host)s resolves to a private or local address") % {"host": host})
    return addresses[0]


def _pinned_request(client, url, deadline, max_bytes):
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ImageError(_("only http and https URLs are fetched"))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ImageError(_("the URL has an invalid port"))
    address = _public_address(parts.hostname, port)
    host_for_url = f"[{address}]" if ":" in address else address
    pinned = urlunsplit((parts.scheme, f"{host_for_url}:{port}", parts.path or "/", parts.query, ""))
    headers = {"Host": parts.netloc.rsplit("@", 1)[-1], "Accept": "image/*"}
    extensions = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}
    with client.stream("GET", pinned, headers=headers, extensions=extensions) as response:
        if response.is_redirect:
            return None, urljoin(url, response.headers.get("Location", ""))
        if response.status_code != 200:
            raise ImageError(_("the server answered HTTP %(status)s") % {"status": response.status_code})
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise ImageError(_("the photo is larger than %(limit)s bytes") % {"limit": max_bytes})
        chunks, size = [], 0
        for chunk in response.iter_bytes(65536):
            size += len(chunk)
            if size > max_bytes:
                raise ImageError(_("the photo is larger than %(limit)s bytes") % {"limit": max_bytes})
            if time.monotonic() > deadline:
                raise ImageError(_("the download took too long"))
            chunks.append(chunk)
        return b"".join(chunks), None


def fetch_image(client, url):
    """The verified bytes and file extension of the photo at ``url``; raises :class:`ImageError`."""
    timeout = float(get_setting("IMAGE_TIMEOUT"))
    max_bytes = int(get_setting("IMAGE_MAX_BYTES"))
    deadline = time.monotonic() + timeout
    try:
        for _hop in range(MAX_REDIRECTS + 1):
            data, url = _pinned_request(client, url, deadline, max_bytes)
            if data is not None:
                return data, verify_image(data)
        raise ImageError(_("too many redirects"))
    except httpx.TimeoutException:
        raise ImageError(_("the download took too long"))
    except httpx.HTTPError as exc:
        raise ImageError(_("the download failed (%(error)s)") % {"error": type(exc).__name__})


def verify_image(data):
    """The extension for ``data`` if Pillow reads it as a photo of a web format, else ImageError."""
    try:
        with PILImage.open(io.BytesIO(data)) as image:
            fmt = image.format
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ImageError(_("the photo has too many pixels"))
            image.verify()
    except ImageError:
        raise
    except Exception:  # Pillow raises many kinds of errors for bad data
        raise ImageError(_("the file is not an image"))
    if fmt not in FORMATS:
        raise ImageError(_("unsupported image format %(format)s") % {"format": fmt})
    return FORMATS[fmt]


def _http_client():
    timeout = float(get_setting("IMAGE_TIMEOUT"))
    return httpx.Client(
        timeout=httpx.Timeout(timeout, connect=min(5.0, timeout)),
        follow_redirects=False,
        limits=httpx.Limits(max_connections=MAX_CONCURRENCY, max_keepalive_connections=MAX_CONCURRENCY),
        headers={"User-Agent": "wagtail-easycars image sync"},
    )


# Storing ------------------------------------------------------------------------------------


def _collection(dealership):
    from wagtail.models import Collection

    name = f"EasyCars: {dealership.name}"[:255]
    root = Collection.get_first_root_node()
    existing = root.get_children().filter(name=name).first()
    return existing or root.add_child(name=name)


class WagtailStore:
    def __init__(self, dealership):
        self.dealership = dealership
        self._collection = None

    def save(self, data, extension, content_hash, title):
        from django.core.files.images import ImageFile
        from wagtail.images import get_image_model

        if self._collection is None:
            self._collection = _collection(self.dealership)
        image = get_image_model()(
            title=title[:255],
            file=ImageFile(io.BytesIO(data), name=f"easycars-{content_hash[:24]}.{extension}"),
            collection=self._collection,
        )
        image._set_image_file_metadata()
        image.save()
        return {"image_id": image.pk, "external_url": ""}


class CloudinaryStore:
    def __init__(self, dealership):
        from .cloudinary import CloudinaryUploader

        self.uploader = CloudinaryUploader.from_settings()
        self.folder = f"easycars/{dealership.slug}"

    def save(self, data, extension, content_hash, title):
        return {"image_id": None, "external_url": self.uploader.upload(data, f"{self.folder}/{content_hash}")}


def _store_for(dealership):
    return CloudinaryStore(dealership) if get_setting("IMAGE_BACKEND") == "cloudinary" else WagtailStore(dealership)


# The image run ------------------------------------------------------------------------------


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
    store = _store_for(dealership)
    workers = max(1, min(MAX_CONCURRENCY, int(get_setting("IMAGE_CONCURRENCY"))))
    chunks = [work[start : start + VEHICLES_PER_CHUNK] for start in range(0, len(work), VEHICLES_PER_CHUNK)]
    with _http_client() as client, ThreadPoolExecutor(max_workers=workers) as pool:
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
    orphans = get_image_model().objects.filter(
        pk__in=image_ids - used, collection__name=f"EasyCars: {dealership.name}"[:255]
    )
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
