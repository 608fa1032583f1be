"""Dealership isolation of the EasyCars settings, dashboard, history and JSON endpoints.

Walks every route of the ``wagtail_easycars_admin`` namespace (read from the URL resolver, so a
new route is walked without editing this file) with GET, POST and DELETE, as a member of
dealership A holding every EasyCars permission, asking about dealership B: by B's object ids or
by ``?dealership=<B>``. Nothing may answer with B's data or change B.
"""

import pytest
from django.urls import get_resolver, reverse
from wagtail.log_actions import registry as log_registry

from wagtail_easycars.admin.easycars_views import NAMESPACE
from wagtail_easycars.models import EasyCarsCredential, SyncLog

from ..easycars_admin_support import assert_no_secrets, make_sync_admin
from ..factories import CredentialFactory, DealershipFactory, SyncLogFactory

pytestmark = pytest.mark.django_db

#: Routes that take an object id, and which of B's objects to name.
OBJECT_ROUTES = {
    "history_detail": "log",
    "api_log_detail": "log",
    "api_credential_detail": "credential",
}
#: Only B has these; none may appear in an answer to A's member.
B_MARKERS = ("Bravo Motors", "bravo-secret-error", "BRAVO-REF-1", "…9999", "EC009999")


def route_names():
    _prefix, resolver = get_resolver().namespace_dict[NAMESPACE]
    return sorted(name for name in resolver.reverse_dict if isinstance(name, str))


@pytest.fixture
def b():
    dealership = DealershipFactory(name="Bravo Motors", slug="bravo")
    credential = CredentialFactory(dealership=dealership, account_number="EC009999")
    log = SyncLogFactory(
        dealership=dealership,
        status=SyncLog.Status.FAILED,
        error_message="bravo-secret-error",
        item_failures=[{"kind": "item", "ref": "BRAVO-REF-1", "message": "bad"}],
    )
    return {"dealership": dealership, "credential": credential, "log": log}


@pytest.fixture
def member_of_a(client):
    a = DealershipFactory(name="Alpha Autos", slug="alpha")
    CredentialFactory(dealership=a)
    SyncLogFactory(dealership=a)
    client.force_login(make_sync_admin(a))
    return client


def body_of(response):
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode("utf-8", "replace")


def url_about_b(name, b):
    if name in OBJECT_ROUTES:
        return reverse(f"{NAMESPACE}:{name}", args=[b[OBJECT_ROUTES[name]].pk])
    return reverse(f"{NAMESPACE}:{name}") + "?dealership=bravo"


def assert_b_untouched(b):
    credential = EasyCarsCredential.objects.get(pk=b["credential"].pk)
    assert (credential.is_active, credential.account_number) == (True, "EC009999")
    assert list(SyncLog.objects.filter(dealership=b["dealership"])) == [b["log"]]
    assert not log_registry.get_logs_for_instance(b["dealership"]).exists()


def test_the_walk_finds_the_screens_and_endpoints():
    names = route_names()
    assert {"dashboard", "history", "settings", "api_sync_status", "api_credentials"} <= set(names)


@pytest.mark.parametrize("name", route_names())
@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_member_of_a_gets_nothing_about_b(member_of_a, b, name, method):
    url = url_about_b(name, b)
    if method == "post":
        response = member_of_a.post(url, {"save_without_testing": "on", "environment": "test"})
    else:
        response = getattr(member_of_a, method)(url)
    denied_redirect = response.status_code == 302 and response.url.rstrip("/") == reverse("wagtailadmin_home").rstrip(
        "/"
    )
    assert response.status_code in (403, 404, 405) or denied_redirect, (
        f"{method.upper()} {name} answered {response.status_code} about another dealership"
    )
    text = body_of(response)
    for marker in B_MARKERS:
        assert marker not in text, f"{method.upper()} {name} disclosed {marker!r}"
    assert_b_untouched(b)


@pytest.mark.parametrize("name", [n for n in route_names() if n not in OBJECT_ROUTES])
def test_member_of_as_own_pages_show_nothing_of_b(member_of_a, b, name):
    response = member_of_a.get(reverse(f"{NAMESPACE}:{name}"))
    text = body_of(response)
    for marker in B_MARKERS:
        assert marker not in text, f"GET {name} disclosed {marker!r}"


def test_history_export_of_a_holds_only_as_runs(member_of_a, b):
    response = member_of_a.get(reverse(f"{NAMESPACE}:history") + "?export=csv")
    assert "bravo-secret-error" not in body_of(response)
    assert response.status_code == 200


def test_superuser_can_open_bs_screens(client, b):
    from ..factories import SuperuserFactory

    client.force_login(SuperuserFactory())
    assert (
        "bravo-secret-error" in client.get(reverse(f"{NAMESPACE}:history_detail", args=[b["log"].pk])).content.decode()
    )
    assert client.get(reverse(f"{NAMESPACE}:dashboard") + "?dealership=bravo").status_code == 200


@pytest.mark.parametrize("name", route_names())
def test_no_screen_or_endpoint_shows_a_stored_secret(client, name):
    """Every route, asked about the member's own dealership with credentials stored, hides the secrets."""
    own = DealershipFactory(name="Alpha Autos", slug="alpha")
    credential = CredentialFactory(dealership=own, account_number="EC004242")
    log = SyncLogFactory(dealership=own, request_payload={"AccountSecret": credential.account_secret})
    client.force_login(make_sync_admin(own))
    objects = {"log": log, "credential": credential}
    args = [objects[OBJECT_ROUTES[name]].pk] if name in OBJECT_ROUTES else []
    response = client.get(reverse(f"{NAMESPACE}:{name}", args=args))
    assert_no_secrets(response, "EC004242")
