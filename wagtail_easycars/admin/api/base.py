"""``AdminApiView``: what every admin API view shares, fixed here so REST_FRAMEWORK settings cannot change it."""

from django.http import Http404
from django.utils.functional import cached_property
from rest_framework.metadata import SimpleMetadata
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from ..access import resolve_dealership
from .authentication import AdminSessionAuthentication
from .errors import exception_handler
from .permissions import ScreenPermission


class AdminJSONRenderer(JSONRenderer):
    """DRF's JSON renderer with its default options, whatever the site's settings say."""

    ensure_ascii = False
    compact = True
    strict = True


class JSONOnlyNegotiation(DefaultContentNegotiation):
    """Always JSON: the endpoints have no other representation, whatever ``Accept`` asks for."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class AdminApiMixin:
    """Session login with CSRF, the screen's permission, JSON in (or a form) and JSON out.

    Subclasses set ``permission_policy`` and ``permission_required`` (``view_sync_status``,
    ``trigger_sync`` or ``manage_credentials``), as the matching screen does.
    """

    authentication_classes = [AdminSessionAuthentication]
    permission_classes = [ScreenPermission]
    renderer_classes = [AdminJSONRenderer]
    parser_classes = [JSONParser, FormParser, MultiPartParser]
    throttle_classes = []
    content_negotiation_class = JSONOnlyNegotiation
    metadata_class = SimpleMetadata
    versioning_class = None
    # Only generic views read these; a view that filters or pages sets its own.
    filter_backends = []
    pagination_class = None
    permission_policy = None
    permission_required = None

    def get_exception_handler(self):
        return exception_handler

    @cached_property
    def dealership(self):
        """The dealership the request is about (``?dealership=``, else the session's or the user's first).

        One where the user's role allows ``permission_required`` (``access.ACTIONS``): another of
        their dealerships is a 403, a dealership not theirs a 404.
        """
        dealership = resolve_dealership(self.request, self.permission_required)
        if dealership is None:
            raise Http404("You are not a member of any dealership.")
        return dealership

    @property
    def credential(self):
        """The dealership's stored credentials, or None."""
        return getattr(self.dealership, "easycars_credential", None)


class AdminApiView(AdminApiMixin, APIView):
    """An admin API endpoint."""
