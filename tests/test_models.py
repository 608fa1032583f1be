"""Domain model constraints, tenant querysets, stored choice values and JSON fields."""

import pytest
from django.db import IntegrityError, transaction
from wagtail.models import Site

from tests.factories import (
    CredentialFactory,
    DealershipFactory,
    EasyCarsVehicleFactory,
    LeadFactory,
    MembershipFactory,
    SuperuserFactory,
    SyncLogFactory,
    UserFactory,
    VehicleFactory,
)
from wagtail_easycars.models import (
    Dealership,
    DealershipMembership,
    EasyCarsCredential,
    Lead,
    SyncLog,
    Vehicle,
)

pytestmark = pytest.mark.django_db


def test_stock_number_is_unique_per_dealership():
    vehicle = EasyCarsVehicleFactory(easycars_stock_number="A100")
    with pytest.raises(IntegrityError), transaction.atomic():
        EasyCarsVehicleFactory(dealership=vehicle.dealership, easycars_stock_number="A100")


def test_the_same_stock_number_is_allowed_in_another_dealership():
    EasyCarsVehicleFactory(easycars_stock_number="A100")
    EasyCarsVehicleFactory(easycars_stock_number="A100")
    assert Vehicle.objects.filter(easycars_stock_number="A100").count() == 2


def test_vehicles_without_a_stock_number_do_not_collide():
    dealership = DealershipFactory()
    VehicleFactory.create_batch(3, dealership=dealership, easycars_stock_number=None)
    assert dealership.vehicles.count() == 3


def test_a_manual_vehicle_may_share_an_easycars_stock_number():
    # It becomes a reportable potential duplicate instead of blocking the sync.
    vehicle = EasyCarsVehicleFactory(easycars_stock_number="A100")
    VehicleFactory(dealership=vehicle.dealership, easycars_stock_number="A100", data_source="manual")
    assert vehicle.dealership.vehicles.count() == 2


def test_a_dealership_has_at_most_one_credential():
    credential = CredentialFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        CredentialFactory(dealership=credential.dealership)


def test_a_user_has_one_membership_per_dealership():
    membership = MembershipFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        MembershipFactory(user=membership.user, dealership=membership.dealership, role="staff")


def test_a_user_may_belong_to_several_dealerships():
    user = UserFactory()
    MembershipFactory(user=user)
    MembershipFactory(user=user, role=DealershipMembership.Role.STAFF)
    assert Dealership.objects.for_user(user).count() == 2


def test_dealership_slugs_are_unique():
    DealershipFactory(slug="same")
    with pytest.raises(IntegrityError), transaction.atomic():
        Dealership.objects.create(name="Other", slug="same")


def test_a_site_belongs_to_at_most_one_dealership():
    site = Site.objects.get(is_default_site=True)
    DealershipFactory(site=site)
    with pytest.raises(IntegrityError), transaction.atomic():
        DealershipFactory(site=site)


def test_for_user_returns_only_the_users_dealerships():
    mine, theirs = DealershipFactory(), DealershipFactory()
    user = MembershipFactory(dealership=mine).user
    MembershipFactory(dealership=theirs)
    assert list(Dealership.objects.for_user(user)) == [mine]


def test_for_user_returns_every_dealership_to_a_superuser():
    DealershipFactory.create_batch(3)
    assert Dealership.objects.for_user(SuperuserFactory()).count() == Dealership.objects.count() == 3


def test_for_user_returns_nothing_to_anonymous_inactive_or_unattached_users():
    from django.contrib.auth.models import AnonymousUser

    dealership = DealershipFactory()
    inactive = MembershipFactory(dealership=dealership, user=UserFactory(is_active=False)).user
    assert not Dealership.objects.for_user(AnonymousUser()).exists()
    assert not Dealership.objects.for_user(None).exists()
    assert not Dealership.objects.for_user(inactive).exists()
    assert not Dealership.objects.for_user(UserFactory()).exists()


def test_for_user_has_no_duplicates_with_several_memberships():
    dealership = DealershipFactory()
    user = MembershipFactory(dealership=dealership).user
    MembershipFactory(dealership=dealership)  # another member
    assert Dealership.objects.for_user(user).count() == 1


