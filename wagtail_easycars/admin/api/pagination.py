"""Paging of the sync log list: ``?page=`` and ``?page_size=`` (default 20, at most 100)."""

from django.core.paginator import InvalidPage
from django.utils.translation import gettext as _
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from .errors import ApiError
from .naming import read, with_camel_aliases


class SyncLogPagination(PageNumberPagination):
    """Answers ``{"logs": [...], "pagination": {"current_page", "page_size", "total_records", "total_pages"}}``.

    Unlike DRF's own, a page or page size that is not a whole number is a 400 and a page past the
    end a 404, both ``invalid_page``; a page size out of range is brought within 1..100.
    """

    page_size = 20
    max_page_size = 100
    page_query_param = "page"
    page_size_query_param = "page_size"

    def get_page_size(self, request):
        requested = read(request.query_params, self.page_size_query_param)
        if requested is None:
            return self.page_size
        return min(self.max_page_size, max(1, self._whole_number(requested)))

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        page_size = self.get_page_size(request)
        number = self._whole_number(request.query_params.get(self.page_query_param, 1))
        paginator = self.django_paginator_class(queryset, page_size)
        try:
            self.page = paginator.page(number)
        except InvalidPage as exc:
            raise ApiError(_("There is no page %(page)s.") % {"page": number}, "invalid_page", 404) from exc
        return list(self.page)

    def get_paginated_response(self, data):
        paginator = self.page.paginator
        pagination = {
            "current_page": self.page.number,
            "page_size": paginator.per_page,
            "total_records": paginator.count,
            "total_pages": paginator.num_pages,
        }
        return Response({"logs": data, "pagination": with_camel_aliases(pagination)})

    @staticmethod
    def _whole_number(value):
        try:
            return int(value)
        except (TypeError, ValueError) as exc:
            raise ApiError(_("page and page_size must be whole numbers."), "invalid_page") from exc
