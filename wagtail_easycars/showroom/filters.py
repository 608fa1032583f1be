"""The showroom's filters, search and sorting, shared by the listing page and the API endpoint.

All state lives in the query string (``?make=Mazda&price_max=30000&sort=price_asc``) so a filtered
listing can be shared and bookmarked. Unknown or invalid values are ignored, never an error page.
"""

import django_filters
from django import forms
from django.db import connections
from django.db.models import BooleanField, F, Func, Q, TextField, Value
from django.db.models.functions.text import ConcatPair
from django.utils.translation import gettext_lazy as _
from django_filters.fields import ChoiceField

from ..models import Vehicle

#: PostgreSQL: the generated column with the upper-cased search document (migration 0005).
SEARCH_TEXT_COLUMN = "search_text"

#: Search terms beyond this many are ignored (each adds a clause to the query).
MAX_SEARCH_TERMS = 6

SEARCH_FIELDS = (
    "title",
    "make",
    "model",
    "badge",
    "series",
    "body",
    "exterior_colour",
    "fuel_type",
    "gear_type",
    "short_description",
    "description",
    "easycars_stock_number",
)

SORT_ORDERINGS = {
    "newest": (F("created_at").desc(), F("pk").desc()),
    "price_asc": (F("effective_price").asc(nulls_last=True), F("pk").asc()),
    "price_desc": (F("effective_price").desc(nulls_last=True), F("pk").desc()),
    "year_desc": (F("year").desc(nulls_last=True), F("pk").desc()),
    "year_asc": (F("year").asc(nulls_last=True), F("pk").asc()),
    "odometer_asc": (F("odometer").asc(nulls_last=True), F("pk").asc()),
}
SORT_CHOICES = [
    ("newest", _("Newest listings")),
    ("price_asc", _("Price: low to high")),
    ("price_desc", _("Price: high to low")),
    ("year_desc", _("Year: newest first")),
    ("year_asc", _("Year: oldest first")),
    ("odometer_asc", _("Odometer: lowest first")),
]
DEFAULT_SORT = "newest"


def search_document():
    """All searchable text of a vehicle as one expression, so each search word is one LIKE, not twelve.

    Built as a balanced tree of pairs: ``Concat`` nests one level per part, which overflows
    SQLite's parser stack with this many fields.
    """

    def join(parts):
        if len(parts) == 1:
            return parts[0]
        middle = len(parts) // 2
        return ConcatPair(join(parts[:middle]), join(parts[middle:]), output_field=TextField())

    parts = []
    for field in SEARCH_FIELDS:
        parts += [F(field), Value(" ")]
    return join(parts[:-1])


def is_year(term):
    return term.isdigit() and len(term) == 4


