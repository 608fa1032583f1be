"""Where downloaded photos are kept: Wagtail images (the default) or Cloudinary.

A store's ``save(data, extension, content_hash, title)`` returns ``{"image_id", "external_url"}``
for the VehicleImage row. Wagtail images go to one collection per dealership ("EasyCars: <name>"),
and leave it once no gallery uses them (:func:`delete_unused_images`).

Cloudinary is an optional dependency, configured by ``WAGTAIL_EASYCARS["CLOUDINARY_URL"]``
(``cloudinary://KEY:SECRET@CLOUD``; query parameters such as ``upload_prefix`` become SDK options).
Credentials are passed per call, never put in the SDK's global config, so two sites in one process
cannot mix them up. Uploads are idempotent: the public id is the content hash and existing files
are not overwritten.
"""

import io
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

from ....conf import get_setting
from ....models import VehicleImage
from .fetch import ImageError

UPLOAD_TIMEOUT = 60


def collection_name(dealership):
    """The Wagtail collection holding a dealership's synced photos."""
    return f"EasyCars: {dealership.name}"[:255]


def _collection(dealership):
    from wagtail.models import Collection

    name = collection_name(dealership)
    root = Collection.get_first_root_node()
    existing = root.get_children().filter(name=name).first()
    return existing or root.add_child(name=name)


def delete_unused_images(dealership, image_ids):
    """Delete Wagtail images this sync stored in the dealership's collection that no gallery uses."""
    if not image_ids:
        return
    from wagtail.images import get_image_model

    used = set(VehicleImage.objects.filter(image_id__in=image_ids).values_list("image_id", flat=True))
    unused = get_image_model().objects.filter(pk__in=image_ids - used, collection__name=collection_name(dealership))
    for image in unused:  # one by one so Wagtail's signal handlers remove the files and renditions
        image.delete()


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
        self.uploader = CloudinaryUploader.from_settings()
        self.folder = f"easycars/{dealership.slug}"

    def save(self, data, extension, content_hash, title):
        return {"image_id": None, "external_url": self.uploader.upload(data, f"{self.folder}/{content_hash}")}


def store_for(dealership):
    return CloudinaryStore(dealership) if get_setting("IMAGE_BACKEND") == "cloudinary" else WagtailStore(dealership)


class CloudinaryUploader:
    def __init__(self, *, cloud_name, api_key, api_secret, timeout=UPLOAD_TIMEOUT, **options):
        try:
            import cloudinary.uploader  # noqa: F401
        except ImportError:
            raise ImproperlyConfigured(
                'IMAGE_BACKEND is "cloudinary" but the cloudinary package is missing: '
                "pip install wagtail-easycars[cloudinary]"
            )
        self.config = {"cloud_name": cloud_name, "api_key": api_key, "api_secret": api_secret, **options}
        self.timeout = timeout

    def __repr__(self):
        return f"<CloudinaryUploader cloud={self.config['cloud_name']}>"

    @classmethod
    def from_url(cls, url):
        parts = urlsplit(url or "")
        if parts.scheme != "cloudinary" or not parts.hostname or not parts.username or not parts.password:
            raise ImproperlyConfigured("CLOUDINARY_URL must look like cloudinary://API_KEY:API_SECRET@CLOUD_NAME")
        options = dict(parse_qsl(parts.query))
        return cls(
            cloud_name=parts.hostname,
            api_key=unquote(parts.username),
            api_secret=unquote(parts.password),
            **options,
        )

    @classmethod
    def from_settings(cls):
        return cls.from_url(get_setting("CLOUDINARY_URL"))

    def upload(self, data, public_id):
        """Upload ``data`` as ``public_id`` (kept if it exists) and return its https URL."""
        import cloudinary.exceptions
        import cloudinary.uploader

        try:
            result = cloudinary.uploader.upload(
                data,
                public_id=public_id,
                overwrite=False,
                unique_filename=False,
                resource_type="image",
                timeout=self.timeout,
                **self.config,
            )
        except cloudinary.exceptions.Error as exc:
            # SDK messages may quote the request; keep only the kind of failure.
            raise ImageError(f"Cloudinary refused the upload ({type(exc).__name__})")
        except Exception as exc:  # urllib3 network errors
            raise ImageError(f"Cloudinary could not be reached ({type(exc).__name__})")
        url = result.get("secure_url") or result.get("url")
        if not url:
            raise ImageError("Cloudinary answered without a URL")
        return url
