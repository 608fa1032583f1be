"""Small, stable JPEGs for the image URLs the sandbox hands out, cached in memory.

Besides the faults the server answers itself (404, slow, not an image, oversize), the store can
serve damaged photos in place of a path's JPEG: ``truncated`` (the JPEG cut short; Pillow's
``verify()`` still accepts it) and ``bomb`` (a complete PNG of tiny size declaring a huge image).
"""

import hashlib
import io
import struct
import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field

from PIL import Image, ImageDraw

WIDTH, HEIGHT = 640, 480
_CACHE_SIZE = 512
DAMAGE_KINDS = ("truncated", "bomb")
#: A bomb's default side: 20,000 x 20,000 pixels, over twice Pillow's decompression-bomb limit.
BOMB_SIDE = 20_000


@dataclass
class Damage:
    """A damaged photo served for ``path`` ("*": any), for ``count`` requests (``None``: until cleared)."""

    id: int
    path: str
    kind: str
    count: int | None
    params: dict = field(default_factory=dict)

    def matches(self, path):
        return self.path in ("*", path)


class ImageStore:
    def __init__(self):
        self._cache = OrderedDict()
        self._lock = threading.Lock()
        self._damages = []

    def damage(self, fault_id, path, kind, count=None, **params):
        """Serve a damaged photo (``kind`` in DAMAGE_KINDS) for ``path`` instead of its JPEG."""
        with self._lock:
            self._damages.append(Damage(fault_id, path, kind, count, params))

    def repair(self, fault_id=None):
        """Forget one damage (by its fault id), or all of them."""
        with self._lock:
            self._damages = [d for d in self._damages if fault_id is not None and str(d.id) != str(fault_id)]

    def _take_damage(self, path):
        with self._lock:
            damage = next((d for d in self._damages if d.matches(path)), None)
            if damage is not None and damage.count is not None:
                damage.count -= 1
                if damage.count <= 0:
                    self._damages.remove(damage)
            return damage

    def jpeg(self, path):
        """The JPEG for ``path``: the same bytes every time for the same path (unless damaged)."""
        damage = self._take_damage(path)
        if damage is not None:
            return damaged(path, damage.kind, damage.params)
        with self._lock:
            if path in self._cache:
                self._cache.move_to_end(path)
                return self._cache[path]
        data = render(path)
        with self._lock:
            self._cache[path] = data
            while len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        return data


def render(path, width=WIDTH, height=HEIGHT):
    digest = hashlib.sha256(path.encode()).digest()
    background = tuple(64 + b % 160 for b in digest[:3])
    accent = tuple(255 - c for c in background)
    image = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(image)
    draw.rectangle((width // 8, height // 3, width * 7 // 8, height * 2 // 3), fill=accent)
    label = "/".join(path.rstrip("/").split("/")[-2:])
    draw.text((width // 8 + 10, height // 3 + 10), f"EasyCars sandbox {label}", fill=background)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def oversize(path, size):
    """A valid JPEG padded with trailing bytes (decoders stop at the end marker) to ``size`` bytes."""
    data = render(path)
    return data + b"\0" * max(0, size - len(data))


def damaged(path, kind, params):
    """The bytes of a damaged photo: see :data:`DAMAGE_KINDS`."""
    if kind == "truncated":
        return truncated(path, float(params.get("fraction", 0.4)))
    if kind == "bomb":
        return bomb(int(params.get("width", BOMB_SIDE)), int(params.get("height", BOMB_SIDE)))
    raise ValueError(f"Unknown image damage {kind!r}")


def truncated(path, fraction=0.4):
    """The JPEG for ``path`` cut to ``fraction`` of its length: headers intact, scan data short."""
    data = render(path)
    return data[: max(1, int(len(data) * fraction))]


_bombs = {}


def bomb(width=BOMB_SIDE, height=BOMB_SIDE):
    """A complete, valid 1-bit PNG of ``width`` x ``height`` black pixels: a few kilobytes per 100 MP."""
    if (width, height) not in _bombs:
        _bombs[width, height] = _blank_png(width, height)
    return _bombs[width, height]


def _blank_png(width, height):
    row = b"\0" * (1 + (width + 7) // 8)  # filter byte "none", then the row's bits
    compressor = zlib.compressobj(9)
    rows_per_write = max(1, (1 << 20) // len(row))
    body = [compressor.compress(row * min(rows_per_write, height - done)) for done in range(0, height, rows_per_write)]
    body.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1 bit, grayscale
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", b"".join(body)) + _chunk(b"IEND", b"")


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
