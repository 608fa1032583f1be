"""A thin adapter over the ``cloudinary`` SDK (optional dependency) for vehicle photos.

Configured by ``WAGTAIL_EASYCARS["CLOUDINARY_URL"]`` (``cloudinary://KEY:SECRET@CLOUD``; query
parameters such as ``upload_prefix`` become SDK options). Credentials are passed per call, never
put in the SDK's global config, so two sites in one process cannot mix them up. Uploads are
idempotent: the public id is the content hash and existing files are not overwritten.
"""

from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

from ..conf import get_setting

UPLOAD_TIMEOUT = 60


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

        from .images import ImageError

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
