"""Resolving sync conflicts, field locks and potential duplicates in the admin."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from wagtail.log_actions import registry as log_registry

from wagtail_easycars.models import FieldChange, PotentialDuplicate, Vehicle, VehicleConflict

from ..admin_support import make_editor
from ..factories import DealershipFactory, EasyCarsVehicleFactory, LeadFactory, VehicleFactory

pytestmark = pytest.mark.django_db

VEHICLES = "wagtailsnippets_wagtail_easycars_vehicle"


@pytest.fixture
def dealership():
    return DealershipFactory()


@pytest.fixture
def editor(client, dealership):
    user = make_editor(dealership)
    client.force_login(user)
    return user


@pytest.fixture
def conflict(dealership):
    vehicle = EasyCarsVehicleFactory(
        dealership=dealership, title="2020 Kia Sportage SX", price=Decimal("27990.00"), locked_fields=["price"]
    )
    return VehicleConflict.objects.create(
        vehicle=vehicle, field="price", local_value="27990.00", easycars_value="28990.00"
    )


def resolve(client, conflict, resolution, **extra):
    return client.post(
        reverse(f"{VEHICLES}:conflict_resolve", args=[conflict.pk]), {"resolution": resolution, **extra}, follow=True
    )


def test_conflict_list_shows_open_conflicts_with_both_values(client, editor, conflict):
    settled = EasyCarsVehicleFactory(dealership=conflict.vehicle.dealership, title="Settled Hatch")
    VehicleConflict.objects.create(
        vehicle=settled, field="title", local_value="a", easycars_value="b", resolved_at=timezone.now()
    )

    html = client.get(reverse(f"{VEHICLES}:conflicts")).content.decode()

    assert "2020 Kia Sportage SX" in html
    assert "$27,990" in html
    assert "$28,990" in html
    assert "Settled Hatch" not in html
    assert "Keep local value" in html


def test_keep_local_keeps_the_editors_value_and_the_lock(client, editor, conflict):
    response = resolve(client, conflict, "keep_local")

    conflict.refresh_from_db()
    vehicle = Vehicle.objects.get(pk=conflict.vehicle_id)
    assert conflict.resolution == VehicleConflict.Resolution.KEEP_LOCAL
    assert conflict.resolved_by == editor
    assert vehicle.price == Decimal("27990.00")
    assert vehicle.locked_fields == ["price"]
    assert "kept the local price" in response.content.decode()


def test_accept_easycars_applies_the_value_unlocks_and_records_the_change(client, editor, conflict):
    resolve(client, conflict, "accept_easycars")

    vehicle = Vehicle.objects.get(pk=conflict.vehicle_id)
    assert vehicle.price == Decimal("28990.00")
    assert vehicle.locked_fields == []
    change = FieldChange.objects.get(vehicle=vehicle, field="price")
    assert (change.old_value, change.new_value, change.user) == ("27990.00", "28990.00", editor)


def test_resolution_is_in_the_vehicles_audit_history(client, editor, conflict):
    resolve(client, conflict, "accept_easycars")

    entry = log_registry.get_logs_for_instance(conflict.vehicle).get(action="wagtail_easycars.conflict.accept_easycars")
    assert entry.user == editor
    assert entry.message == "Accepted the EasyCars price"
    history = client.get(reverse(f"{VEHICLES}:history", args=[conflict.vehicle_id])).content.decode()
    assert "Accepted the EasyCars price" in history


def test_resolving_twice_reports_it_was_already_resolved(client, editor, conflict):
    resolve(client, conflict, "keep_local")

    response = resolve(client, conflict, "accept_easycars")

    assert "already resolved" in response.content.decode()
    assert Vehicle.objects.get(pk=conflict.vehicle_id).price == Decimal("27990.00")


def test_unknown_resolution_changes_nothing(client, editor, conflict):
    response = resolve(client, conflict, "delete_everything")

    assert "Choose how to resolve it" in response.content.decode()
    conflict.refresh_from_db()
    assert conflict.resolved_at is None


def test_the_sync_only_resolution_cannot_be_posted(client, editor, conflict):
    response = resolve(client, conflict, "agreed")

    assert "Choose how to resolve it" in response.content.decode()
    conflict.refresh_from_db()
    assert conflict.resolved_at is None


def test_resolving_returns_to_the_page_it_came_from_but_never_off_site(client, editor, conflict):
    inspect_url = reverse(f"{VEHICLES}:inspect", args=[conflict.vehicle_id])
    other = VehicleConflict.objects.create(
        vehicle=conflict.vehicle, field="title", local_value="Mine", easycars_value="Theirs"
    )

    back = client.post(
        reverse(f"{VEHICLES}:conflict_resolve", args=[conflict.pk]), {"resolution": "keep_local", "next": inspect_url}
    )
    away = client.post(
        reverse(f"{VEHICLES}:conflict_resolve", args=[other.pk]),
        {"resolution": "keep_local", "next": "https://evil.example/"},
    )

    assert back.url == inspect_url
    assert away.url == reverse(f"{VEHICLES}:conflicts")


def test_viewer_without_change_permission_cannot_resolve(client, dealership, conflict):
    viewer = make_editor(dealership, permissions=("wagtailadmin.access_admin", "wagtail_easycars.view_vehicle"))
    client.force_login(viewer)

    listing = client.get(reverse(f"{VEHICLES}:conflicts")).content.decode()
    client.post(reverse(f"{VEHICLES}:conflict_resolve", args=[conflict.pk]), {"resolution": "keep_local"})

    assert "2020 Kia Sportage SX" in listing
    assert "Keep local value" not in listing
    conflict.refresh_from_db()
    assert conflict.resolved_at is None


def test_unlocking_a_field_lets_easycars_manage_it_again(client, editor, dealership):
    vehicle = EasyCarsVehicleFactory(dealership=dealership, locked_fields=["description", "price"])

    response = client.post(
        reverse(f"{VEHICLES}:unlock_field", args=[vehicle.pk]), {"field": "description"}, follow=True
    )

    vehicle.refresh_from_db()
    assert vehicle.locked_fields == ["price"]
    assert "managed by EasyCars again" in response.content.decode()
    assert log_registry.get_logs_for_instance(vehicle).filter(action="wagtail_easycars.vehicle.unlock").exists()


def test_a_field_with_an_open_conflict_is_resolved_not_unlocked(client, editor, conflict):
    response = client.post(
        reverse(f"{VEHICLES}:unlock_field", args=[conflict.vehicle_id]), {"field": "price"}, follow=True
    )

    assert "Resolve the open conflict" in response.content.decode()
    assert Vehicle.objects.get(pk=conflict.vehicle_id).locked_fields == ["price"]


@pytest.fixture
def duplicate(dealership):
    easycars = EasyCarsVehicleFactory(dealership=dealership, title="Feed Ranger XLT", vin="MNAXXXXXXXX000001")
    manual = VehicleFactory(dealership=dealership, title="Typed-in Ranger", vin="MNAXXXXXXXX000001")
    return PotentialDuplicate.objects.create(
        dealership=dealership, manual_vehicle=manual, easycars_vehicle=easycars, reason=PotentialDuplicate.Reason.VIN
    )


def test_duplicates_list_and_vehicle_filter_show_open_duplicates(client, editor, duplicate):
    listing = client.get(reverse(f"{VEHICLES}:duplicates")).content.decode()
    filtered = client.get(reverse(f"{VEHICLES}:list"), {"sync_state": "potential_duplicate"}).content.decode()

    assert "Typed-in Ranger" in listing
    assert "Feed Ranger XLT" in listing
    assert "Same VIN" in listing
    assert "Typed-in Ranger" in filtered
    assert "Feed Ranger XLT" in filtered


def test_merge_moves_leads_to_the_easycars_vehicle_and_unlists_the_manual_one(client, editor, duplicate):
    lead = LeadFactory(dealership=duplicate.dealership, vehicle=duplicate.manual_vehicle)

    response = client.post(
        reverse(f"{VEHICLES}:duplicate_resolve", args=[duplicate.pk]), {"resolution": "merged"}, follow=True
    )

    duplicate.refresh_from_db()
    lead.refresh_from_db()
    assert duplicate.resolution == PotentialDuplicate.Resolution.MERGED
    assert lead.vehicle_id == duplicate.easycars_vehicle_id
    assert Vehicle.objects.get(pk=duplicate.manual_vehicle_id).status == Vehicle.Status.UNLISTED
    assert "was merged into" in response.content.decode()
    assert "Typed-in Ranger" not in client.get(reverse(f"{VEHICLES}:duplicates")).content.decode()


def test_keep_separate_closes_the_report_and_leaves_both_vehicles(client, editor, duplicate):
    client.post(reverse(f"{VEHICLES}:duplicate_resolve", args=[duplicate.pk]), {"resolution": "kept_separate"})

    duplicate.refresh_from_db()
    assert duplicate.resolution == PotentialDuplicate.Resolution.KEPT_SEPARATE
    assert Vehicle.objects.get(pk=duplicate.manual_vehicle_id).status == Vehicle.Status.AVAILABLE
    entry = log_registry.get_logs_for_instance(duplicate.manual_vehicle).get()
    assert entry.message == "Kept separate from 'Feed Ranger XLT'"


def test_dashboard_attention_links_open_the_conflict_and_duplicate_lists(client, editor, conflict, duplicate):
    from wagtail_easycars.admin.dashboard import attention_counts

    links = {item["label"]: item for item in attention_counts(conflict.vehicle.dealership)}

    assert links["Open conflicts"]["count"] == 1
    assert "2020 Kia Sportage SX" in client.get(links["Open conflicts"]["url"]).content.decode()
    assert links["Potential duplicates"]["count"] == 1
    assert "Typed-in Ranger" in client.get(links["Potential duplicates"]["url"]).content.decode()
