"""Downloading a vehicle photo safely: public addresses only, bounded size and time, a real image.

Only http(s) URLs are fetched, and only from public addresses: the host is resolved, every
address checked (private, loopback, link-local, reserved... are refused unless the host is in
``ALLOWED_PRIVATE_IMAGE_HOSTS``; so is an IPv6 address that carries such an IPv4 address, as
IPv4-mapped, 6to4 or NAT64 addresses do), and the request goes to the checked address itself,
so a DNS answer cannot change between the check and the connection. Redirects are followed by
hand and each hop is checked the same way. The bytes must decode in full as a photo of a web
format, so a truncated or corrupt file fails here, alone, rather than when it is stored.
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
#: The well-known NAT64 prefix (RFC 6052): the last 32 bits are the IPv4 address reached.
NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")
#: The local-use NAT64 prefix (RFC 8215): not globally reachable, whatever IPv4 address it carries.
NAT64_LOCAL_USE = ipaddress.ip_network("64:ff9b:1::/48")
#: Deprecated IPv4-compatible addresses (``::a.b.c.d``).
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


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
            if not is_public_address(ipaddress.ip_address(address.split("%")[0])):
                raise ImageError(_("%(host)s resolves to a private or local address") % {"host": host})
    return addresses[0]


def is_public_address(ip):
    """Whether ``ip``, and every IPv4 address it carries, is a public unicast address."""
    if not ip.is_global or ip.is_multicast:
        return False
    if ip.version == 6 and ip in NAT64_LOCAL_USE:
        return False
    return all(v4.is_global and not v4.is_multicast for v4 in embedded_ipv4_addresses(ip))


def embedded_ipv4_addresses(ip):
    """The IPv4 addresses an IPv6 address leads to: IPv4-mapped, 6to4, NAT64 or IPv4-compatible.

    Python's ``is_global`` judges such an address by its IPv6 prefix alone, so ``2002:7f00:1::``
    (6to4 of 127.0.0.1) or ``64:ff9b::7f00:1`` (NAT64 of 127.0.0.1) pass as public.
    """
    if ip.version != 6:
        return []
    found = [v4 for v4 in (ip.ipv4_mapped, ip.sixtofour) if v4 is not None]
    if ip in NAT64_WELL_KNOWN or (ip in IPV4_COMPATIBLE and int(ip) > 1):
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


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
    """The extension for ``data`` if it is a whole photo of a web format, else ImageError.

    Pillow's ``verify()`` accepts a JPEG cut short, which then fails when it is stored, so the
    photo is also decoded in full. The pixel count is checked first: a small file can declare a
    huge image (a decompression bomb) that would take gigabytes to decode.
    """
    try:
        with PILImage.open(io.BytesIO(data)) as image:
            fmt = image.format
            _check_pixels(image)
            image.verify()
    except ImageError:
        raise
    except PILImage.DecompressionBombError:
        raise ImageError(_("the photo has too many pixels"))
    except Exception:  # Pillow raises many kinds of errors for bad data
        raise ImageError(_("the file is not an image"))
    if fmt not in FORMATS:
        raise ImageError(_("unsupported image format %(format)s") % {"format": fmt})
    _decode_in_full(data)
    return FORMATS[fmt]


def _check_pixels(image):
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise ImageError(_("the photo has too many pixels"))


def _decode_in_full(data):
    """Decode every byte of the photo (on a fresh open: ``verify()`` leaves an image unusable).

    A site that turns on ``PIL.ImageFile.LOAD_TRUNCATED_IMAGES`` accepts cut photos: they then
    decode (padded) here and when stored alike.
    """
    try:
        with PILImage.open(io.BytesIO(data)) as image:
            _check_pixels(image)
            # A JPEG is decoded at 1/8 scale: every byte is still read, at 1/64 of the memory.
            image.draft(image.mode, (max(1, image.size[0] // 8), max(1, image.size[1] // 8)))
            image.load()
    except ImageError:
        raise
    except PILImage.DecompressionBombError:
        raise ImageError(_("the photo has too many pixels"))
    except Exception:
        raise ImageError(_("the photo is damaged: it cannot be decoded (truncated or corrupt)"))


def http_client():
    timeout = float(get_setting("IMAGE_TIMEOUT"))
    return httpx.Client(
        timeout=httpx.Timeout(timeout, connect=min(5.0, timeout)),
        follow_redirects=False,
        limits=httpx.Limits(max_connections=MAX_CONCURRENCY, max_keepalive_connections=MAX_CONCURRENCY),
        headers={"User-Agent": "wagtail-easycars image sync"},
    )
