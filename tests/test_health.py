"""Health checks, the endpoints and ``easycars_health``: healthy with a live cluster, unhealthy for each cause."""

import datetime as dt
import json

import pytest
from django.core.cache import caches
from django.core.management import call_command
from django.db import OperationalError, connection
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.models import OrmQ
from django_q.signing import SignedPackage
from django_q.status import Stat, Status

from wagtail_easycars import jobs
from wagtail_easycars.client.breaker import CircuitBreaker
from wagtail_easycars.health import checks
from wagtail_easycars.models import SyncLog

from .factories import CredentialFactory, SyncLogFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/easycars/health/"
LIVE_URL = "/easycars/health/live/"
TOKEN = "s3cret-health-token"


def report_stat(status):
    """Write a cluster's stat the way a running cluster's monitor does (django-q2 refreshes it every few seconds)."""
    get_broker().set_stat(Stat.get_key(status.cluster_id), SignedPackage.dumps(status, True), 30)


@pytest.fixture
def cluster():
    """A running django-q2 cluster, as the stats in the cache show it."""
    status = Status(pid=4242, cluster_id="health-test")
    status.status = Conf.IDLE
    report_stat(status)
    return status


@pytest.fixture
def settings_token(settings):
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "HEALTH_TOKEN": TOKEN, "STOCK_SYNC_CRON": "0 2 * * *"}


@pytest.fixture
def fresh_dealership():
    credential = CredentialFactory()
    _succeeded(credential.dealership, ago=dt.timedelta(hours=3))
    return credential


def _succeeded(dealership, *, ago):
    started = timezone.now() - ago
    return SyncLogFactory(
        dealership=dealership, status=SyncLog.Status.SUCCESS, started_at=started, completed_at=started
    )


def _failing(results):
    return {result.name: result.message for result in results if not result.ok}


def test_healthy_when_a_cluster_is_alive_and_everything_else_is_fine(settings_token, cluster, fresh_dealership):
    results = checks.run_checks()
    assert _failing(results) == {}
    names = [result.name for result in results]
    assert names == ["database", "jobs", "cache", "easycars:test", f"freshness:{fresh_dealership.dealership.slug}"]


def test_no_worker_is_unhealthy(settings_token, fresh_dealership):
    assert jobs.cluster_alive() is False
    assert "no django-q2 cluster" in _failing(checks.run_checks())["jobs"]


def test_a_stopped_cluster_is_not_alive(settings_token, cluster):
    cluster.status = Conf.STOPPED
    report_stat(cluster)
    assert jobs.cluster_alive() is False


def test_a_task_waiting_too_long_in_the_orm_queue_is_unhealthy(settings_token, cluster):
    OrmQ.objects.create(key=Conf.CLUSTER_NAME, payload="x", lock=timezone.now() - dt.timedelta(hours=1))
    assert 3590 < jobs.oldest_queued_task_age() < 3700
    assert "the oldest queued task has waited" in _failing(checks.run_checks())["jobs"]


def test_a_stale_dealership_is_unhealthy(settings_token, cluster, fresh_dealership):
    stale = CredentialFactory(dealership__name="Stale Motors", account_number="EC000002")
    _succeeded(stale.dealership, ago=dt.timedelta(days=3))
    failing = _failing(checks.run_checks())
    assert list(failing) == [f"freshness:{stale.dealership.slug}"]
    assert failing[f"freshness:{stale.dealership.slug}"].startswith("Stale Motors: last successful stock sync 3")
    assert "expected every 1\xa0day" in failing[f"freshness:{stale.dealership.slug}"]


def test_a_paused_dealership_is_not_checked_for_freshness(settings_token, cluster):
    paused = CredentialFactory(is_active=False)
    _succeeded(paused.dealership, ago=dt.timedelta(days=30))
    assert _failing(checks.run_checks()) == {}


def test_an_open_breaker_is_unhealthy_without_showing_the_account_number(settings_token, cluster, fresh_dealership):
    breaker = CircuitBreaker(caches["default"], "test", "EC000001")
    for _ in range(5):
        breaker.record_failure()
    assert breaker.is_open()
    failing = _failing(checks.run_checks())
    assert list(failing) == ["easycars:test"]
    assert fresh_dealership.dealership.name in failing["easycars:test"]
    assert "EC000001" not in failing["easycars:test"]


