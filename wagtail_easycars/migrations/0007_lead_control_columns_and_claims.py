"""Lead control state in its own columns, and the per-lead push claim as its own model.

Until 0006 a lead's control flags lived as underscore keys inside ``Lead.synced_values``
(``_reconcile_after``, ``_unresolved``, ``_resend_confirmed``, ``_unsendable``) and a push claimed
a lead with a ``SyncLease`` row of kind ``push:<lead id>`` (owner ``backoff`` while it only held
a retry back-off). Forward, the keys move into ``reconcile_after``, ``create_unresolved``,
``resend_confirmed`` and ``unsendable_fields`` (``synced_values`` keeps only what EasyCars
acknowledged) and the leases become ``LeadClaim`` rows. Backward puts both back as they were.
"""

import django.db.models.deletion
from django.db import migrations, models

BATCH = 500
CLAIM_PREFIX = "push:"
BACKOFF_OWNER = "backoff"
#: synced_values key -> Lead column.
FLAG_COLUMNS = {
    "_reconcile_after": "reconcile_after",
    "_unresolved": "create_unresolved",
    "_resend_confirmed": "resend_confirmed",
    "_unsendable": "unsendable_fields",
}


def _in_batches(model, pks, update):
    """Load ``pks`` a batch at a time, let ``update`` change each row, and write the batch back."""
    fields = ["synced_values", *FLAG_COLUMNS.values()]
    for start in range(0, len(pks), BATCH):
        rows = list(model.objects.filter(pk__in=pks[start : start + BATCH]).only("pk", *fields))
        for row in rows:
            update(row)
        model.objects.bulk_update(rows, fields)


def _flags_to_columns(lead):
    values = dict(lead.synced_values) if isinstance(lead.synced_values, dict) else {}
    after = values.pop("_reconcile_after", None)
    lead.reconcile_after = None if after is None else str(after)
    lead.create_unresolved = bool(values.pop("_unresolved", False))
    lead.resend_confirmed = bool(values.pop("_resend_confirmed", False))
    lead.unsendable_fields = values.pop("_unsendable", None) or {}
    lead.synced_values = values


def _columns_to_flags(lead):
    values = dict(lead.synced_values or {})
    if lead.reconcile_after is not None:
        values["_reconcile_after"] = lead.reconcile_after
    if lead.create_unresolved:
        values["_unresolved"] = True
    if lead.resend_confirmed:
        values["_resend_confirmed"] = True
    if lead.unsendable_fields:
        values["_unsendable"] = lead.unsendable_fields
    lead.synced_values = values


def _claimed_lead_id(kind):
    rest = kind[len(CLAIM_PREFIX) :]
    return int(rest) if rest.isdigit() else None


def forward(apps, schema_editor):
    Lead = apps.get_model("wagtail_easycars", "Lead")
    LeadClaim = apps.get_model("wagtail_easycars", "LeadClaim")
    SyncLease = apps.get_model("wagtail_easycars", "SyncLease")

    flagged = Lead.objects.filter(synced_values__has_any_keys=list(FLAG_COLUMNS))
    _in_batches(Lead, list(flagged.values_list("pk", flat=True)), _flags_to_columns)

    leases = {}
    for lease in SyncLease.objects.filter(kind__startswith=CLAIM_PREFIX):
        lead_id = _claimed_lead_id(lease.kind)
        if lead_id is not None:
            leases[lead_id] = lease
    # A lease whose lead was deleted claimed nothing (SyncLease had no foreign key to the lead).
    existing = set(Lead.objects.filter(pk__in=list(leases)).values_list("pk", flat=True))
    LeadClaim.objects.bulk_create(
        [
            LeadClaim(
                lead_id=lead_id,
                owner="" if lease.owner == BACKOFF_OWNER else lease.owner,
                backoff=lease.owner == BACKOFF_OWNER,
                lease_until=lease.lease_until,
            )
            for lead_id, lease in leases.items()
            if lead_id in existing
        ],
        batch_size=BATCH,
    )
    SyncLease.objects.filter(pk__in=[lease.pk for lease in leases.values()]).delete()


def backward(apps, schema_editor):
    Lead = apps.get_model("wagtail_easycars", "Lead")
    LeadClaim = apps.get_model("wagtail_easycars", "LeadClaim")
    SyncLease = apps.get_model("wagtail_easycars", "SyncLease")

    flagged = Lead.objects.filter(
        models.Q(reconcile_after__isnull=False) | models.Q(create_unresolved=True) | models.Q(resend_confirmed=True)
    ).values_list("pk", flat=True)
    held = Lead.objects.exclude(unsendable_fields={}).values_list("pk", flat=True)
    _in_batches(Lead, sorted(set(flagged) | set(held)), _columns_to_flags)

    claims = LeadClaim.objects.values_list("lead_id", "lead__dealership_id", "owner", "backoff", "lease_until")
    SyncLease.objects.bulk_create(
        [
            SyncLease(
                dealership_id=dealership_id,
                kind=f"{CLAIM_PREFIX}{lead_id}",
                owner=BACKOFF_OWNER if backoff else owner,
                lease_until=lease_until,
            )
            for lead_id, dealership_id, owner, backoff, lease_until in claims
        ],
        batch_size=BATCH,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("wagtail_easycars", "0006_conflict_resolution_agreed"),
    ]

    operations = [
        migrations.CreateModel(
            name="LeadClaim",
            fields=[
                (
                    "lead",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="push_claim",
                        serialize=False,
                        to="wagtail_easycars.lead",
                    ),
                ),
                ("owner", models.CharField(blank=True, max_length=64)),
                ("lease_until", models.DateTimeField(blank=True, null=True)),
                ("backoff", models.BooleanField(default=False)),
            ],
        ),
        migrations.AddField(
            model_name="lead",
            name="create_unresolved",
            field=models.BooleanField(default=False, editable=False),
        ),
        migrations.AddField(
            model_name="lead",
            name="reconcile_after",
            field=models.CharField(blank=True, editable=False, max_length=20, null=True),
        ),
        migrations.AddField(
            model_name="lead",
            name="resend_confirmed",
            field=models.BooleanField(default=False, editable=False),
        ),
        migrations.AddField(
            model_name="lead",
            name="unsendable_fields",
            field=models.JSONField(blank=True, default=dict, editable=False),
        ),
        migrations.RunPython(forward, backward),
    ]
