"""Dealership isolation: a member of dealership A reaches nothing of dealership B by URL.

The walk is a list of probes, one per admin URL of the package. To cover a new screen, add a
``Probe`` to ``OBJECT_PROBES`` (URLs naming one of B's objects: must answer 403/404 or Wagtail's
permission-denied redirect) or to ``LISTING_PROBES`` (URLs of the member's own listings: must
not show B's data), and its namespace to ``CHECKED_NAMESPACES`` so the completeness test keeps
the walk honest.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from django.urls import get_resolver, reverse
from wagtail.log_actions import log

from wagtail_easycars.models import FieldChange, Lead, PotentialDuplicate, Vehicle, VehicleConflict

from ..admin_support import make_editor
from ..factories import (
    CredentialFactory,
    DealershipFactory,
    EasyCarsVehicleFactory,
    LeadFactory,
    SuperuserFactory,
    VehicleFactory,
)

pytestmark = pytest.mark.django_db

VEHICLES = "wagtailsnippets_wagtail_easycars_vehicle"
LEADS = "wagtailsnippets_wagtail_easycars_lead"
DEALERSHIPS = "wagtailsnippets_wagtail_easycars_dealership"
CHOOSERS = "wagtailsnippetchoosers_wagtail_easycars_{model}"

#: Every permission on the package's snippets: only membership stands between A's member and B's data.
ALL_PERMISSIONS = (
    "wagtailadmin.access_admin",
    *(
        f"wagtail_easycars.{action}_{model}"
        for model in ("vehicle", "lead", "dealership")
        for action in ("add", "change", "delete", "view")
    ),
    "wagtail_easycars.manage_credentials",
    "wagtail_easycars.view_sync_status",
)

#: Text that only B's objects contain: none of it may appear in any answer to A's member.
B_MARKERS = ("Bravo Motors", "Bravo Ute", "BRAVO-STOCK-1", "BRAVOVIN", "Bravo Buyer", "bravo-secret-note")


@dataclass
class Probe:
    name: str
    url: Callable  # (b) -> str, where b holds dealership B's objects
    methods: tuple = ("get", "post")
    data: dict = field(default_factory=dict)
    #: Route names (namespace:name) this probe covers, for the completeness test.
    routes: tuple = ()


def _route(namespace, name):
    return f"{namespace}:{name}"


def _vehicle_probe(view, pk=lambda b: b.vehicle.pk, **kwargs):
    return Probe(
        f"vehicle {view}",
        lambda b: reverse(f"{VEHICLES}:{view}", args=[pk(b)]),
        routes=(_route(VEHICLES, view),),
        **kwargs,
    )


def _lead_probe(view, **kwargs):
    return Probe(
        f"lead {view}",
        lambda b: reverse(f"{LEADS}:{view}", args=[b.lead.pk]),
        routes=(_route(LEADS, view),),
        **kwargs,
    )


def _dealership_probe(view):
    return Probe(
        f"dealership {view}",
        lambda b: reverse(f"{DEALERSHIPS}:{view}", args=[b.dealership.pk]),
        routes=(_route(DEALERSHIPS, view),),
    )


def _chosen_probe(model):
    namespace = CHOOSERS.format(model=model)
    return Probe(
        f"{model} chooser chosen",
        lambda b: reverse(f"{namespace}:chosen", args=[getattr(b, model).pk]),
        methods=("get",),
        routes=(_route(namespace, "chosen"),),
    )


def _bulk_delete_probe(model):
    return Probe(
        f"{model} bulk delete",
        lambda b: (
            reverse("wagtail_bulk_action", args=["wagtail_easycars", model, "delete"]) + f"?id={getattr(b, model).pk}"
        ),
    )


#: URLs that name one of dealership B's objects.
OBJECT_PROBES = [
    _vehicle_probe("edit", data={"title": "Hijacked", "dealership": "", "condition": "used", "status": "sold"}),
    _vehicle_probe("delete"),
    _vehicle_probe("inspect"),
    _vehicle_probe("history"),
    _vehicle_probe("history_results"),
    _vehicle_probe("usage"),
    _vehicle_probe("field_history"),
    _vehicle_probe(
        "conflict_resolve", pk=lambda b: b.conflict.pk, methods=("post",), data={"resolution": "accept_easycars"}
    ),
    _vehicle_probe("duplicate_resolve", pk=lambda b: b.duplicate.pk, methods=("post",), data={"resolution": "merged"}),
    _vehicle_probe("unlock_field", methods=("post",), data={"field": "price"}),
    _lead_probe("edit", data={"name": "Hijacked", "status": "lost", "vehicle_interest": "buy"}),
    _lead_probe("delete"),
    _lead_probe("inspect"),
    _lead_probe("history"),
    _lead_probe("history_results"),
    _lead_probe("usage"),
    _lead_probe("retry_sync"),
    _dealership_probe("edit"),
    _dealership_probe("delete"),
    _dealership_probe("inspect"),
    _dealership_probe("history"),
    _dealership_probe("history_results"),
    _dealership_probe("usage"),
    _chosen_probe("vehicle"),
    _chosen_probe("lead"),
    _chosen_probe("dealership"),
    _bulk_delete_probe("vehicle"),
    _bulk_delete_probe("lead"),
    _bulk_delete_probe("dealership"),
]


def _listing(name, view_name, namespace=VEHICLES, query=""):
    return Probe(
        name,
        lambda b: reverse(f"{namespace}:{view_name}") + query,
        methods=("get",),
        routes=(_route(namespace, view_name),),
    )


def _chooser_listing(model, view_name):
    namespace = CHOOSERS.format(model=model)
    return _listing(f"{model} chooser {view_name}", view_name, namespace)


#: URLs of the member's own listings, asked about B (by filter or "select all").
LISTING_PROBES = [
    _listing("vehicle list", "list"),
    _listing("vehicle list filtered to B", "list", query="?dealership={b.dealership.pk}"),
    _listing("vehicle list results", "list_results"),
    _listing("vehicle list search", "list", query="?q=Bravo"),
    _listing("vehicle export", "list", query="?export=csv"),
    _listing("open conflicts", "conflicts"),
    _listing("open conflicts results", "conflicts_results"),
    _listing("potential duplicates", "duplicates"),
    _listing("potential duplicates results", "duplicates_results"),
    _listing("vehicle add form", "add"),
    _listing("lead list", "list", LEADS),
    _listing("lead list results", "list_results", LEADS),
    _listing("lead export", "list", LEADS, query="?export=csv"),
    _listing("lead add form", "add", LEADS),
    _chooser_listing("vehicle", "choose"),
    _chooser_listing("vehicle", "choose_results"),
    _chooser_listing("vehicle", "chosen_multiple"),
    _chooser_listing("lead", "choose"),
    _chooser_listing("lead", "choose_results"),
    _chooser_listing("lead", "chosen_multiple"),
    _chooser_listing("dealership", "choose"),
    _chooser_listing("dealership", "choose_results"),
    _chooser_listing("dealership", "chosen_multiple"),
    # Wagtail's own audit-log report: B's vehicle and lead entries carry B's titles and names.
    Probe("site history", lambda b: reverse("wagtailadmin_reports:site_history"), methods=("get",)),
    Probe("site history results", lambda b: reverse("wagtailadmin_reports:site_history_results"), methods=("get",)),
    Probe(
        "site history export",
        lambda b: reverse("wagtailadmin_reports:site_history") + "?export=csv",
        methods=("get",),
    ),
    Probe(
        "vehicle bulk delete of all",
        lambda b: reverse("wagtail_bulk_action", args=["wagtail_easycars", "vehicle", "delete"]) + "?id=all",
        methods=("get",),
    ),
]

#: Routes that need no probe of B's objects: the dealership screens are superuser-only and
#: covered by test_dealership_screens_are_superuser_only; the chooser's "create" is not enabled.
NOT_PROBED = {
    _route(DEALERSHIPS, "list"),
    _route(DEALERSHIPS, "list_results"),
    _route(DEALERSHIPS, "add"),
    *(_route(CHOOSERS.format(model=model), "create") for model in ("vehicle", "lead", "dealership")),
}

#: URL namespaces whose every route must be probed (E2 adds "wagtail_easycars_admin" with its probes).
CHECKED_NAMESPACES = (
    VEHICLES,
    LEADS,
    DEALERSHIPS,
    *(CHOOSERS.format(model=m) for m in ("vehicle", "lead", "dealership")),
)


@pytest.fixture
def b():
    """Dealership B and one of each of its objects, with text only B has."""
    dealership = DealershipFactory(name="Bravo Motors", slug="bravo")
    vehicle = EasyCarsVehicleFactory(
        dealership=dealership, title="Bravo Ute", easycars_stock_number="BRAVO-STOCK-1", locked_fields=["price"]
    )
    manual = VehicleFactory(dealership=dealership, title="Bravo Ute (manual)", vin="BRAVOVIN0000000001")
    lead = LeadFactory(
        dealership=dealership,
        vehicle=vehicle,
        name="Bravo Buyer",
        message="bravo-secret-note",
        sync_state=Lead.SyncState.FAILED,
        sync_error="bravo-secret-note",
    )
    editor_of_b = SuperuserFactory()
    log(vehicle, "wagtail.edit", user=editor_of_b)
    log(lead, "wagtail.edit", user=editor_of_b)
    log(CredentialFactory(dealership=dealership), "wagtail_easycars.credentials.set", user=editor_of_b)
    log(dealership, "wagtail_easycars.credentials.pause", user=editor_of_b)
    return SimpleNamespace(
        dealership=dealership,
        vehicle=vehicle,
        lead=lead,
        conflict=VehicleConflict.objects.create(
            vehicle=vehicle, field="price", local_value="1.00", easycars_value="2.00"
        ),
        duplicate=PotentialDuplicate.objects.create(
            dealership=dealership, manual_vehicle=manual, easycars_vehicle=vehicle, reason="vin"
        ),
        change=FieldChange.objects.create(vehicle=vehicle, field="price", old_value="3.00", new_value="2.00"),
    )


@pytest.fixture
def member_of_a(client):
    a = DealershipFactory(name="Alpha Autos", slug="alpha")
    VehicleFactory(dealership=a, title="Alpha Hatch")
    LeadFactory(dealership=a, name="Alpha Shopper")
    user = make_editor(a, permissions=ALL_PERMISSIONS)
    client.force_login(user)
    return client


def body_of(response):
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode("utf-8", "replace")


def assert_denied(response, probe, method):
    denied_redirect = response.status_code == 302 and response.url.rstrip("/") == reverse("wagtailadmin_home").rstrip(
        "/"
    )
    assert response.status_code in (403, 404) or denied_redirect, (
        f"{method.upper()} {probe.name} answered {response.status_code} to a member of another dealership"
    )
    assert_no_b_data(response, probe, method)


def assert_no_b_data(response, probe, method):
    text = body_of(response)
    for marker in B_MARKERS:
        assert marker not in text, f"{method.upper()} {probe.name} disclosed {marker!r}"


def assert_b_untouched(b):
    vehicle = Vehicle.objects.get(pk=b.vehicle.pk)
    assert vehicle.title == "Bravo Ute"
    assert vehicle.locked_fields == ["price"]
    assert vehicle.status == Vehicle.Status.AVAILABLE
    lead = Lead.objects.get(pk=b.lead.pk)
    assert (lead.name, lead.status, lead.sync_state) == ("Bravo Buyer", Lead.Status.NEW, Lead.SyncState.FAILED)
    assert VehicleConflict.objects.get(pk=b.conflict.pk).resolved_at is None
    assert PotentialDuplicate.objects.get(pk=b.duplicate.pk).resolution == PotentialDuplicate.Resolution.OPEN
    assert b.dealership.__class__.objects.filter(pk=b.dealership.pk).exists()


@pytest.mark.parametrize("probe", OBJECT_PROBES, ids=lambda probe: probe.name)
def test_member_of_a_cannot_reach_bs_object(member_of_a, b, probe):
    url = probe.url(b)
    for method in probe.methods:
        response = getattr(member_of_a, method)(url, probe.data)
        assert_denied(response, probe, method)
    assert_b_untouched(b)


@pytest.mark.parametrize("probe", LISTING_PROBES, ids=lambda probe: probe.name)
def test_member_of_as_listings_show_nothing_of_b(member_of_a, b, probe):
    url = probe.url(b).format(b=b)
    response = member_of_a.get(url)

    assert response.status_code in (200, 404), f"{probe.name} answered {response.status_code}"
    assert_no_b_data(response, probe, "get")


def test_the_walk_covers_every_route_of_the_package():
    probed = {route for probe in OBJECT_PROBES + LISTING_PROBES for route in probe.routes} | NOT_PROBED
    resolver = get_resolver()
    missing = []
    for namespace in CHECKED_NAMESPACES:
        prefix, ns_resolver = resolver.namespace_dict[namespace]
        for name in ns_resolver.reverse_dict:
            if isinstance(name, str) and _route(namespace, name) not in probed:
                missing.append(_route(namespace, name))
    assert not missing, f"add isolation probes for {sorted(missing)}"


def test_superuser_reaches_every_dealership(client, b):
    client.force_login(SuperuserFactory())

    assert client.get(reverse(f"{VEHICLES}:edit", args=[b.vehicle.pk])).status_code == 200
    assert client.get(reverse(f"{LEADS}:inspect", args=[b.lead.pk])).status_code == 200
    assert client.get(reverse(f"{DEALERSHIPS}:edit", args=[b.dealership.pk])).status_code == 200
    assert "Bravo Ute" in client.get(reverse(f"{VEHICLES}:list")).content.decode()
    assert "Bravo Buyer" in client.get(reverse("wagtailadmin_reports:site_history")).content.decode()


def test_member_sees_their_own_dealerships_entries_in_site_history(member_of_a, b):
    alpha_vehicle = Vehicle.objects.get(title="Alpha Hatch")
    log(alpha_vehicle, "wagtail.edit", user=SuperuserFactory())

    html = member_of_a.get(reverse("wagtailadmin_reports:site_history")).content.decode()

    assert "Alpha Hatch" in html
    assert "Bravo Ute" not in html


def test_dealership_screens_are_superuser_only(member_of_a):
    for name in ("list", "list_results", "add"):
        response = member_of_a.get(reverse(f"{DEALERSHIPS}:{name}"))
        assert response.status_code in (302, 403)
        assert "Bravo Motors" not in body_of(response)


def test_bulk_delete_of_all_vehicles_deletes_only_the_members_own(member_of_a, b):
    url = reverse("wagtail_bulk_action", args=["wagtail_easycars", "vehicle", "delete"]) + "?id=all"

    member_of_a.post(url)

    assert not Vehicle.objects.filter(title="Alpha Hatch").exists()
    assert Vehicle.objects.filter(dealership=b.dealership).count() == 2


def test_resolving_bs_conflict_changes_nothing_even_with_a_valid_resolution(member_of_a, b):
    member_of_a.post(reverse(f"{VEHICLES}:conflict_resolve", args=[b.conflict.pk]), {"resolution": "keep_local"})

    assert VehicleConflict.objects.get(pk=b.conflict.pk).resolved_at is None


def test_image_chooser_leaves_out_other_dealerships_vehicle_photos(client):
    from django.contrib.auth.models import Group, Permission
    from wagtail.models import Collection, GroupCollectionPermission

    from ..showroom_fixtures import add_photos, make_image

    mine, theirs = DealershipFactory(), DealershipFactory()
    [my_photo] = add_photos(EasyCarsVehicleFactory(dealership=mine))
    [their_photo] = add_photos(EasyCarsVehicleFactory(dealership=theirs))
    logo = make_image("site-logo")
    editor = make_editor(mine)
    group = Group.objects.create(name="Image editors")
    for codename in ("choose_image", "add_image"):
        GroupCollectionPermission.objects.create(
            group=group,
            collection=Collection.get_first_root_node(),
            permission=Permission.objects.get(content_type__app_label="wagtailimages", codename=codename),
        )
    editor.groups.add(group)
    client.force_login(editor)

    html = client.get(reverse("wagtailimages_chooser:choose")).content.decode()

    assert my_photo.image.title in html
    assert logo.title in html
    assert their_photo.image.title not in html
