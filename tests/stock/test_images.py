import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from django.utils import timezone
from wagtail.images import get_image_model

from wagtail_easycars.models import BrokenPhotoURL, SyncLog, Vehicle, VehicleImage
from wagtail_easycars.sync.stock.photos import fetch
from wagtail_easycars.sync.stock.sync import sync_stock

from ..factories import CredentialFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def dealership(sandbox_settings, sandbox):
    sandbox.control.reset(stock=4, seed=3, yards=1, accounts=1)
    return CredentialFactory().dealership


def gallery(vehicle):
    rows = VehicleImage.objects.filter(vehicle=vehicle).order_by("sort_order")
    return list(rows.values_list("source_url", flat=True))


def with_images(sandbox, count=3):
    """The first sandbox item, given ``count`` fresh images."""
    number = sandbox.control.stock()[0]["StockNumber"]
    sandbox.control.set_images(number, count=count, variant="t")
    return number, sandbox.control.stock_item(number)["ImageURLs"].split(",")


def test_photos_are_stored_as_wagtail_images_in_feed_order(dealership, sandbox):
    number, urls = with_images(sandbox)
    log = sync_stock(dealership)
    car = Vehicle.objects.get(easycars_stock_number=number)
    assert gallery(car) == urls
    assert all(row.image_id for row in VehicleImage.objects.filter(vehicle=car))
    assert log.images_downloaded >= 3
    assert car.easycars_images_hash
    assert car.photos_state == Vehicle.PhotosState.COMPLETE


def test_unchanged_url_list_costs_no_download(dealership, sandbox):
    with_images(sandbox)
    sync_stock(dealership)
    sandbox.control.clear_requests()
    log = sync_stock(dealership)
    assert sandbox.control.requests("images") == []
    assert log.images_downloaded == 0


def test_removed_photos_are_pruned_and_new_order_kept(dealership, sandbox):
    number, urls = with_images(sandbox, count=4)
    sync_stock(dealership)
    images_before = get_image_model().objects.count()
    new_order = [urls[2], urls[0]]
    sandbox.control.set_images(number, urls=new_order)
    sandbox.control.clear_requests()
    log = sync_stock(dealership)
    car = Vehicle.objects.get(easycars_stock_number=number)
    assert gallery(car) == new_order
    assert sandbox.control.requests("images") == []  # both photos were already stored
    assert log.images_reused == 2
    assert get_image_model().objects.count() == images_before - 2


def test_same_photo_is_stored_once(dealership, sandbox):
    numbers = [item["StockNumber"] for item in sandbox.control.stock()[:2]]
    shared = sandbox.control.stock_item(numbers[0])["ImageURLs"].split(",")[0]
    for number in numbers:
        sandbox.control.set_images(number, urls=[shared])
    for item in sandbox.control.stock()[2:]:
        sandbox.control.set_images(item["StockNumber"], urls=[])
    sync_stock(dealership)
    rows = VehicleImage.objects.filter(source_url=shared)
    assert rows.count() == 2
    assert len({row.image_id for row in rows}) == 1
    assert get_image_model().objects.count() == 1


@pytest.mark.parametrize(
    ("kind", "params", "reason"),
    [
        ("404", {}, "404"),
        ("not_image", {}, "not an image"),
        ("oversize", {"bytes": 3 * 1024 * 1024}, "larger than"),
        ("slow", {"ms": 3000}, "too long"),
    ],
)
def test_a_bad_photo_is_recorded_and_the_rest_are_kept(dealership, sandbox, settings, kind, params, reason):
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "IMAGE_MAX_BYTES": 2 * 1024 * 1024, "IMAGE_TIMEOUT": 1}
    number, urls = with_images(sandbox)
    sandbox.control.add_image_fault(urls[1], kind, **params)
    log = sync_stock(dealership)
    car = Vehicle.objects.get(easycars_stock_number=number)
    assert gallery(car) == [urls[0], urls[2]]
    assert log.status == SyncLog.Status.WARNING
    assert log.images_failed == 1
    failure = next(f for f in log.item_failures if f["kind"] == "image")
    assert reason in failure["message"]
    assert car.photos_state == Vehicle.PhotosState.INCOMPLETE
    # Once its back-off has passed, the next sync retries only the failed photo, and completes
    # the gallery now that it is back.
    sandbox.control.clear_image_faults()
    BrokenPhotoURL.objects.update(retry_after=timezone.now())
    sandbox.control.clear_requests()
    log = sync_stock(dealership)
    assert [r["path"] for r in sandbox.control.requests("images")] == ["/" + urls[1].split("/", 3)[3]]
    assert gallery(Vehicle.objects.get(pk=car.pk)) == urls
    assert Vehicle.objects.get(pk=car.pk).photos_state == Vehicle.PhotosState.COMPLETE
    assert not BrokenPhotoURL.objects.exists()


def test_private_addresses_are_refused_unless_allowed(dealership, sandbox, settings):
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "ALLOWED_PRIVATE_IMAGE_HOSTS": []}
    number, _ = with_images(sandbox)
    sandbox.control.clear_requests()
    log = sync_stock(dealership)
    assert sandbox.control.requests("images") == []
    assert not VehicleImage.objects.exists()
    assert log.images_failed >= 3
    assert all("private or local" in f["message"] for f in log.item_failures if f["kind"] == "image")


