"""Small, stable JPEGs for the image URLs the sandbox hands out, cached in memory."""

import hashlib
import io
import threading
from collections import OrderedDict

from PIL import Image, ImageDraw

WIDTH, HEIGHT = 640, 480
_CACHE_SIZE = 512


class ImageStore:
    def __init__(self):
        self._cache = OrderedDict()
        self._lock = threading.Lock()

    def jpeg(self, path):
        """The JPEG for ``path``: the same bytes every time for the same path."""
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
