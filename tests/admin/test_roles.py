"""Roles: what a dealership admin, a dealership staff member and a superuser may do, dealership by dealership.

``MATRIX`` is the permission matrix of docs/admin-guide.md as a test: every admin URL of the
package (the ``wagtail_easycars_admin`` namespace, the snippets and their choosers, the bulk
deletes) with the least role it needs. ``test_the_matrix_covers_every_route`` fails for a URL
without an entry, so a new screen or endpoint has to take a place in the matrix.

The users have every Django permission of the package, so only their role stands in the way:
``both`` is an admin of Alpha and staff of Bravo, ``staff`` is staff of Alpha only.
"""

import json
import re
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.urls import get_resolver, reverse
from wagtail.models import Collection, GroupCollectionPermission

from wagtail_easycars.admin import access
from wagtail_easycars.models import EasyCarsCredential, Lead, PotentialDuplicate, SyncLog, Vehicle, VehicleConflict

from ..admin_support import grant
from ..factories import (
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
from ..showroom_fixtures import add_photos, make_image

pytestmark = pytest.mark.django_db

ADMIN_NS = "wagtail_easycars_admin"
VEHICLES = "wagtailsnippets_wagtail_easycars_vehicle"
LEADS = "wagtailsnippets_wagtail_easycars_lead"
DEALERSHIPS = "wagtailsnippets_wagtail_easycars_dealership"
CHOOSERS = {model: f"wagtailsnippetchoosers_wagtail_easycars_{model}" for model in ("vehicle", "lead", "dealership")}
CHECKED_NAMESPACES = (ADMIN_NS, VEHICLES, LEADS, DEALERSHIPS, *CHOOSERS.values())

#: Every permission of the package: a role has to be what refuses.
ALL_PERMISSIONS = (
    "wagtailadmin.access_admin",
    *(
        f"wagtail_easycars.{action}_{model}"
        for model in ("vehicle", "lead", "dealership")
        for action in ("add", "change", "delete", "view")
    ),
    "wagtail_easycars.view_sync_status",
    "wagtail_easycars.trigger_sync",
    "wagtail_easycars.manage_credentials",
)

STAFF, ADMIN, SUPERUSER = "staff", "admin", "superuser"
RANK = {STAFF: 1, ADMIN: 2, SUPERUSER: 3}

#: Bravo's credential metadata (and secrets): never in an answer to Bravo's staff.
BRAVO_ACCOUNT = "EC987654"
BRAVO_METADATA = ("…7654", '"7654"', BRAVO_ACCOUNT, "BRAVO-YARD-77", "bravo-keeper")
BRAVO_SECRETS = ("bravo-client-id-0000", "bravo-client-secret-1111", "bravo-account-secret-2222")
#: Alpha's, never in an answer to Alpha's staff.
ALPHA_METADATA = ("…5791", '"5791"', "EC135791", "ALPHA-YARD-11", "alpha-keeper")
ALPHA_SECRETS = ("alpha-client-id-0000", "alpha-client-secret-1111", "alpha-account-secret-2222")


# The matrix ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One URL and method, the least role it needs, and how to call it about one dealership's world."""

    route: str  # namespace:name (or a label for URLs outside the package's namespaces)
    least: str | None  # STAFF, ADMIN, SUPERUSER; None: not offered to anyone (404)
    url: Callable  # (world) -> URL
    method: str = "get"
    data: dict = field(default_factory=dict)
    json: bool = False

    @property
    def label(self):
        return f"{self.method.upper()} {self.route}"


def about(name, *args):
    """A URL of the EasyCars screens about ``world``'s dealership (``args`` name its objects)."""
    return lambda w: reverse(f"{ADMIN_NS}:{name}", args=[arg(w) for arg in args]) + f"?dealership={w.dealership.slug}"


def of(namespace, name, *args, query=""):
    """A snippet URL, naming ``world``'s objects through ``args`` (``query`` may use ``{w}``)."""
    return lambda w: reverse(f"{namespace}:{name}", args=[arg(w) for arg in args]) + query.format(w=w)


def screen(name, least, *args, method="get", data=None):
    return Entry(f"{ADMIN_NS}:{name}", least, about(name, *args), method, data or {})


def api(name, least, *args, method="get", data=None):
    return Entry(f"{ADMIN_NS}:{name}", least, about(name, *args), method, data or {}, json=True)


def snippet(namespace, name, least, *args, method="get", data=None, query=""):
    return Entry(f"{namespace}:{name}", least, of(namespace, name, *args, query=query), method, data or {})


def bulk_delete(model, least):
    return Entry(
        f"bulk delete {model}",
        least,
        lambda w: reverse("wagtail_bulk_action", args=["wagtail_easycars", model, "delete"]) + f"?id={w.pk[model]}",
        method="post",
    )


def vehicle(w):
    return w.vehicle.pk


def lead(w):
    return w.lead.pk


def dealership(w):
    return w.dealership.pk


DEALERSHIP_FILTER = "?dealership={w.dealership.pk}"
#: Not valid for saving or testing: whoever gets past the role check gets a form error, no EasyCars call.
INVALID_CREDENTIALS = {"environment": "not-an-environment", "action": "test"}

MATRIX = [
    # Sync status and history: staff.
    screen("dashboard", STAFF),
    screen("history", STAFF),
    screen("history_results", STAFF),
    screen("history_detail", STAFF, lambda w: w.log.pk),
    api("api_sync_status", STAFF),
    api("api_sync_logs", STAFF),
    api("api_log_detail", STAFF, lambda w: w.log.pk),
    # Manual syncs: staff (harmless, rate-limited, the same run the schedule starts).
    screen("trigger_stock", STAFF, method="post"),
    screen("trigger_leads", STAFF, method="post"),
    api("api_sync_stock", STAFF, method="post"),
    api("api_sync_leads", STAFF, method="post"),
    # The credentials and the integration's switches: admins.
    screen("settings", ADMIN),
    screen("settings", ADMIN, method="post", data=INVALID_CREDENTIALS),
    screen("settings_pause", ADMIN, method="post"),
    screen("settings_resume", ADMIN, method="post"),
    screen("settings_delete", ADMIN),
    screen("settings_delete", ADMIN, method="post"),
    api("api_credentials", ADMIN),
    api("api_credentials", ADMIN, method="post", data=INVALID_CREDENTIALS),
    api("api_credentials_test", ADMIN, method="post", data=INVALID_CREDENTIALS),
    api("api_credential_detail", ADMIN, lambda w: w.credential.pk, method="delete"),
    # Vehicles, conflicts and duplicates: staff (with the vehicle model permissions).
    snippet(VEHICLES, "list", STAFF, query=DEALERSHIP_FILTER),
    snippet(VEHICLES, "list_results", STAFF, query=DEALERSHIP_FILTER),
    snippet(VEHICLES, "add", STAFF),
    snippet(VEHICLES, "edit", STAFF, vehicle),
    snippet(VEHICLES, "delete", STAFF, vehicle),
    snippet(VEHICLES, "delete", STAFF, vehicle, method="post"),
    snippet(VEHICLES, "inspect", STAFF, vehicle),
    snippet(VEHICLES, "history", STAFF, vehicle),
    snippet(VEHICLES, "history_results", STAFF, vehicle),
    snippet(VEHICLES, "usage", STAFF, vehicle),
    snippet(VEHICLES, "field_history", STAFF, vehicle),
    snippet(VEHICLES, "conflicts", STAFF, query=DEALERSHIP_FILTER),
    snippet(VEHICLES, "conflicts_results", STAFF, query=DEALERSHIP_FILTER),
    snippet(
        VEHICLES, "conflict_resolve", STAFF, lambda w: w.conflict.pk, method="post", data={"resolution": "keep_local"}
    ),
    snippet(VEHICLES, "duplicates", STAFF, query=DEALERSHIP_FILTER),
    snippet(VEHICLES, "duplicates_results", STAFF, query=DEALERSHIP_FILTER),
    snippet(
        VEHICLES,
        "duplicate_resolve",
        STAFF,
        lambda w: w.duplicate.pk,
        method="post",
        data={"resolution": "kept_separate"},
    ),
    snippet(VEHICLES, "unlock_field", STAFF, vehicle, method="post", data={"field": "odometer"}),
    bulk_delete("vehicle", STAFF),
    # Leads: staff (with the lead model permissions).
    snippet(LEADS, "list", STAFF, query=DEALERSHIP_FILTER),
    snippet(LEADS, "list_results", STAFF, query=DEALERSHIP_FILTER),
    snippet(LEADS, "add", STAFF),
    snippet(LEADS, "edit", STAFF, lead),
    snippet(LEADS, "delete", STAFF, lead),
    snippet(LEADS, "delete", STAFF, lead, method="post"),
    snippet(LEADS, "inspect", STAFF, lead),
    snippet(LEADS, "history", STAFF, lead),
    snippet(LEADS, "history_results", STAFF, lead),
    snippet(LEADS, "usage", STAFF, lead),
    snippet(LEADS, "retry_sync", STAFF, lead),
    bulk_delete("lead", STAFF),
    # Choosers: the user's own objects, whatever the role; they create nothing.
    *(
        entry
        for model, pick in (("vehicle", vehicle), ("lead", lead), ("dealership", dealership))
        for entry in (
            snippet(CHOOSERS[model], "choose", STAFF),
            snippet(CHOOSERS[model], "choose_results", STAFF),
            snippet(CHOOSERS[model], "chosen", STAFF, pick),
            snippet(CHOOSERS[model], "chosen_multiple", STAFF, query=f"?id={{w.pk[{model}]}}"),
            snippet(CHOOSERS[model], "create", None),
            snippet(CHOOSERS[model], "create", None, method="post"),
        )
    ),
    # Dealerships and their members: superusers.
    snippet(DEALERSHIPS, "list", SUPERUSER),
    snippet(DEALERSHIPS, "list_results", SUPERUSER),
    snippet(DEALERSHIPS, "add", SUPERUSER),
    snippet(DEALERSHIPS, "edit", SUPERUSER, dealership),
    snippet(DEALERSHIPS, "delete", SUPERUSER, dealership),
    snippet(DEALERSHIPS, "delete", SUPERUSER, dealership, method="post"),
    snippet(DEALERSHIPS, "inspect", SUPERUSER, dealership),
    snippet(DEALERSHIPS, "history", SUPERUSER, dealership),
    snippet(DEALERSHIPS, "history_results", SUPERUSER, dealership),
    snippet(DEALERSHIPS, "usage", SUPERUSER, dealership),
    bulk_delete("dealership", SUPERUSER),
]

#: (user, world) -> the user's role there.
CASES = {
    ("both", "alpha"): ADMIN,
    ("both", "bravo"): STAFF,
    ("staff", "alpha"): STAFF,
    ("superuser", "bravo"): SUPERUSER,
}


# The worlds ----------------------------------------------------------------------------------


def make_world(name, slug, *, account, yard, keeper, secrets):
    """A dealership with credentials, a run, vehicles with a conflict and a duplicate, and a failed lead."""
    dealership = DealershipFactory(name=name, slug=slug)
    client_id, client_secret, account_secret = secrets
    credential = CredentialFactory(
        dealership=dealership,
        client_id=client_id,
        client_secret=client_secret,
        account_number=account,
        account_secret=account_secret,
        yard_code=yard,
        updated_by=UserFactory(username=keeper),
    )
    vehicle = EasyCarsVehicleFactory(dealership=dealership, title=f"{name} Ute", locked_fields=["price", "odometer"])
    manual = VehicleFactory(dealership=dealership, title=f"{name} Ute (manual)")
    lead = LeadFactory(dealership=dealership, vehicle=vehicle, sync_state=Lead.SyncState.FAILED, sync_error="refused")
    log = SyncLogFactory(
        dealership=dealership,
        request_payload={
            "endpoint": "StockService/GetAdvertisementStocks",
            "AccountNumber": credential.masked_account_number,
            "AccountSecret": "***",
            "YardCode": yard,
        },
    )
    return SimpleNamespace(
        dealership=dealership,
        credential=credential,
        vehicle=vehicle,
        lead=lead,
        log=log,
        conflict=VehicleConflict.objects.create(vehicle=vehicle, field="price", local_value="1", easycars_value="2"),
        duplicate=PotentialDuplicate.objects.create(
            dealership=dealership, manual_vehicle=manual, easycars_vehicle=vehicle, reason="vin"
        ),
        pk={"vehicle": vehicle.pk, "lead": lead.pk, "dealership": dealership.pk},
    )


@pytest.fixture
def worlds():
    return {
        "alpha": make_world(
            "Alpha Autos",
            "alpha",
            account="EC135791",
            yard="ALPHA-YARD-11",
            keeper="alpha-keeper",
            secrets=ALPHA_SECRETS,
        ),
        "bravo": make_world(
            "Bravo Motors",
            "bravo",
            account=BRAVO_ACCOUNT,
            yard="BRAVO-YARD-77",
            keeper="bravo-keeper",
            secrets=BRAVO_SECRETS,
        ),
    }


def member(memberships):
    """A user with every permission of the package and ``memberships`` ({dealership: role})."""
    user = UserFactory()
    for dealership_, role in memberships.items():
        MembershipFactory(user=user, dealership=dealership_, role=role)
    return grant(user, *ALL_PERMISSIONS)


@pytest.fixture
def users(worlds):
    alpha, bravo = worlds["alpha"].dealership, worlds["bravo"].dealership
    return {
        "both": member({alpha: ADMIN, bravo: STAFF}),
        "staff": member({alpha: STAFF}),
        "superuser": SuperuserFactory(),
    }


def call(client, entry, world):
    url = entry.url(world)
    if entry.method == "get":
        return client.get(url)
    if entry.json:
        return getattr(client, entry.method)(url, json.dumps(entry.data), content_type="application/json")
    return getattr(client, entry.method)(url, entry.data)


def body_of(response):
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode("utf-8", "replace")


def denied_by_wagtail(response):
    """Wagtail's answer to a PermissionDenied in an admin view: back to the dashboard with a message."""
    return response.status_code == 302 and response.url.rstrip("/") == reverse("wagtailadmin_home").rstrip("/")


def assert_allowed(response, label):
    assert response.status_code < 500, f"{label}: answered {response.status_code}"
    refused = response.status_code in (403, 404) or denied_by_wagtail(response)
    assert not refused, f"{label}: refused ({response.status_code}) though the role allows it"


def assert_refused(response, entry, label):
    if entry.json:
        assert (response.status_code, response.json().get("code")) == (403, "permission_denied"), label
    else:
        assert response.status_code == 403 or denied_by_wagtail(response), (
            f"{label}: answered {response.status_code} though the role does not allow it"
        )


def snapshot(world):
    """What a refused request must leave as it was."""
    credential = EasyCarsCredential.objects.filter(pk=world.credential.pk).values("is_active", "updated_at").first()
    return {
        "credential": credential,
        "runs": SyncLog.objects.filter(dealership=world.dealership).count(),
        "vehicles": sorted(Vehicle.objects.filter(dealership=world.dealership).values_list("pk", "locked_fields")),
        "leads": sorted(Lead.objects.filter(dealership=world.dealership).values_list("pk", "sync_state")),
        "conflict": VehicleConflict.objects.filter(pk=world.conflict.pk).values_list("resolved_at").first(),
        "duplicate": PotentialDuplicate.objects.filter(pk=world.duplicate.pk).values_list("resolution").first(),
        "dealership": type(world.dealership).objects.filter(pk=world.dealership.pk).exists(),
    }


# The matrix, route by route ------------------------------------------------------------------


@contextmanager
def rolled_back():
    """Whatever the block writes is undone, so each case starts from the same two worlds."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


@pytest.mark.parametrize("entry", MATRIX, ids=lambda entry: entry.label)
def test_the_matrix(client, worlds, users, entry):
    for (user_name, world_name), role in CASES.items():
        with rolled_back():
            client.force_login(users[user_name])
            check_case(client, entry, worlds[world_name], role, f"{entry.label} for {user_name}@{world_name}")


def check_case(client, entry, world, role, label):
    """``entry`` about ``world`` for a user with ``role`` there: allowed, refused or missing as the matrix says."""
    before = snapshot(world)

    response = call(client, entry, world)

    if entry.least is None:
        assert response.status_code == 404, f"{label}: not offered, yet answered {response.status_code}"
    elif RANK[role] >= RANK[entry.least]:
        assert_allowed(response, label)
    else:
        assert_refused(response, entry, label)
        assert snapshot(world) == before, f"{label}: refused, yet changed the dealership's data"
    text = body_of(response)
    for secret in (*ALPHA_SECRETS, *BRAVO_SECRETS):
        assert secret not in text, f"{label}: disclosed a secret"
    if role == STAFF:  # the credential metadata is the admins'
        for marker in ALPHA_METADATA if world.dealership.slug == "alpha" else BRAVO_METADATA:
            assert marker not in text, f"{label}: disclosed {marker!r} to staff"


def test_the_matrix_covers_every_route():
    covered = {entry.route for entry in MATRIX}
    resolver = get_resolver()
    missing = []
    for namespace in CHECKED_NAMESPACES:
        _prefix, ns_resolver = resolver.namespace_dict[namespace]
        missing += [f"{namespace}:{name}" for name in ns_resolver.reverse_dict if isinstance(name, str)]
    missing = sorted(set(missing) - covered)
    assert not missing, f"give these URLs a place in MATRIX (and in docs/admin-guide.md): {missing}"


# What each role sees -------------------------------------------------------------------------


def login(client, user):
    client.force_login(user)
    return client


def test_staff_cannot_read_test_pause_resume_or_delete_credentials(admin_of):
    """Issue 12, item 4 as reported: a staff member could do all of these."""
    credential = CredentialFactory()
    staff = admin_of(credential.dealership, role="staff")
    api_url = reverse(f"{ADMIN_NS}:api_credentials")

    answers = [
        staff.get(api_url),
        staff.post(reverse(f"{ADMIN_NS}:api_credentials_test"), {}),
        staff.delete(reverse(f"{ADMIN_NS}:api_credential_detail", args=[credential.pk])),
    ]
    screens = [
        staff.get(reverse(f"{ADMIN_NS}:settings")),
        staff.post(reverse(f"{ADMIN_NS}:settings_pause")),
        staff.post(reverse(f"{ADMIN_NS}:settings_resume")),
        staff.post(reverse(f"{ADMIN_NS}:settings_delete")),
    ]

    assert [(answer.status_code, answer.json()["code"]) for answer in answers] == [(403, "permission_denied")] * 3
    assert all(denied_by_wagtail(response) for response in screens)
    assert EasyCarsCredential.objects.get(pk=credential.pk).is_active


def test_staff_of_bravo_cannot_pick_bravo_on_the_settings_screen(client, worlds, users):
    both = login(client, users["both"])

    settings_page = body_of(both.get(reverse(f"{ADMIN_NS}:settings")))
    dashboard = body_of(both.get(reverse(f"{ADMIN_NS}:dashboard")))

    assert 'value="bravo"' not in settings_page  # no switcher: Alpha is the only dealership it may show
    assert "Alpha Autos" in settings_page
    assert 'value="bravo"' in dashboard
    assert 'value="alpha"' in dashboard


def test_a_json_refusal_says_it_is_the_role(client, worlds, users):
    both = login(client, users["both"])

    response = both.get(reverse(f"{ADMIN_NS}:api_credentials") + "?dealership=bravo")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert "Your role at Bravo Motors does not allow this" in response.json()["message"]


def test_a_dealership_not_theirs_is_still_a_404(client, worlds, users):
    staff = login(client, users["staff"])

    screen_ = staff.get(reverse(f"{ADMIN_NS}:dashboard") + "?dealership=bravo")
    endpoint = staff.get(reverse(f"{ADMIN_NS}:api_sync_status") + "?dealership=bravo")

    assert screen_.status_code == 404
    assert (endpoint.status_code, endpoint.json()["code"]) == (404, "not_found")


def test_bravo_remembered_from_the_dashboard_does_not_carry_over_to_alphas_settings(client, worlds, users):
    both = login(client, users["both"])
    both.get(reverse(f"{ADMIN_NS}:dashboard") + "?dealership=bravo")

    metadata = both.get(reverse(f"{ADMIN_NS}:api_credentials")).json()
    both.post(reverse(f"{ADMIN_NS}:settings_pause"))

    assert metadata["dealership_id"] == worlds["alpha"].dealership.pk
    assert not EasyCarsCredential.objects.get(dealership=worlds["alpha"].dealership).is_active
    assert EasyCarsCredential.objects.get(dealership=worlds["bravo"].dealership).is_active


def test_admin_of_alpha_pauses_alpha_but_not_bravo(client, worlds, users):
    both = login(client, users["both"])

    alpha = both.post(reverse(f"{ADMIN_NS}:settings_pause") + "?dealership=alpha")
    bravo = both.post(reverse(f"{ADMIN_NS}:settings_pause") + "?dealership=bravo")

    assert alpha.status_code == 302
    assert alpha.url.startswith(reverse(f"{ADMIN_NS}:settings"))
    assert denied_by_wagtail(bravo)
    assert not EasyCarsCredential.objects.get(dealership=worlds["alpha"].dealership).is_active
    assert EasyCarsCredential.objects.get(dealership=worlds["bravo"].dealership).is_active


def test_a_screen_refused_for_the_role_says_why(client, worlds, users):
    both = login(client, users["both"])

    response = both.get(reverse(f"{ADMIN_NS}:settings") + "?dealership=bravo", follow=True)

    assert "Your role at Bravo Motors does not allow this: ask one of its admins." in body_of(response)


def test_staff_dashboard_has_sync_buttons_but_no_settings(client, worlds, users):
    staff = login(client, users["staff"])

    html = body_of(staff.get(reverse(f"{ADMIN_NS}:dashboard")))

    assert "Sync stock now" in html
    assert reverse(f"{ADMIN_NS}:settings") not in html
    assert "Full sync history" in html


def test_admin_dashboard_links_to_settings_only_where_they_are_admin(client, worlds, users):
    both = login(client, users["both"])
    settings_url = reverse(f"{ADMIN_NS}:settings")

    alpha = body_of(both.get(reverse(f"{ADMIN_NS}:dashboard") + "?dealership=alpha"))
    bravo = body_of(both.get(reverse(f"{ADMIN_NS}:dashboard") + "?dealership=bravo"))

    # The menu links to Settings (they are an admin of Alpha); the dashboard only about Alpha.
    assert f"{settings_url}?dealership=alpha" in alpha
    assert f"{settings_url}?dealership=bravo" not in bravo
    assert "Sync stock now" in bravo


def menu_item_names(request):
    from wagtail.admin.menu import admin_menu

    names = set()
    for item in admin_menu.menu_items_for_request(request):
        submenu = getattr(item, "menu", None)
        names.update(sub.name for sub in (submenu.menu_items_for_request(request) if submenu else [item]))
    return names


def test_the_menu_offers_settings_to_admins_of_a_dealership_only(client, worlds, users):
    staff_menu = menu_item_names(login(client, users["staff"]).get(reverse(f"{ADMIN_NS}:dashboard")).wsgi_request)
    both_menu = menu_item_names(login(client, users["both"]).get(reverse(f"{ADMIN_NS}:dashboard")).wsgi_request)

    assert {"easycars-sync-dashboard", "easycars-sync-history"} <= staff_menu
    assert "easycars-settings" not in staff_menu
    assert "easycars-settings" in both_menu


def test_a_runs_request_shows_the_account_only_to_who_manages_the_credentials(client, worlds, users):
    both = login(client, users["both"])
    alpha_log, bravo_log = worlds["alpha"].log, worlds["bravo"].log

    alpha = body_of(both.get(reverse(f"{ADMIN_NS}:history_detail", args=[alpha_log.pk])))
    bravo = body_of(both.get(reverse(f"{ADMIN_NS}:history_detail", args=[bravo_log.pk])))
    bravo_json = both.get(reverse(f"{ADMIN_NS}:api_log_detail", args=[bravo_log.pk])).json()

    assert "…5791" in alpha
    assert "ALPHA-YARD-11" in alpha
    assert "…7654" not in bravo
    assert "BRAVO-YARD-77" not in bravo
    assert "StockService/GetAdvertisementStocks" in bravo
    assert bravo_json["request_payload"]["AccountNumber"] == "***"
    assert bravo_json["request_payload"]["YardCode"] == "***"


def test_superuser_manages_every_dealership(client, worlds, users):
    superuser = login(client, users["superuser"])

    response = superuser.get(reverse(f"{ADMIN_NS}:settings") + "?dealership=bravo")
    superuser.post(reverse(f"{ADMIN_NS}:settings_pause") + "?dealership=bravo")

    assert "…7654" in body_of(response)
    assert not EasyCarsCredential.objects.get(dealership=worlds["bravo"].dealership).is_active


def test_role_in_and_the_dealerships_for_each_action(worlds, users):
    alpha, bravo = worlds["alpha"].dealership, worlds["bravo"].dealership
    both, staff, superuser = users["both"], users["staff"], users["superuser"]

    assert (access.role_in(both, alpha), access.role_in(both, bravo)) == ("admin", "staff")
    assert (access.role_in(staff, bravo), access.role_in(superuser, bravo)) == (None, "admin")
    assert list(access.dealerships_for(both, "manage_credentials")) == [alpha]
    assert list(access.dealerships_for(both, "trigger_sync")) == [alpha, bravo]
    assert list(access.dealerships_for(staff, "manage_credentials")) == []
    assert list(access.dealerships_for(superuser, "manage_credentials")) == [alpha, bravo]


def test_a_role_never_grants_a_missing_django_permission(worlds):
    alpha = worlds["alpha"].dealership
    admin_without_credentials = UserFactory()
    MembershipFactory(user=admin_without_credentials, dealership=alpha, role=ADMIN)
    grant(admin_without_credentials, "wagtailadmin.access_admin", "wagtail_easycars.view_sync_status")

    assert not access.can(admin_without_credentials, "manage_credentials", alpha)
    assert not access.can(admin_without_credentials, "trigger_sync", alpha)
    assert access.can(admin_without_credentials, "view_sync_status", alpha)


# Choosers ------------------------------------------------------------------------------------


@pytest.fixture
def chooser_world():
    """Alpha with 30 Toyotas and a Mazda, Bravo with Toyotas too; a member of Alpha only."""
    alpha = DealershipFactory(name="Alpha Autos", slug="alpha")
    bravo = DealershipFactory(name="Bravo Motors", slug="bravo")
    for n in range(30):
        VehicleFactory(dealership=alpha, make="Toyota", title=f"Alpha Toyota {n:02d}")
    VehicleFactory(dealership=alpha, make="Mazda", title="Alpha Mazda")
    bravo_toyota = VehicleFactory(dealership=bravo, make="Toyota", title="Bravo Toyota")
    LeadFactory(dealership=alpha, name="Alpha Tom")
    bravo_lead = LeadFactory(dealership=bravo, name="Bravo Tom")
    return SimpleNamespace(
        alpha=alpha, bravo=bravo, bravo_toyota=bravo_toyota, bravo_lead=bravo_lead, user=member({alpha: STAFF})
    )


def chooser_url(model, name, *args):
    return reverse(f"{CHOOSERS[model]}:{name}", args=args)


def chooser_html(response):
    """The modal's HTML (``choose`` answers a modal workflow step, ``choose_results`` the listing itself)."""
    assert response.status_code == 200, response.status_code
    if response["Content-Type"].startswith("application/json"):
        return json.loads(response.content)["html"]
    return response.content.decode()


@pytest.mark.parametrize("name", ["choose", "choose_results"])
def test_vehicle_chooser_search_answers_with_the_users_vehicles_only(client, chooser_world, name):
    login(client, chooser_world.user)

    html = chooser_html(client.get(chooser_url("vehicle", name), {"q": "toyota"}))

    assert "Alpha Toyota 29" in html  # the newest first
    assert "Alpha Mazda" not in html
    assert "Bravo Toyota" not in html


def test_lead_chooser_search_answers_with_the_users_leads_only(client, chooser_world):
    login(client, chooser_world.user)

    html = chooser_html(client.get(chooser_url("lead", "choose_results"), {"q": "tom"}))

    assert "Alpha Tom" in html
    assert "Bravo Tom" not in html


def test_vehicle_chooser_pages_through_the_users_vehicles_only(client, chooser_world):
    login(client, chooser_world.user)
    url = chooser_url("vehicle", "choose_results")
    pages = []
    for number in range(1, 10):
        response = client.get(url, {"q": "toyota", "p": number})
        if response.status_code == 404:  # past the last page
            break
        pages.append(chooser_html(response))

    assert len(pages) > 1
    assert set(re.findall(r"Alpha Toyota \d\d", "".join(pages))) == {f"Alpha Toyota {n:02d}" for n in range(30)}
    assert not any("Bravo Toyota" in page for page in pages)


def test_vehicle_chooser_filters_by_the_users_dealerships(client, chooser_world):
    user = chooser_world.user
    second = DealershipFactory(name="Charlie Cars", slug="charlie")
    MembershipFactory(user=user, dealership=second, role=STAFF)
    VehicleFactory(dealership=second, make="Toyota", title="Charlie Toyota")
    login(client, user)
    url = chooser_url("vehicle", "choose_results")

    charlie = chooser_html(client.get(url, {"q": "toyota", "dealership": second.pk}))
    everyone = chooser_html(client.get(url, {"q": "toyota"}))
    bravo = chooser_html(client.get(url, {"dealership": chooser_world.bravo.pk}))

    assert "Charlie Toyota" in charlie
    assert "Alpha Toyota" not in charlie
    assert "Charlie Toyota" in everyone
    assert "Alpha Toyota" in everyone
    assert "Bravo Toyota" not in bravo
    assert "Alpha Toyota" not in bravo


def test_the_dealership_filter_is_offered_only_to_members_of_several(client, chooser_world):
    login(client, chooser_world.user)

    html = chooser_html(client.get(chooser_url("vehicle", "choose")))

    assert 'name="q"' in html
    assert 'name="dealership"' not in html


@pytest.mark.parametrize("model", ["vehicle", "lead"])
def test_choosing_another_dealerships_object_by_id_is_a_404(client, chooser_world, model):
    login(client, chooser_world.user)
    theirs = chooser_world.bravo_toyota if model == "vehicle" else chooser_world.bravo_lead

    response = client.get(chooser_url(model, "chosen", theirs.pk))

    assert response.status_code == 404


# The photo inline ----------------------------------------------------------------------------


def vehicle_form_data(vehicle, image_ids):
    data = {
        "dealership": vehicle.dealership_id,
        "title": vehicle.title,
        "condition": vehicle.condition,
        "status": vehicle.status,
        "stock_type": "A",
        "features": "[]",
        "images-TOTAL_FORMS": str(len(image_ids)),
        "images-INITIAL_FORMS": "0",
        "images-MIN_NUM_FORMS": "0",
        "images-MAX_NUM_FORMS": "1000",
    }
    for n, image_id in enumerate(image_ids):
        data.update({f"images-{n}-image": image_id, f"images-{n}-ORDER": n + 1, f"images-{n}-alt_text": ""})
    return data


def may_choose_images(user):
    group = Group.objects.create(name=f"Images of {user.pk}")
    GroupCollectionPermission.objects.create(
        group=group,
        collection=Collection.get_first_root_node(),
        permission=Permission.objects.get(content_type__app_label="wagtailimages", codename="choose_image"),
    )
    user.groups.add(group)
    return user


@pytest.fixture
def gallery():
    alpha, bravo = DealershipFactory(name="Alpha Autos"), DealershipFactory(name="Bravo Motors")
    [bravo_photo] = add_photos(EasyCarsVehicleFactory(dealership=bravo))
    return SimpleNamespace(
        alpha=alpha,
        bravo=bravo,
        vehicle=VehicleFactory(dealership=alpha, title="Alpha Hatch"),
        bravo_photo=bravo_photo.image,
        library_image=make_image("site-banner"),
    )


def edit_vehicle(client, vehicle, image_ids):
    return client.post(reverse(f"{VEHICLES}:edit", args=[vehicle.pk]), vehicle_form_data(vehicle, image_ids))


def photo_errors(response):
    assert response.status_code == 200, "the form should be shown again with an error"
    return [str(error) for form in response.context["form"].formsets["images"].forms for error in form.errors.values()]


def test_photo_inline_refuses_another_dealerships_photo(client, gallery):
    login(client, may_choose_images(member({gallery.alpha: STAFF})))

    response = edit_vehicle(client, gallery.vehicle, [gallery.bravo_photo.pk])

    assert any("not available to it" in error for error in photo_errors(response))
    assert not gallery.vehicle.images.exists()


def test_photo_inline_refuses_bravos_photo_even_to_a_member_of_both(client, gallery):
    login(client, may_choose_images(member({gallery.alpha: ADMIN, gallery.bravo: ADMIN})))

    response = edit_vehicle(client, gallery.vehicle, [gallery.bravo_photo.pk])

    assert any("not available to it" in error for error in photo_errors(response))


def test_photo_inline_refuses_an_image_the_user_may_not_choose(client, gallery):
    login(client, member({gallery.alpha: STAFF}))  # no image permissions at all

    response = edit_vehicle(client, gallery.vehicle, [gallery.library_image.pk])

    assert any("not available to it" in error for error in photo_errors(response))


def test_photo_inline_takes_a_library_image_and_keeps_the_vehicles_own_photos(client, gallery):
    [own] = add_photos(gallery.vehicle)
    login(client, may_choose_images(member({gallery.alpha: STAFF})))

    response = edit_vehicle(client, gallery.vehicle, [own.image.pk, gallery.library_image.pk])

    assert response.status_code == 302, photo_errors(response)
    assert set(gallery.vehicle.images.values_list("image_id", flat=True)) == {own.image.pk, gallery.library_image.pk}


def test_photo_inline_keeps_the_vehicles_own_photos_without_image_permissions(client, gallery):
    [own] = add_photos(gallery.vehicle)
    login(client, member({gallery.alpha: STAFF}))

    response = edit_vehicle(client, gallery.vehicle, [own.image.pk])

    assert response.status_code == 302, photo_errors(response)


def test_a_vehicle_moved_to_another_of_the_users_dealerships_keeps_its_own_photos(client, gallery):
    [own] = add_photos(gallery.vehicle)
    login(client, member({gallery.alpha: STAFF, gallery.bravo: STAFF}))
    data = {**vehicle_form_data(gallery.vehicle, [own.image.pk]), "dealership": gallery.bravo.pk}

    response = client.post(reverse(f"{VEHICLES}:edit", args=[gallery.vehicle.pk]), data)

    assert response.status_code == 302, photo_errors(response)
    assert Vehicle.objects.get(pk=gallery.vehicle.pk).dealership == gallery.bravo


def test_superuser_cannot_put_bravos_photo_on_alphas_vehicle_either(client, gallery):
    login(client, SuperuserFactory())

    response = edit_vehicle(client, gallery.vehicle, [gallery.bravo_photo.pk])

    assert any("not available to it" in error for error in photo_errors(response))
