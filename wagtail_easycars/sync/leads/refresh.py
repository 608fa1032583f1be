"""Inbound lead refresh: EasyCars' view of every lead it has, applied and recorded.

EasyCars cannot list leads (docs/easycars-api.md#not-in-the-api), so each lead with a
LeadNumber is fetched with GetLeadDetail. Changed fields are applied with a queryset update (no
outbox echo: the synced values move with them) and recorded as FieldChange rows. GetLeadDetail
has no LeadStatus, so the local status is never touched.
"""

from concurrent.futures import ThreadPoolExecutor

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ...client.errors import EasyCarsAuthenticationError, EasyCarsCircuitOpen
from ...conf import get_setting
from ...models import FieldChange, Lead
from .mapping import SYNCED_FIELDS, detail_values

#: Errors that make every following call fail the same way: stop the run instead of trying each lead.
RUN_STOPPING_ERRORS = (EasyCarsAuthenticationError, EasyCarsCircuitOpen)


class RefreshStopped(Exception):
    """The refresh cannot go on (credentials refused, EasyCars paused); the run fails with this."""


def _fetch(client, lead_number):
    try:
        return client.get_lead_detail(lead_number), None
    except Exception as exc:  # noqa: BLE001 - reported per lead by the caller
        return None, exc


def refresh_leads(dealership, client, recorder, *, sync_log=None):
    """Refresh every lead of ``dealership`` that EasyCars has; counts go to ``recorder``."""
    leads = list(
        Lead.objects.filter(dealership=dealership, easycars_lead_number__isnull=False)
        .exclude(easycars_lead_number="")
        .order_by("pk")
    )
    recorder.set_total(len(leads))
    size = max(1, get_setting("LEAD_PUSH_CONCURRENCY"))
    with ThreadPoolExecutor(max_workers=size, thread_name_prefix="easycars-refresh") as pool:
        for start in range(0, len(leads), size * 20):
            batch = leads[start : start + size * 20]
            results = pool.map(lambda lead: _fetch(client, lead.easycars_lead_number), batch)
            for lead, (detail, error) in zip(batch, results, strict=True):
                recorder.count("records_processed")
                if error is not None:
                    if isinstance(error, RUN_STOPPING_ERRORS):
                        raise RefreshStopped(str(error)) from error
                    recorder.count("records_failed")
                    recorder.add_failure("lead", lead.easycars_lead_number, str(error))
                    continue
                outcome = apply_detail(lead, detail, sync_log=sync_log)
                if outcome == "mismatch":
                    recorder.count("records_failed")
                    recorder.add_failure(
                        "lead",
                        lead.easycars_lead_number,
                        _(
                            "EasyCars lead %(number)s carries another enquiry's ExternalID (%(external_id)s); "
                            "it was not applied to lead %(lead)s."
                        )
                        % {"number": lead.easycars_lead_number, "external_id": detail.external_id, "lead": lead.pk},
                    )
                else:
                    recorder.count("records_updated" if outcome == "updated" else "records_unchanged")
                recorder.flush()


def apply_detail(lead, detail, *, sync_log=None):
    """Apply one GetLeadDetail answer to ``lead``; returns ``"updated"``, ``"unchanged"`` or ``"mismatch"``."""
    if detail.external_id and detail.external_id.strip().lower() != str(lead.external_id):
        if lead.data_source != Lead.DataSource.EASYCARS:
            return "mismatch"
    incoming = detail_values(detail)
    synced = dict(lead.synced_values or {})
    changes = {}
    for field, new in incoming.items():
        old = getattr(lead, field) or ""
        if old == new:
            continue
        if field in SYNCED_FIELDS and synced and old != (synced.get(field) or ""):
            # Changed here and not yet sent: the local edit wins and will be pushed.
            continue
        changes[field] = (old, new)
    now = timezone.now()
    updates = {field: new for field, (old, new) in changes.items()}
    # EasyCars holds these values now: moving them into synced_values keeps the outbox quiet, and
    # a lead first seen here (entered by its LeadNumber) starts tracking local edits to send.
    if not synced:
        synced = {field: getattr(lead, field) or "" for field in SYNCED_FIELDS}
    synced.update({field: new for field, new in updates.items() if field in SYNCED_FIELDS})
    updates["synced_values"] = synced
    updates |= {"easycars_raw_data": detail.raw, "last_synced_from_easycars": now}
    with transaction.atomic():
        Lead.objects.filter(pk=lead.pk).update(**updates)
        FieldChange.objects.bulk_create(
            FieldChange(
                lead=lead,
                field=field,
                old_value=old,
                new_value=new,
                source=FieldChange.Source.EASYCARS,
                sync_log=sync_log,
            )
            for field, (old, new) in changes.items()
        )
    return "updated" if changes else "unchanged"
