"""New vehicles in bulk: a ``COPY`` on PostgreSQL, ``bulk_create`` elsewhere.

On PostgreSQL the JSON columns make Django's UNNEST-based ``bulk_create`` spend most of a first
import escaping JSON into array literals, so rows are built here and copied in.
"""

from django.db import DEFAULT_DB_ALIAS, connection, connections

from ...models import Vehicle
from ...models.vehicles import DataSource
from . import mapping

#: What each new vehicle takes from its own item; every other column is the same for the batch.
ITEM_COLUMNS = (
    *mapping.SYNC_FIELDS, "easycars_stock_number", "easycars_raw_data", "easycars_content_hash", "photos_state",
)  # fmt: skip
#: Column types whose values PostgreSQL takes as the mapping produces them (str, int, bool,
#: Decimal, date, None): Django's get_db_prep_save would return them unchanged, at a cost that
#: was a fifth of a 20,000-vehicle first import.
_AS_IS_ON_POSTGRESQL = frozenset(
    {"CharField", "TextField", "IntegerField", "PositiveIntegerField", "PositiveSmallIntegerField",
     "SmallIntegerField", "BigIntegerField", "BooleanField", "DecimalField", "DateField"}
)  # fmt: skip


def insert_vehicles(dealership, creates, now):
    """Insert a vehicle for each MappedStockItem in ``creates``; return their primary keys in order."""
    common = {
        "dealership": dealership, "data_source": DataSource.EASYCARS, "last_synced_from_easycars": now,
        "status_changed_at": now,
    }  # fmt: skip
    if connection.vendor != "postgresql" or len(creates) < 2:
        vehicles = Vehicle.objects.bulk_create([Vehicle(**item_values(m), **common) for m in creates])
        return [v.pk for v in vehicles]
    _copy_vehicles(Vehicle(**common), creates)
    ids = dict(
        Vehicle.objects.filter(
            dealership=dealership,
            data_source=DataSource.EASYCARS,
            easycars_stock_number__in=[m.stock_number for m in creates],
        ).values_list("easycars_stock_number", "pk")
    )
    return [ids[m.stock_number] for m in creates]


def item_values(mapped):
    """The ``ITEM_COLUMNS`` values of a new vehicle, from its MappedStockItem.

    A vehicle with photos starts with them pending: only the photo work marks them complete.
    """
    photos_state = Vehicle.PhotosState.PENDING if mapped.image_urls else Vehicle.PhotosState.COMPLETE
    return {
        **mapped.fields, "easycars_stock_number": mapped.stock_number, "easycars_raw_data": mapped.raw,
        "easycars_content_hash": mapped.content_hash, "photos_state": photos_state,
    }  # fmt: skip


def _copy_vehicles(template, creates):
    """COPY one row per mapped item: the template's values, with each item's own fields over them."""
    db = connections[DEFAULT_DB_ALIAS]
    fields = [f for f in Vehicle._meta.concrete_fields if not f.primary_key]
    base = [f.get_db_prep_save(f.pre_save(template, True), db) for f in fields]
    slots = _item_slots(fields)
    quote = db.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    with db.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {quote(Vehicle._meta.db_table)} ({columns}) FROM STDIN") as copy:
            for m in creates:
                values = item_values(m)
                row = base.copy()
                for index, name, prepare in slots:
                    value = values[name]
                    row[index] = value if prepare is None else prepare(value, db)
                copy.write_row(row)


def _item_slots(fields):
    """``(position in the row, column name, prepare or None)`` for each of ``ITEM_COLUMNS``."""
    position = {f.attname: i for i, f in enumerate(fields)}
    slots = []
    for name in ITEM_COLUMNS:
        column = fields[position[name]]
        prepare = None if column.get_internal_type() in _AS_IS_ON_POSTGRESQL else column.get_db_prep_save
        slots.append((position[name], name, prepare))
    return slots
