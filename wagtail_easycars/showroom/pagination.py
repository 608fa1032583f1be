"""A paginator for large filtered listings: one scan to count and pick the page, then the page's rows.

Django's ``Paginator`` runs ``COUNT(*)`` and then ``ORDER BY ... OFFSET ... LIMIT`` over full rows:
two scans of the same filtered rows (each evaluating a free-text search on every row) and a sort
of wide rows (costly on deep pages, where the database must sort nearly everything). Here the
first query sorts only ids and counts with ``COUNT(*) OVER ()``; the second fetches the page's
full rows by id. Two queries whatever the page; an empty page (past the end) falls back to a
count to find the last page, as ``Paginator.get_page`` does.
"""

from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db.models import Count, Window


class SingleScanPaginator(Paginator):
    def get_page(self, number):
        try:
            number = self.validate_number_format(number)
        except PageNotAnInteger:
            number = 1
        bottom = (number - 1) * self.per_page
        window = (
            self.object_list.prefetch_related(None)
            .annotate(_total_count=Window(Count("pk")))
            .values_list("pk", "_total_count")[bottom : bottom + self.per_page]
        )
        rows = list(window)
        if rows:
            self.__dict__["count"] = rows[0][1]
            position = {pk: index for index, (pk, _total) in enumerate(rows)}
            objects = sorted(self.object_list.filter(pk__in=position), key=lambda obj: position[obj.pk])
            return self._get_page(objects, number, self)
        try:
            return self.page(number)
        except EmptyPage:
            return self.page(self.num_pages)

    def validate_number_format(self, number):
        try:
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger("That page number is not an integer")
        if number < 1:
            raise PageNotAnInteger("That page number is less than 1")
        return number
