"""The enquiry rate limit's counters move from the cache to the database.

``EnquiryRateCounter`` holds one row per sender (a keyed hash of the address) and window, counted
with a conditional UPDATE, so the limit holds on every cache backend. It starts empty: counts
kept in the cache before the upgrade are dropped, so every sender starts a fresh window.
Backward drops the table.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("wagtail_easycars", "0009_lead_reconcile_state"),
    ]

    operations = [
        migrations.CreateModel(
            name="EnquiryRateCounter",
            fields=[
                ("key", models.CharField(max_length=64, primary_key=True, serialize=False, verbose_name="key")),
                ("count", models.PositiveIntegerField(default=0, verbose_name="count")),
                ("window_end", models.DateTimeField(verbose_name="window end")),
            ],
            options={
                "verbose_name": "enquiry rate counter",
                "verbose_name_plural": "enquiry rate counters",
                "indexes": [models.Index(fields=["window_end"], name="easycars_enquiry_window_idx")],
            },
        ),
    ]
