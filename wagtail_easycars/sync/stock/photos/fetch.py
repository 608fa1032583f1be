"""Downloading a vehicle photo safely: public addresses only, bounded size and time, a real image.

Only http(s) URLs are fetched, and only from public addresses: the host is resolved, every
address checked (private, loopback, link-local, reserved... are refused unless the host is in
``ALLOWED_PRIVATE_IMAGE_HOSTS``), and the request goes to the checked address itself, so a DNS
answer cannot change between the check and the connection. Redirects are followed by hand and
each hop is checked the same way.
"""

import io
import ipaddress
import socket
import time
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx
from django.utils.translation import gettext as _
from PIL import Image as PILImage

from ....conf import get_setting

MAX_CONCURRENCY = 5
MAX_REDIRECTS = 5
MAX_PIXELS = 60_000_000
FORMATS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}


class ImageError(Exception):
    """One photo could not be used; the message says why (no secrets, no query strings)."""


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


def http_client():
    timeout = float(get_setting("IMAGE_TIMEOUT"))
    return httpx.Client(
        timeout=httpx.Timeout(timeout, connect=min(5.0, timeout)),
        follow_redirects=False,
        limits=httpx.Limits(max_connections=MAX_CONCURRENCY, max_keepalive_connections=MAX_CONCURRENCY),
        headers={"User-Agent": "wagtail-easycars image sync"},
    )
