"""Lead reconciliation state: how many scans found nothing, and when the last one looked.

A CreateLead whose outcome is unknown is sent again only after two reconciliation scans, each at
least ``LEAD_RECONCILE_QUIET_SECONDS`` after the send or the scan before, found nothing
(docs/leads.md). Existing leads start with no scan: a lead already waiting for reconciliation
(``push_started_at`` set) gets its two scans from its next attempt on.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("wagtail_easycars", "0008_vehicle_photo_state"),
    ]

    operations = [
        migrations.AddField(
            model_name="lead",
            name="reconcile_checked_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="lead",
            name="reconcile_misses",
            field=models.PositiveSmallIntegerField(default=0, editable=False),
        ),
    ]
