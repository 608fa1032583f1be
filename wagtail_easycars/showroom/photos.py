"""Vehicle photos for templates: a Wagtail rendition, or a Cloudinary URL with the same size transformation.

A :class:`~wagtail_easycars.models.VehicleImage` holds either a Wagtail image (``image``) or, when the
site stores photos in Cloudinary, an ``external_url``. Both render to an ``<img>`` with width, height,
alt text and lazy loading, so templates never need to know which backend stored the photo.
"""

import logging
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.forms.utils import flatatt
from django.utils.safestring import mark_safe
from wagtail.images.models import SourceImageIOError

logger = logging.getLogger(__name__)

SPEC_RE = re.compile(r"^(?P<op>fill|max|min|width|height)-(?P<w>\d+)(?:x(?P<h>\d+))?")
CLOUDINARY_CROP = {"fill": "c_fill", "max": "c_limit", "min": "c_fill", "width": "c_scale", "height": "c_scale"}


@dataclass(frozen=True)
class PhotoSource:
    url: str
    width: int | None
    height: int | None


def _cloudinary_url(url, spec):
    """Insert a size transformation into a Cloudinary delivery URL; leave other URLs untouched."""
    match = SPEC_RE.match(spec)
    parts = urlsplit(url)
    if not match or not parts.hostname or not parts.hostname.endswith("cloudinary.com") or "/upload/" not in url:
        return url
    op, width, height = match["op"], match["w"], match["h"]
    steps = [CLOUDINARY_CROP[op]]
    if op == "height":
        steps.append(f"h_{width}")
    else:
        steps.append(f"w_{width}")
        if height:
            steps.append(f"h_{height}")
    steps += ["q_auto", "f_auto"]
    return url.replace("/upload/", "/upload/" + ",".join(steps) + "/", 1)


def _spec_size(spec):
    match = SPEC_RE.match(spec)
    if not match:
        return None, None
    width = int(match["w"])
    height = int(match["h"]) if match["h"] else None
    if match["op"] == "height":
        return None, width
    return width, height


def photo_source(photo, spec):
    """The URL and size of ``photo`` at rendition ``spec``, or None when it cannot be shown."""
    if photo.image_id:
        try:
            rendition = photo.image.get_rendition(spec)
        except (SourceImageIOError, OSError):
            # A missing or unreadable original must not break the page; the card shows no photo.
            logger.warning("Vehicle photo %s: original image file is missing or unreadable", photo.pk)
            return None
        return PhotoSource(rendition.url, rendition.width, rendition.height)
    if photo.external_url:
        width, height = _spec_size(spec)
        return PhotoSource(_cloudinary_url(photo.external_url, spec), width, height)
    return None


def photo_img(photo, spec, *, alt, loading="lazy", **attrs):
    """An ``<img>`` tag for ``photo`` at ``spec`` (empty string when the photo cannot be shown)."""
    source = photo_source(photo, spec)
    if source is None:
        return ""
    tag_attrs = {"src": source.url, "alt": alt, "loading": loading, "decoding": "async"}
    if source.width:
        tag_attrs["width"] = source.width
    if source.height:
        tag_attrs["height"] = source.height
    tag_attrs.update({key.replace("_", "-"): value for key, value in attrs.items() if value not in (None, "")})
    return mark_safe(f"<img{flatatt(tag_attrs)}>")  # noqa: S308 - flatatt escapes every value


def absolute_photo_url(photo, spec, request):
    source = photo_source(photo, spec)
    if source is None:
        return None
    return request.build_absolute_uri(source.url) if request is not None else source.url
