"""Filtering of the sync log list with the history screen's own filter set."""

from django.utils.translation import gettext as _
from rest_framework.filters import BaseFilterBackend

from ..history import SyncLogFilterSet
from .errors import ApiError
from .naming import read, with_camel_aliases

#: API parameter -> SyncLogFilterSet field.
PARAMETERS = {
    "sync_type": "sync_type",
    "sync_direction": "direction",
    "status": "status",
    "trigger": "trigger",
    "started_from": "started_at_from",
    "started_to": "started_at_to",
}
#: SyncLogFilterSet error key -> API parameter.
ERROR_NAMES = {"started_at": "started_from", **{field: param for param, field in PARAMETERS.items()}}


class SyncLogFilterBackend(BaseFilterBackend):
    """``?sync_type=&sync_direction=&status=&trigger=&started_from=&started_to=`` (dates inclusive).

    An unknown value is a 400 ``invalid_filter`` naming the parameter in ``errors``.
    """

    def filter_queryset(self, request, queryset, view):
        params = request.query_params
        data = {field: read(params, param) for param, field in PARAMETERS.items() if read(params, param)}
        filterset = SyncLogFilterSet(data, queryset, request=request)
        if not filterset.is_valid():
            errors = {
                ERROR_NAMES.get(name, name): [str(message) for message in messages]
                for name, messages in filterset.errors.items()
            }
            raise ApiError(_("A filter value is not valid."), "invalid_filter", errors=with_camel_aliases(errors))
        return filterset.qs