def test_vehicle_and_lead_querysets_are_scoped_to_the_user():
    mine, theirs = DealershipFactory(), DealershipFactory()
    user = MembershipFactory(dealership=mine).user
    my_vehicle, _ = VehicleFactory(dealership=mine), VehicleFactory(dealership=theirs)
    my_lead, _ = LeadFactory(dealership=mine), LeadFactory(dealership=theirs)
    assert list(Vehicle.objects.for_user(user)) == [my_vehicle]
    assert list(Lead.objects.for_user(user)) == [my_lead]


@pytest.mark.parametrize(
    ("model", "field", "value"),
    [
        (Vehicle, "condition", "demo"),
        (Vehicle, "status", "available"),
        (Vehicle, "data_source", "easycars"),
        (Lead, "status", "in_progress"),
        (Lead, "data_source", "webform"),
        (Lead, "vehicle_interest", "test_drive"),
        (Lead, "finance_status", "maybe"),
        (Lead, "rating", "hot"),
        (Lead, "sync_state", "pending"),
        (SyncLog, "status", "in_progress"),
        (SyncLog, "sync_type", "stock"),
        (SyncLog, "direction", "inbound"),
        (EasyCarsCredential, "environment", "production"),
        (DealershipMembership, "role", "admin"),
    ],
)
def test_choices_store_lowercase_words(model, field, value):
    choices = dict(model._meta.get_field(field).choices)
    assert value in choices
    assert all(key == key.lower() and " " not in key for key in choices if key)


def test_choice_values_round_trip_through_the_database():
    vehicle = VehicleFactory(condition=Vehicle.Condition.DEMO)
    lead = LeadFactory(
        data_source=Lead.DataSource.WEBFORM,
        status=Lead.Status.IN_PROGRESS,
        vehicle_interest=Lead.VehicleInterest.TEST_DRIVE,
    )
    assert Vehicle.objects.filter(condition="demo").get() == vehicle
    assert Lead.objects.filter(data_source="webform", status="in_progress", vehicle_interest="test_drive").get() == lead


def test_json_fields_store_and_query_nested_data():
    raw = {"StockNumber": "A100", "Price": None, "Features": ["Sunroof", "Tow bar"], "Nested": {"Yard": "100"}}
    vehicle = EasyCarsVehicleFactory(easycars_raw_data=raw, features=["Sunroof", "Tow bar"])
    vehicle.refresh_from_db()
    assert vehicle.easycars_raw_data == raw
    assert vehicle.features == ["Sunroof", "Tow bar"]
    assert Vehicle.objects.filter(easycars_raw_data__Nested__Yard="100").get() == vehicle
    assert Vehicle.objects.filter(easycars_raw_data__StockNumber="A100").exists()


def test_sync_log_json_fields_round_trip():
    log = SyncLogFactory(request_payload={"AccountNumber": "EC000001"}, response_summary={"items": 3, "warning": ""})
    log.refresh_from_db()
    assert log.request_payload == {"AccountNumber": "EC000001"}
    assert log.response_summary["items"] == 3


def test_credential_keeps_only_the_last_four_digits_in_clear():
    credential = CredentialFactory(account_number="EC001234")
    stored = EasyCarsCredential.objects.filter(pk=credential.pk).values().get()
    assert credential.masked_account_number == "…1234"
    assert "EC001234" not in str(stored)
    assert all(value.startswith("v1:") for key, value in stored.items() if key.endswith("_encrypted"))


def test_deleting_a_dealership_removes_its_data_but_keeps_other_dealerships():
    doomed, kept = DealershipFactory(), DealershipFactory()
    for dealership in (doomed, kept):
        CredentialFactory(dealership=dealership)
        VehicleFactory(dealership=dealership)
        LeadFactory(dealership=dealership)
    doomed.delete()
    assert EasyCarsCredential.objects.get().dealership == kept
    assert Vehicle.objects.get().dealership == kept
    assert Lead.objects.get().dealership == kept
