"""The vehicle, lead and dealership snippets in the Wagtail admin."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from wagtail.log_actions import registry as log_registry

from wagtail_easycars.models import FieldChange, Lead, Vehicle, VehicleConflict

from ..admin_support import make_editor
from ..factories import (
    CredentialFactory,
    DealershipFactory,
    EasyCarsVehicleFactory,
    LeadFactory,
    SuperuserFactory,
    UserFactory,
    VehicleFactory,
)

pytestmark = pytest.mark.django_db

VEHICLES = "wagtailsnippets_wagtail_easycars_vehicle"
LEADS = "wagtailsnippets_wagtail_easycars_lead"
DEALERSHIPS = "wagtailsnippets_wagtail_easycars_dealership"


@pytest.fixture
def dealership():
    return DealershipFactory(name="Harbour Motors")


@pytest.fixture
def editor(client, dealership):
    user = make_editor(dealership)
    client.force_login(user)
    return user


def test_vehicle_list_shows_easycars_metadata(client, editor, dealership):
    EasyCarsVehicleFactory(
        dealership=dealership,
        title="2021 Mazda CX-5 Touring",
        easycars_stock_number="STK-7781",
        last_synced_from_easycars=timezone.now(),
        locked_fields=["price", "description"],
    )

    response = client.get(reverse(f"{VEHICLES}:list"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "2021 Mazda CX-5 Touring" in html
    assert "STK-7781" in html
    assert "EasyCars" in html
    assert "2 locked" in html
    assert 'title="Price, Description"' in html


def test_vehicle_list_filters_by_status_condition_make_and_source(client, editor, dealership):
    VehicleFactory(dealership=dealership, title="Sold Ranger", make="Ford", status=Vehicle.Status.SOLD)
    VehicleFactory(dealership=dealership, title="Demo i30", make="Hyundai", condition=Vehicle.Condition.DEMO)
    EasyCarsVehicleFactory(dealership=dealership, title="Feed Corolla", make="Toyota")
    url = reverse(f"{VEHICLES}:list")

    def titles(**params):
        html = client.get(url, params).content.decode()
        return {title for title in ("Sold Ranger", "Demo i30", "Feed Corolla") if title in html}

    assert titles(status="sold") == {"Sold Ranger"}
    assert titles(condition="demo") == {"Demo i30"}
    assert titles(make="Toyota") == {"Feed Corolla"}
    assert titles(data_source="easycars") == {"Feed Corolla"}


def test_vehicle_list_filters_by_sync_state(client, editor, dealership):
    locked = EasyCarsVehicleFactory(dealership=dealership, title="Locked Volvo", locked_fields=["price"])
    conflicted = EasyCarsVehicleFactory(dealership=dealership, title="Conflicted Kia")
    VehicleConflict.objects.create(vehicle=conflicted, field="price", local_value="19990", easycars_value="21990")
    resolved = EasyCarsVehicleFactory(dealership=dealership, title="Settled Audi")
    VehicleConflict.objects.create(vehicle=resolved, field="title", resolution="keep_local", resolved_at=timezone.now())
    url = reverse(f"{VEHICLES}:list")

    locked_html = client.get(url, {"sync_state": "locked"}).content.decode()
    conflicts_html = client.get(url, {"sync_state": "has_conflicts"}).content.decode()

    assert locked.title in locked_html
    assert conflicted.title not in locked_html
    assert conflicted.title in conflicts_html
    assert locked.title not in conflicts_html
    assert resolved.title not in conflicts_html


def test_vehicle_search_finds_by_make(client, editor, dealership):
    VehicleFactory(dealership=dealership, title="2019 Volvo XC60", make="Volvo", model="XC60")
    VehicleFactory(dealership=dealership, title="2018 Kia Rio", make="Kia", model="Rio")

    html = client.get(reverse(f"{VEHICLES}:list"), {"q": "Volvo"}).content.decode()

    assert "2019 Volvo XC60" in html
    assert "2018 Kia Rio" not in html


def test_vehicle_search_finds_a_synced_vehicle_by_stock_number(client, editor, dealership):
    EasyCarsVehicleFactory(dealership=dealership, title="Feed Triton", easycars_stock_number="ZX-4410")
    EasyCarsVehicleFactory(dealership=dealership, title="Feed Navara", easycars_stock_number="ZX-9999")

    html = client.get(reverse(f"{VEHICLES}:list"), {"q": "ZX-4410"}).content.decode()

    assert "Feed Triton" in html
    assert "Feed Navara" not in html


def test_lead_search_finds_by_easycars_lead_number(client, editor, dealership):
    LeadFactory(dealership=dealership, name="Numbered Nina", easycars_lead_number="LN-7070")
    LeadFactory(dealership=dealership, name="Other Oscar", easycars_lead_number="LN-1010")

    html = client.get(reverse(f"{LEADS}:list"), {"q": "LN-7070"}).content.decode()

    assert "Numbered Nina" in html
    assert "Other Oscar" not in html


def test_make_filter_offers_only_the_users_makes(client, editor, dealership):
    VehicleFactory(dealership=dealership, make="Toyota")
    VehicleFactory(dealership=DealershipFactory(), make="Lamborghini")

    html = client.get(reverse(f"{VEHICLES}:list")).content.decode()

    assert "Toyota" in html
    assert "Lamborghini" not in html


def test_add_vehicle_form_offers_only_the_editors_dealerships(client, editor, dealership):
    other = DealershipFactory(name="Rival Cars")

    html = client.get(reverse(f"{VEHICLES}:add")).content.decode()
    response = client.post(
        reverse(f"{VEHICLES}:add"),
        {"dealership": other.pk, "title": "Smuggled", "condition": "used", "status": "available", "features": "[]"},
    )

    assert "Harbour Motors" in html
    assert "Rival Cars" not in html
    assert response.status_code == 200  # the form is shown again with an error
    assert not Vehicle.objects.filter(title="Smuggled").exists()


def test_editor_adds_a_vehicle_to_their_dealership(client, editor, dealership):
    response = client.post(
        reverse(f"{VEHICLES}:add"),
        {
            "dealership": dealership.pk,
            "title": "2022 Toyota HiLux SR5",
            "make": "Toyota",
            "condition": "used",
            "status": "available",
            "stock_type": "A",
            "features": "[]",
            "images-TOTAL_FORMS": "0",
            "images-INITIAL_FORMS": "0",
            "images-MIN_NUM_FORMS": "0",
            "images-MAX_NUM_FORMS": "1000",
        },
    )

    assert response.status_code == 302, response.context["form"].errors if response.context else response
    assert Vehicle.objects.get(title="2022 Toyota HiLux SR5").dealership == dealership


def test_vehicle_inspect_shows_locks_conflicts_and_recent_changes(client, editor, dealership):
    vehicle = EasyCarsVehicleFactory(dealership=dealership, locked_fields=["price"])
    VehicleConflict.objects.create(vehicle=vehicle, field="price", local_value="18990.00", easycars_value="19990.00")
    FieldChange.objects.create(vehicle=vehicle, field="odometer", old_value=41000, new_value=41250)

    html = client.get(reverse(f"{VEHICLES}:inspect", args=[vehicle.pk])).content.decode()

    assert "Locked fields" in html
    assert "Price" in html
    assert "$18,990" in html
    assert "$19,990" in html
    assert "Keep local value" in html
    assert "Accept EasyCars value" in html
    assert "41000" in html
    assert "41250" in html
    assert reverse(f"{VEHICLES}:field_history", args=[vehicle.pk]) in html


def test_field_history_lists_changes_and_price_history(client, editor, dealership):
    vehicle = EasyCarsVehicleFactory(dealership=dealership)
    FieldChange.objects.create(vehicle=vehicle, field="price", old_value="24990.00", new_value="23990.00")
    FieldChange.objects.create(vehicle=vehicle, field="description", old_value="Old words", new_value="New words")
    url = reverse(f"{VEHICLES}:field_history", args=[vehicle.pk])

    everything = client.get(url).content.decode()
    prices = client.get(url, {"field": "price"}).content.decode()

    assert "$24,990" in everything
    assert "New words" in everything
    assert "$24,990" in prices
    assert "$23,990" in prices
    assert "New words" not in prices


def test_lead_list_shows_sync_state_numbers_and_last_error(client, editor, dealership):
    LeadFactory(
        dealership=dealership,
        name="Sent Sally",
        sync_state=Lead.SyncState.SENT,
        easycars_lead_number="LN-4411",
        easycars_customer_no="C-9001",
        last_synced_to_easycars=timezone.now() - datetime.timedelta(hours=2),
    )
    LeadFactory(
        dealership=dealership,
        name="Failed Fred",
        sync_state=Lead.SyncState.FAILED,
        sync_error="EasyCars rejected the lead: Email is invalid",
    )

    html = client.get(reverse(f"{LEADS}:list")).content.decode()

    assert "LN-4411" in html
    assert "C-9001" in html
    assert "Sent" in html
    assert "Failed" in html
    assert "Email is invalid" in html


def test_lead_list_filters_by_sync_state(client, editor, dealership):
    LeadFactory(dealership=dealership, name="Pending Pat", sync_state=Lead.SyncState.PENDING)
    LeadFactory(dealership=dealership, name="Failed Fred", sync_state=Lead.SyncState.FAILED)

    html = client.get(reverse(f"{LEADS}:list"), {"sync_state": "failed"}).content.decode()

    assert "Failed Fred" in html
    assert "Pending Pat" not in html


def test_lead_inspect_says_easycars_returns_no_lead_status(client, editor, dealership):
    lead = LeadFactory(dealership=dealership, sync_state=Lead.SyncState.FAILED, sync_error="Phone is required")

    html = client.get(reverse(f"{LEADS}:inspect", args=[lead.pk])).content.decode()

    assert "returns no LeadStatus" in html
    assert "Phone is required" in html
    assert reverse(f"{LEADS}:retry_sync", args=[lead.pk]) in html


def test_lead_form_rejects_a_vehicle_of_another_dealership(client, editor, dealership):
    foreign_vehicle = VehicleFactory(dealership=DealershipFactory())
    lead = LeadFactory(dealership=dealership)

    response = client.post(
        reverse(f"{LEADS}:edit", args=[lead.pk]),
        {
            "dealership": dealership.pk,
            "vehicle": foreign_vehicle.pk,
            "name": lead.name,
            "status": "new",
            "vehicle_interest": "buy",
        },
    )

    assert response.status_code == 200
    lead.refresh_from_db()
    assert lead.vehicle_id is None


def test_retry_sync_queues_a_failed_lead_and_the_worker_sends_it(
    client, editor, dealership, sandbox_settings, django_capture_on_commit_callbacks
):
    CredentialFactory(dealership=dealership)
    lead = LeadFactory(
        dealership=dealership,
        vehicle=EasyCarsVehicleFactory(dealership=dealership),
        name="Fixed Fiona",
        email="fiona@example.com",
        sync_state=Lead.SyncState.FAILED,
        sync_error="EasyCars rejected the lead: Email is invalid",
    )

    # The push is enqueued on commit (django-q2 runs it at once in the tests' sync mode).
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse(f"{LEADS}:retry_sync", args=[lead.pk]), follow=True)

    assert "queued to be sent to EasyCars again" in response.content.decode()
    lead.refresh_from_db()
    assert lead.sync_state == Lead.SyncState.SENT
    assert lead.easycars_lead_number
    assert lead.easycars_lead_number in client.get(reverse(f"{LEADS}:inspect", args=[lead.pk])).content.decode()
    entry = log_registry.get_logs_for_instance(lead).get(action="wagtail_easycars.lead.retry_sync")
    assert entry.user == editor


def test_retry_sync_of_a_lead_still_rejected_shows_the_new_reason(
    client, editor, dealership, sandbox_settings, django_capture_on_commit_callbacks
):
    CredentialFactory(dealership=dealership)
    lead = LeadFactory(dealership=dealership, vehicle=None, sync_state=Lead.SyncState.FAILED, sync_error="Old reason")

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse(f"{LEADS}:retry_sync", args=[lead.pk]))

    lead.refresh_from_db()
    assert lead.sync_state == Lead.SyncState.FAILED
    assert lead.sync_error != "Old reason"
    html = client.get(reverse(f"{LEADS}:inspect", args=[lead.pk])).content.decode()
    assert escape(lead.sync_error) in html


def test_retry_sync_asks_for_confirmation_showing_the_reason(client, editor, dealership):
    lead = LeadFactory(dealership=dealership, sync_state=Lead.SyncState.FAILED, sync_error="Mobile is invalid")

    html = client.get(reverse(f"{LEADS}:retry_sync", args=[lead.pk])).content.decode()

    assert "Yes, retry sync" in html
    assert "Mobile is invalid" in html
    lead.refresh_from_db()
    assert lead.sync_state == Lead.SyncState.FAILED


def test_retry_sync_refuses_a_lead_that_has_not_failed(client, editor, dealership):
    lead = LeadFactory(dealership=dealership, sync_state=Lead.SyncState.SENT, easycars_lead_number="LN-1")

    response = client.post(reverse(f"{LEADS}:retry_sync", args=[lead.pk]), follow=True)

    assert "only a failed lead can be retried" in response.content.decode()
    lead.refresh_from_db()
    assert lead.sync_state == Lead.SyncState.SENT


def test_a_lead_saved_before_credentials_existed_can_be_sent_once_they_do(
    client, editor, dealership, sandbox_settings, django_capture_on_commit_callbacks
):
    lead = LeadFactory(
        dealership=dealership, vehicle=EasyCarsVehicleFactory(dealership=dealership), email="early@example.com"
    )
    assert lead.sync_state == Lead.SyncState.NOT_APPLICABLE
    CredentialFactory(dealership=dealership)

    html = client.get(reverse(f"{LEADS}:inspect", args=[lead.pk])).content.decode()
    assert "has not been sent to EasyCars" in html
    assert "Send to EasyCars" in html
    confirm = client.get(reverse(f"{LEADS}:retry_sync", args=[lead.pk])).content.decode()
    assert "Yes, send it" in confirm
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse(f"{LEADS}:retry_sync", args=[lead.pk]), follow=True)

    assert "is queued to be sent to EasyCars;" in response.content.decode()
    lead.refresh_from_db()
    assert lead.sync_state == Lead.SyncState.SENT
    assert lead.easycars_lead_number
    entry = log_registry.get_logs_for_instance(lead).get(action="wagtail_easycars.lead.send")
    assert entry.user == editor


def test_sending_an_unsent_lead_without_credentials_says_to_add_them(client, editor, dealership):
    lead = LeadFactory(dealership=dealership)

    response = client.post(reverse(f"{LEADS}:retry_sync", args=[lead.pk]), follow=True)

    assert "no EasyCars credentials yet" in response.content.decode()
    lead.refresh_from_db()
    assert lead.sync_state == Lead.SyncState.NOT_APPLICABLE


def test_a_lead_from_easycars_is_never_offered_for_sending(client, editor, dealership):
    CredentialFactory(dealership=dealership)
    lead = LeadFactory(dealership=dealership, data_source=Lead.DataSource.EASYCARS, easycars_lead_number="LN-9")

    response = client.post(reverse(f"{LEADS}:retry_sync", args=[lead.pk]), follow=True)

    assert "only a failed lead can be retried" in response.content.decode()
    assert "Send to EasyCars" not in client.get(reverse(f"{LEADS}:inspect", args=[lead.pk])).content.decode()


def test_retry_sync_needs_change_permission(client, dealership):
    viewer = make_editor(dealership, permissions=("wagtailadmin.access_admin", "wagtail_easycars.view_lead"))
    client.force_login(viewer)
    lead = LeadFactory(dealership=dealership, sync_state=Lead.SyncState.FAILED)

    response = client.post(reverse(f"{LEADS}:retry_sync", args=[lead.pk]))

    assert response.status_code == 302  # Wagtail's permission-denied redirect to the dashboard
    lead.refresh_from_db()
    assert lead.sync_state == Lead.SyncState.FAILED


def test_superuser_edits_dealership_members_inline(client, dealership):
    client.force_login(SuperuserFactory())
    member = UserFactory(username="newhire")

    response = client.post(
        reverse(f"{DEALERSHIPS}:edit", args=[dealership.pk]),
        {
            "name": dealership.name,
            "slug": dealership.slug,
            "timezone": "Australia/Perth",
            "memberships-TOTAL_FORMS": "1",
            "memberships-INITIAL_FORMS": "0",
            "memberships-MIN_NUM_FORMS": "0",
            "memberships-MAX_NUM_FORMS": "1000",
            "memberships-0-user": member.pk,
            "memberships-0-role": "staff",
            "memberships-0-id": "",
            "memberships-0-ORDER": "1",
            "memberships-0-DELETE": "",
        },
    )

    assert response.status_code == 302
    dealership.refresh_from_db()
    assert dealership.timezone == "Australia/Perth"
    assert dealership.memberships.get().user == member


def test_dealerships_are_for_superusers_only(client, dealership):
    admin = make_editor(
        dealership,
        permissions=(
            "wagtailadmin.access_admin",
            "wagtail_easycars.change_dealership",
            "wagtail_easycars.view_dealership",
        ),
    )
    client.force_login(admin)

    assert client.get(reverse(f"{DEALERSHIPS}:list")).status_code in (302, 403)
    assert client.get(reverse(f"{DEALERSHIPS}:edit", args=[dealership.pk])).status_code in (302, 403)


def test_easycars_menu_group_lists_the_package_screens(client, editor):
    html = client.get(reverse("wagtailadmin_home")).content.decode()

    assert "EasyCars" in html
    assert reverse(f"{VEHICLES}:list") in html
    assert reverse(f"{LEADS}:list") in html
    assert reverse(f"{DEALERSHIPS}:list") not in html


def test_superuser_sees_dealerships_in_the_menu(client):
    client.force_login(SuperuserFactory())

    assert reverse(f"{DEALERSHIPS}:list") in client.get(reverse("wagtailadmin_home")).content.decode()


def test_credential_log_actions_have_readable_labels(client, dealership):
    from wagtail.log_actions import log, registry

    superuser = SuperuserFactory()
    log(
        dealership,
        "wagtail_easycars.credentials.set",
        user=superuser,
        data={"created": False, "changed_secrets": ["account_secret"], "tested": True},
    )
    entry = log_registry.get_logs_for_instance(dealership).get()

    assert dict(registry.get_choices())["wagtail_easycars.credentials.pause"] == "Pause EasyCars syncing"
    assert entry.message == "Changed the EasyCars credentials (Account Secret)"
    client.force_login(superuser)
    history = client.get(reverse(f"{DEALERSHIPS}:history", args=[dealership.pk])).content.decode()
    assert "Changed the EasyCars credentials (Account Secret)" in history


def test_member_with_one_dealership_is_not_offered_a_dealership_filter(client, editor):
    html = client.get(reverse(f"{LEADS}:list")).content.decode()

    assert 'name="dealership"' not in html


def test_member_of_two_dealerships_can_filter_by_dealership(client, dealership):
    second = DealershipFactory(name="Second Yard")
    user = make_editor(dealership, second)
    client.force_login(user)
    LeadFactory(dealership=dealership, name="Harbour lead")
    LeadFactory(dealership=second, name="Yard lead")

    html = client.get(reverse(f"{LEADS}:list"), {"dealership": second.pk}).content.decode()

    assert "Yard lead" in html
    assert "Harbour lead" not in html