@pytest.fixture
def database_down(monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(connection, "cursor", refuse)


def test_database_down_is_unhealthy_and_the_rest_is_not_asked(settings_token, cluster, database_down):
    results = checks.run_checks()
    failing = _failing(results)
    assert failing["database"] == "the database did not answer: OperationalError"
    # The ORM broker's queue is in the same database, so the job system cannot be vouched for either.
    assert failing["jobs"] == "the job system could not be asked: OperationalError"
    assert [result.name for result in results] == ["database", "jobs", "cache"]


def test_the_cache_failing_is_unhealthy(settings_token, cluster, monkeypatch):
    monkeypatch.setattr(type(caches["default"]), "get", lambda self, key, default=None, version=None: None)
    assert _failing([checks.check_cache()]) == {"cache": "the cache did not return the value just set"}


# The endpoint


def test_the_endpoint_is_a_404_without_a_token(settings_token, client, cluster):
    assert client.get(URL).status_code == 404
    assert client.get(URL, headers={"Authorization": "Bearer wrong"}).status_code == 404
    assert client.get(LIVE_URL).status_code == 404


def test_the_endpoint_is_a_404_when_no_token_is_set_even_for_an_empty_one(client, cluster):
    assert client.get(URL).status_code == 404
    assert client.get(URL + "?token=").status_code == 404


def test_the_endpoint_answers_200_with_the_bearer_token(settings_token, client, cluster, fresh_dealership):
    response = client.get(URL, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["ok"] is True
    assert {check["name"] for check in body["checks"]} >= {"database", "jobs", "cache", "easycars:test"}
    assert "no-cache" in response["Cache-Control"]


def test_the_endpoint_answers_503_when_unhealthy_with_the_query_token(settings_token, client):
    response = client.get(f"{URL}?token={TOKEN}")
    assert response.status_code == 503
    body = response.json()
    assert body["ok"] is False
    assert [check["name"] for check in body["checks"] if not check["ok"]] == ["jobs"]


def test_staff_may_look_without_a_token(client, cluster):
    client.force_login(UserFactory(is_staff=True))
    assert client.get(URL).status_code == 200


def test_a_logged_in_user_who_is_not_staff_gets_a_404(client, cluster):
    client.force_login(UserFactory(is_staff=False))
    assert client.get(URL).status_code == 404


def test_the_token_still_works_while_the_database_is_down(settings_token, client, database_down):
    response = client.get(LIVE_URL, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 503
    assert response.json()["checks"] == [
        {"name": "database", "ok": False, "message": "the database did not answer: OperationalError"}
    ]


def test_liveness_touches_neither_easycars_nor_the_job_system(settings_token, client, monkeypatch, fresh_dealership):
    def forbidden(*args, **kwargs):
        raise AssertionError("liveness must not ask this")

    monkeypatch.setattr(jobs, "cluster_alive", forbidden)
    monkeypatch.setattr(jobs, "oldest_queued_task_age", forbidden)
    monkeypatch.setattr(CircuitBreaker, "is_open", forbidden)
    response = client.get(LIVE_URL, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.json() == {"ok": True, "checks": [{"name": "database", "ok": True, "message": "OK"}]}
    # The full endpoint does ask them (so the monkeypatching above really guards something).
    with pytest.raises(AssertionError):
        checks.check_easycars(checks.active_credentials())


# The command


def test_the_command_prints_a_line_per_check_and_exits_0_when_healthy(
    settings_token, cluster, fresh_dealership, capsys
):
    call_command("easycars_health")
    lines = capsys.readouterr().out.splitlines()
    slug = fresh_dealership.dealership.slug
    assert lines == ["database: OK", "jobs: OK", "cache: OK", "easycars:test: OK", f"freshness:{slug}: OK"]


def test_the_command_exits_1_and_says_what_is_wrong(settings_token, fresh_dealership, capsys):
    with pytest.raises(SystemExit) as exited:
        call_command("easycars_health")
    assert exited.value.code == 1
    out = capsys.readouterr().out
    assert "jobs: no django-q2 cluster is running (start `manage.py qcluster`)" in out.splitlines()


def test_the_command_prints_json(settings_token, database_down, capsys):
    with pytest.raises(SystemExit) as exited:
        call_command("easycars_health", "--json")
    assert exited.value.code == 1
    body = json.loads(capsys.readouterr().out)
    assert body["ok"] is False
    assert body["checks"][0] == {
        "name": "database",
        "ok": False,
        "message": "the database did not answer: OperationalError",
    }