def like_pattern(text):
    """``%text%`` with LIKE's wildcards in ``text`` escaped (PostgreSQL's default escape is ``\\``)."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class SearchTextLike(Func):
    """``search_text LIKE pattern`` on the vehicle table's generated column (PostgreSQL only).

    The column is not a model field, so it is named in SQL, qualified by the query's alias for
    the table (the base table of a Vehicle queryset).
    """

    output_field = BooleanField()
    contains_aggregate = False

    def __init__(self, pattern):
        super().__init__()
        self.pattern = pattern

    def as_sql(self, compiler, connection, **extra_context):
        quote = compiler.quote_name_unless_alias
        table = compiler.query.get_initial_alias()
        return f"({quote(table)}.{quote(SEARCH_TEXT_COLUMN)} LIKE %s)", (self.pattern,)


class FacetChoiceField(ChoiceField):
    """A choice field that accepts any value: choices are what to offer, not what is allowed.

    A shared link to ``?make=Tesla`` keeps filtering even if the cached facets predate the first
    Tesla, or after the last one sold (then the result is simply empty).
    """

    def valid_value(self, value):
        return True


class FacetFilter(django_filters.ChoiceFilter):
    field_class = FacetChoiceField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("lookup_expr", "iexact")
        kwargs.setdefault("choices", [])
        super().__init__(*args, **kwargs)


def vehicle_facets(queryset):
    """The values shoppers can choose from, in one query: makes, models per make, bodies, fuels, transmissions."""
    makes, models_by_make, bodies, fuels, transmissions = set(), {}, set(), set(), set()
    rows = queryset.order_by().values_list("make", "model", "body", "fuel_type", "gear_type").distinct()
    for make, model, body, fuel, transmission in rows:
        if make:
            makes.add(make)
            if model:
                models_by_make.setdefault(make.casefold(), set()).add(model)
        bodies.add(body)
        fuels.add(fuel)
        transmissions.add(transmission)

    def choices(values):
        return [(v, v) for v in sorted((v for v in values if v), key=str.casefold)]

    return {
        "make": choices(makes),
        "models_by_make": {make: choices(models) for make, models in models_by_make.items()},
        "body": choices(bodies),
        "fuel": choices(fuels),
        "transmission": choices(transmissions),
    }


class VehicleFilterSet(django_filters.FilterSet):
    """Filters over a queryset from :func:`~wagtail_easycars.showroom.queries.listed_vehicles`.

    Pass ``facets`` (from :func:`vehicle_facets`) to offer the dealership's actual makes, models,
    bodies, fuels and transmissions as choices; the model choices follow the chosen make.
    """

    q = django_filters.CharFilter(label=_("Search"), method="filter_search", max_length=100)
    make = FacetFilter(field_name="make", label=_("Make"), empty_label=_("Any make"))
    model = FacetFilter(field_name="model", label=_("Model"), empty_label=_("Any model"))
    body = FacetFilter(field_name="body", label=_("Body type"), empty_label=_("Any body type"))
    condition = django_filters.MultipleChoiceFilter(
        choices=Vehicle.Condition.choices, label=_("Condition"), widget=forms.CheckboxSelectMultiple
    )
    fuel = FacetFilter(field_name="fuel_type", label=_("Fuel"), empty_label=_("Any fuel"))
    transmission = FacetFilter(field_name="gear_type", label=_("Transmission"), empty_label=_("Any transmission"))
    price_min = django_filters.NumberFilter(
        field_name="effective_price", lookup_expr="gte", label=_("Min price"), min_value=0, max_digits=12
    )
    price_max = django_filters.NumberFilter(
        field_name="effective_price", lookup_expr="lte", label=_("Max price"), min_value=0, max_digits=12
    )
    year_min = django_filters.NumberFilter(
        field_name="year", lookup_expr="gte", label=_("From year"), min_value=1900, max_value=2100
    )
    year_max = django_filters.NumberFilter(
        field_name="year", lookup_expr="lte", label=_("To year"), min_value=1900, max_value=2100
    )
    odometer_min = django_filters.NumberFilter(
        field_name="odometer", lookup_expr="gte", label=_("Min odometer (km)"), min_value=0
    )
    odometer_max = django_filters.NumberFilter(
        field_name="odometer", lookup_expr="lte", label=_("Max odometer (km)"), min_value=0
    )
    sort = django_filters.ChoiceFilter(label=_("Sort by"), choices=SORT_CHOICES, method="filter_sort", empty_label=None)

    class Meta:
        model = Vehicle
        fields = []

    def __init__(self, data=None, queryset=None, *, facets=None, **kwargs):
        if data is not None and facets is not None:
            data = self._canonical_choices(data, facets)
        super().__init__(data, queryset, **kwargs)
        self.facets = facets
        if facets is not None:
            offered = {
                "make": facets["make"],
                "model": self._model_choices(facets),
                "body": facets["body"],
                "fuel": facets["fuel"],
                "transmission": facets["transmission"],
            }
            for name, choices in offered.items():
                chosen = self.data.get(name) if self.data else None
                if chosen and chosen not in {value for value, _label in choices}:
                    choices = [*choices, (chosen, chosen)]  # keep showing what the URL asked for
                self.filters[name].extra["choices"] = choices

    @property
    def form(self):
        if not hasattr(self, "_form"):
            form = super().form
            numeric = {"inputmode": "numeric", "step": "any"}
            for name, placeholder in (
                ("price_min", _("Min")),
                ("price_max", _("Max")),
                ("year_min", _("From")),
                ("year_max", _("To")),
                ("odometer_min", _("Min")),
                ("odometer_max", _("Max")),
            ):
                form.fields[name].widget.attrs.update(numeric, placeholder=placeholder)
            form.fields["q"].widget.input_type = "search"
            form.fields["q"].widget.attrs.update(placeholder=_("Make, model, colour…"), autocomplete="off")
        return self._form

    @staticmethod
    def _canonical_choices(data, facets):
        """``?make=mazda`` selects "Mazda": shared links and hand-typed URLs need not match the case."""
        data = data.copy()
        all_models = [choice for choices in facets["models_by_make"].values() for choice in choices]
        for name, choices in (
            ("make", facets["make"]),
            ("model", all_models),
            ("body", facets["body"]),
            ("fuel", facets["fuel"]),
            ("transmission", facets["transmission"]),
        ):
            value = data.get(name)
            if value:
                canonical = {v.casefold(): v for v, _label in choices}
                data[name] = canonical.get(value.casefold(), value)
        return data

    def _model_choices(self, facets):
        make = (self.data.get("make") or "").casefold() if self.data else ""
        if make in facets["models_by_make"]:
            return facets["models_by_make"][make]
        merged = {value for choices in facets["models_by_make"].values() for value, _label in choices}
        return [(v, v) for v in sorted(merged, key=str.casefold)]

    def filter_search(self, queryset, name, value):
        terms = value.split()[:MAX_SEARCH_TERMS]
        if not terms:
            return queryset
        if connections[queryset.db].vendor == "postgresql":
            return self._search_postgresql(queryset, terms)
        queryset = queryset.alias(search_document=search_document())
        for term in terms:
            queryset = queryset.filter(self._or_year(Q(search_document__icontains=term), term))
        return queryset

    def _search_postgresql(self, queryset, terms):
        # The vehicle table's ``search_text`` column (migration 0005: generated and stored by
        # PostgreSQL, not a model field) holds the upper-cased search document; each word is its
        # own ``LIKE '%WORD%'`` so its trigram index applies (a GIN index cannot serve LIKE ALL).
        # upper() there runs under the database's collation, so non-ASCII letters match in any
        # case where the locale knows them.
        for term in terms:
            matches = Q(SearchTextLike(like_pattern(term.upper())))
            queryset = queryset.filter(self._or_year(matches, term))
        return queryset

    @staticmethod
    def _or_year(matches, term):
        return matches | Q(year=int(term)) if is_year(term) else matches

    def filter_sort(self, queryset, name, value):
        return queryset.order_by(*SORT_ORDERINGS.get(value, SORT_ORDERINGS[DEFAULT_SORT]))

    @property
    def is_filtered(self):
        """Whether any filter other than the sort order narrows the results."""
        if not self.is_bound:
            return False
        self.form.is_valid()  # populates cleaned_data with the valid fields only
        return any(value not in (None, "", []) for key, value in self.form.cleaned_data.items() if key != "sort")
