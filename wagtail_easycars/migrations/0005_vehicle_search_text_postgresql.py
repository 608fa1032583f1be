"""PostgreSQL only: a stored generated column with a vehicle's upper-cased search text, and a trigram index on it.

The column is not a model field: Django's model state does not change (``makemigrations`` stays
clean on every supported Wagtail version, SQLite is untouched) and Django never reads or writes it
(its inserts and updates name their columns). PostgreSQL computes it on every INSERT, UPDATE and
COPY, so the stock sync's bulk writes keep it current. ``showroom.filters`` searches it.

The expression must be IMMUTABLE: ``||`` and ``COALESCE`` (``CONCAT()`` is only STABLE), and the
fields in ``SEARCH_FIELDS`` order joined by single spaces, as ``search_document()`` builds them.
``upper()`` runs under the column's default collation (the database's), so letters outside ASCII
are upper-cased too where the locale knows them.
"""

import logging

from django.db import migrations

logger = logging.getLogger(__name__)

TABLE = "wagtail_easycars_vehicle"
COLUMN = "search_text"
INDEX = "wagtail_easycars_vehicle_search_text_trgm"

# Fixed here, not imported: a migration must not change when SEARCH_FIELDS does.
SEARCH_COLUMNS = (
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


def _expression(quote):
    parts = " || ' ' || ".join(f"coalesce({quote(column)}::text, '')" for column in SEARCH_COLUMNS)
    return f"upper({parts})"


def add_search_text(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    quote = connection.ops.quote_name
    schema_editor.execute(
        f"ALTER TABLE {quote(TABLE)} ADD COLUMN IF NOT EXISTS {quote(COLUMN)} text "
        f"GENERATED ALWAYS AS ({_expression(quote)}) STORED"
    )
    if not _trigram_available(schema_editor):
        logger.warning(
            "pg_trgm could not be created (insufficient privilege): the showroom search works without "
            "its index. A superuser can run CREATE EXTENSION pg_trgm and re-run this migration "
            "(migrate wagtail_easycars 0004, then migrate) to add it."
        )
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {quote(INDEX)} ON {quote(TABLE)} USING gin ({quote(COLUMN)} gin_trgm_ops)"
    )


def _trigram_available(schema_editor):
    """Create pg_trgm if it is missing; False if this role may not (then the index is skipped)."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        if cursor.fetchone():
            return True
        # A savepoint, so a refusal leaves the migration's transaction usable.
        cursor.execute("SAVEPOINT easycars_pg_trgm")
        try:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except Exception as exc:
            sqlstate = getattr(exc, "sqlstate", None) or getattr(exc.__cause__, "sqlstate", None)
            if sqlstate != "42501":  # insufficient_privilege
                raise
            cursor.execute("ROLLBACK TO SAVEPOINT easycars_pg_trgm")
            return False
        cursor.execute("RELEASE SAVEPOINT easycars_pg_trgm")
        return True


def remove_search_text(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    quote = connection.ops.quote_name
    schema_editor.execute(f"DROP INDEX IF EXISTS {quote(INDEX)}")
    schema_editor.execute(f"ALTER TABLE {quote(TABLE)} DROP COLUMN IF EXISTS {quote(COLUMN)}")
    # pg_trgm stays: other apps may use it, and dropping an extension needs its owner.


class Migration(migrations.Migration):
    dependencies = [
        ("wagtail_easycars", "0004_dealership_log_entry"),
    ]

    operations = [
        migrations.RunPython(add_search_text, remove_search_text, elidable=False),
    ]