def test_redirect_to_a_private_address_is_refused(monkeypatch, settings):
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "ALLOWED_PRIVATE_IMAGE_HOSTS": []}
    addresses = {"cdn.example.com": "93.184.216.34", "intranet.example.com": "10.0.0.7"}

    def fake_getaddrinfo(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (addresses[host], port))]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    seen = []

    def handler(request):
        seen.append((str(request.url), request.headers["Host"]))
        return httpx.Response(302, headers={"Location": "http://intranet.example.com/secret.jpg"})

    client = httpx.Client(transport=httpx.MockTransport(handler))
    with pytest.raises(fetch.ImageError, match="private or local"):
        fetch.fetch_image(client, "http://cdn.example.com/car.jpg")
    # The request went to the checked address, with the original host name.
    assert seen == [("http://93.184.216.34/car.jpg", "cdn.example.com")]


def resolving(monkeypatch, host, address):
    """Make ``host`` resolve to ``address`` (IPv4 or IPv6)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sockaddr = (address, 0, 0, 0) if family == socket.AF_INET6 else (address, 0)

    def fake_getaddrinfo(name, port, *args, **kwargs):
        assert name == host
        return [(family, socket.SOCK_STREAM, 6, "", sockaddr)]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)


def recording_client(seen):
    """An httpx client that records each request's URL and answers with a small JPEG."""
    from wagtail_easycars.sandbox.images import render

    def handler(request):
        seen.append(str(request.url))
        return httpx.Response(200, content=render("/ssrf/1.jpg"), headers={"Content-Type": "image/jpeg"})

    return httpx.Client(transport=httpx.MockTransport(handler))


@pytest.mark.parametrize(
    "address",
    [
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "2002:a00:1::",  # 6to4 of 10.0.0.1
        "64:ff9b::7f00:1",  # NAT64 (well-known prefix) of 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254, the cloud metadata address
        "64:ff9b:1::7f00:1",  # the local-use NAT64 prefix
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::127.0.0.1",  # IPv4-compatible
    ],
)
def test_ipv6_address_carrying_a_private_ipv4_address_is_refused(address, monkeypatch, settings):
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "ALLOWED_PRIVATE_IMAGE_HOSTS": []}
    resolving(monkeypatch, "cdn.example.com", address)
    seen = []
    with pytest.raises(fetch.ImageError, match="private or local"):
        fetch.fetch_image(recording_client(seen), "http://cdn.example.com/car.jpg")
    assert seen == []


@pytest.mark.parametrize("address", ["2002:808:808::", "64:ff9b::808:808"])
def test_public_6to4_and_nat64_addresses_are_still_allowed(address, monkeypatch, settings):
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "ALLOWED_PRIVATE_IMAGE_HOSTS": []}
    resolving(monkeypatch, "cdn.example.com", address)
    seen = []
    data, extension = fetch.fetch_image(recording_client(seen), "http://cdn.example.com/car.jpg")
    assert extension == "jpg"
    assert seen == [f"http://[{address}]/car.jpg"]


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/a.jpg", "http://169.254.169.254/latest"])
def test_only_public_http_urls_are_fetched(url, settings):
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "ALLOWED_PRIVATE_IMAGE_HOSTS": []}
    with pytest.raises(fetch.ImageError):
        fetch.fetch_image(httpx.Client(), url)


class CloudinaryStandIn(BaseHTTPRequestHandler):
    uploads = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.uploads.append((self.path, body))
        public_id = body.split(b'name="public_id"\r\n\r\n')[1].split(b"\r\n")[0].decode()
        answer = {"public_id": public_id, "secure_url": f"https://res.cloudinary.test/demo/{public_id}.jpg"}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def cloudinary_server():
    pytest.importorskip("cloudinary")
    CloudinaryStandIn.uploads = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), CloudinaryStandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_photos_go_to_cloudinary_when_configured(dealership, sandbox, settings, cloudinary_server):
    port = cloudinary_server.server_address[1]
    settings.WAGTAIL_EASYCARS = {
        **settings.WAGTAIL_EASYCARS,
        "IMAGE_BACKEND": "cloudinary",
        "CLOUDINARY_URL": f"cloudinary://key123:secret456@demo?upload_prefix=http://127.0.0.1:{port}",
    }
    number, urls = with_images(sandbox, count=2)
    for item in sandbox.control.stock()[1:]:
        sandbox.control.set_images(item["StockNumber"], urls=[])
    log = sync_stock(dealership)
    assert log.images_downloaded == 2
    rows = list(VehicleImage.objects.order_by("sort_order"))
    assert [row.image_id for row in rows] == [None, None]
    assert all(row.external_url.startswith("https://res.cloudinary.test/demo/easycars/") for row in rows)
    assert [path for path, _ in CloudinaryStandIn.uploads] == ["/v1_1/demo/image/upload"] * 2
    assert not get_image_model().objects.exists()
    assert "secret456" not in str(log.item_failures) + str(log.warnings)
