"""Migration 0007: lead control flags leave synced_values for columns, push leases become claims, and back."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

APP = "wagtail_easycars"
BEFORE = [(APP, "0006_conflict_resolution_agreed")]
AFTER = [(APP, "0007_lead_control_columns_and_claims")]

ACKNOWLEDGED = {
    "status": "deleted",
    "message": "Is it available?",
    "vehicle_interest": "buy",
    "finance_status": "",
    "rating": "hot",
    "name": "Jo Citizen",
    "email": "jo@example.com",
    "phone": "",
    "mobile": "",
    "address": "",
    "city": "",
    "state": "",
    "postcode": "",
}


def migrate(targets):
    """Migrate the test database to ``targets``; returns the models as they are there."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


@pytest.fixture
def at_0006():
    """The models before 0007; the database is migrated to the latest state again afterwards."""
    apps = migrate(BEFORE)
    yield apps
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def leads_in_every_state(apps):
    """{name: (lead, synced_values)} as 0006 stored them, plus the push leases: {lead name: (owner, until)}."""
    Dealership = apps.get_model(APP, "Dealership")
    Lead = apps.get_model(APP, "Lead")
    dealership = Dealership.objects.create(name="Harbour Motors", slug="harbour")
    started = timezone.now() - timedelta(minutes=3)
    states = {
        "not_applicable": ("not_applicable", {}, None),
        "pending_new": ("pending", {}, None),
        "pending_sent_first": ("pending", {"_reconcile_after": ""}, started),
        "pending_backoff": ("pending", {"_reconcile_after": "000041"}, started),
        "failed_unresolved": ("failed", {"_reconcile_after": "000041", "_unresolved": True}, started),
        "pending_confirmed": ("pending", {"_reconcile_after": "000041", "_resend_confirmed": True}, started),
        "failed_refused": ("failed", {"_reconcile_after": "000041"}, None),
        "sent": ("sent", dict(ACKNOWLEDGED), None),
        "sent_unsendable": ("sent", {**ACKNOWLEDGED, "_unsendable": {"status": "new", "rating": ""}}, None),
    }
    leads = {}
    for number, (name, (state, synced, push_started_at)) in enumerate(states.items()):
        lead = Lead.objects.create(
            dealership=dealership,
            name=name,
            sync_state=state,
            synced_values=synced,
            push_started_at=push_started_at,
            easycars_lead_number=f"{number:06d}" if state == "sent" else None,
        )
        leads[name] = (lead, synced)
    return dealership, leads


def push_leases(apps, dealership, leads):
    """A running push, a back-off, a lease whose lead is gone, and a run's lease (not a push's)."""
    SyncLease = apps.get_model(APP, "SyncLease")
    soon = timezone.now() + timedelta(minutes=5)
    later = timezone.now() + timedelta(minutes=40)
    leases = {
        f"push:{leads['pending_sent_first'][0].pk}": ("3f2a9c", soon),
        f"push:{leads['pending_backoff'][0].pk}": ("backoff", later),
        "push:999999": ("backoff", later),
        "lead": ("run-token", soon),
    }
    for kind, (owner, until) in leases.items():
        SyncLease.objects.create(dealership=dealership, kind=kind, owner=owner, lease_until=until)
    return leases


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_lead_control_state_moves_to_columns_and_claims_and_back(at_0006):
    dealership, leads = leads_in_every_state(at_0006)
    leases = push_leases(at_0006, dealership, leads)

    apps = migrate(AFTER)
    Lead, LeadClaim, SyncLease = (apps.get_model(APP, name) for name in ("Lead", "LeadClaim", "SyncLease"))
    columns = {
        lead.name: (lead.reconcile_after, lead.create_unresolved, lead.resend_confirmed, lead.unsendable_fields)
        for lead in Lead.objects.all()
    }
    assert columns == {
        "not_applicable": (None, False, False, {}),
        "pending_new": (None, False, False, {}),
        "pending_sent_first": ("", False, False, {}),
        "pending_backoff": ("000041", False, False, {}),
        "failed_unresolved": ("000041", True, False, {}),
        "pending_confirmed": ("000041", False, True, {}),
        "failed_refused": ("000041", False, False, {}),
        "sent": (None, False, False, {}),
        "sent_unsendable": (None, False, False, {"status": "new", "rating": ""}),
    }
    synced = {lead.name: lead.synced_values for lead in Lead.objects.all()}
    assert synced == {name: ACKNOWLEDGED if name.startswith("sent") else {} for name in leads}
    claims = {claim.lead.name: (claim.owner, claim.backoff, claim.lease_until) for claim in LeadClaim.objects.all()}
    running = leases[f"push:{leads['pending_sent_first'][0].pk}"]
    backoff = leases[f"push:{leads['pending_backoff'][0].pk}"]
    assert claims == {
        "pending_sent_first": (running[0], False, running[1]),
        "pending_backoff": ("", True, backoff[1]),
    }
    # The lease of a deleted lead claimed nothing and is gone; a run's lease is not a push's.
    assert list(SyncLease.objects.values_list("kind", flat=True)) == ["lead"]

    apps = migrate(BEFORE)
    Lead, SyncLease = apps.get_model(APP, "Lead"), apps.get_model(APP, "SyncLease")
    assert {lead.name: lead.synced_values for lead in Lead.objects.all()} == {
        name: synced for name, (_, synced) in leads.items()
    }
    restored = {lease.kind: (lease.owner, lease.lease_until) for lease in SyncLease.objects.all()}
    assert restored == {kind: lease for kind, lease in leases.items() if kind != "push:999999"}
    assert set(SyncLease.objects.values_list("dealership_id", flat=True)) == {dealership.pk}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_migrated_backoff_claim_is_taken_over_by_the_next_push(at_0006):
    """The converted claim keeps the old semantics: a back-off yields, a running push's claim does not."""
    dealership, leads = leads_in_every_state(at_0006)
    push_leases(at_0006, dealership, leads)
    migrate(AFTER)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    from wagtail_easycars.sync.leads.push import claim_leads, claimed_lead_ids

    running, waiting = leads["pending_sent_first"][0].pk, leads["pending_backoff"][0].pk
    assert claimed_lead_ids(include_backoff=False) == {running}
    assert claimed_lead_ids() == {running, waiting}
    assert claim_leads([running, waiting])[1] == {waiting}
