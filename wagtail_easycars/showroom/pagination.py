"""A paginator that counts the results in the page query itself.

Django's ``Paginator`` runs ``COUNT(*)`` and then the page query: two scans of the same filtered
rows. With a free-text search each scan evaluates the search on every row, so the showroom asks
for ``COUNT(*) OVER ()`` alongside the page instead (one scan). An empty page (past the end) falls
back to an ordinary count to find the last page, as ``Paginator.get_page`` does.
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
        rows = list(self.object_list.annotate(_total_count=Window(Count("pk")))[bottom : bottom + self.per_page])
        if rows:
            self.__dict__["count"] = rows[0]._total_count
            return self._get_page(rows, number, self)
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
