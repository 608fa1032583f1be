"""The sync dashboard: health, schedule, recent runs, chart, attention counts and the "Sync now" buttons."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from wagtail_easycars.admin.dashboard import Health, compute_health, schedule, sync_card
from wagtail_easycars.models import PotentialDuplicate, SyncLog, VehicleConflict
from wagtail_easycars.sync.runs import RunRecorder

from ..factories import (
    CredentialFactory,
    DealershipFactory,
    EasyCarsVehicleFactory,
    LeadFactory,
    SyncLogFactory,
    VehicleFactory,
)

pytestmark = pytest.mark.django_db

URL = "/admin/easycars/sync/"
NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


def finished(dealership, *, ago, status=SyncLog.Status.SUCCESS, sync_type=SyncLog.SyncType.STOCK, **counts):
    started = timezone.now() - ago
    return SyncLogFactory(
        dealership=dealership,
        sync_type=sync_type,
        status=status,
        started_at=started,
        completed_at=started + dt.timedelta(seconds=30),
        duration_ms=30000,
        **counts,
    )


def test_schedule_interval_and_next_run_follow_the_cron_in_the_dealerships_time_zone(settings):
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "STOCK_SYNC_CRON": "0 2 * * *"}
    sydney = DealershipFactory(timezone="Australia/Sydney").zoneinfo
    interval, next_run = schedule(SyncLog.SyncType.STOCK, sydney, NOW)
    assert (interval, next_run.isoformat()) == (dt.timedelta(days=1), "2026-03-11T02:00:00+11:00")


def test_an_invalid_cron_gives_no_schedule_rather_than_an_error(settings):
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "LEAD_SYNC_CRON": "every hour please"}
    assert schedule(SyncLog.SyncType.LEAD, dt.UTC, NOW) == (None, None)


def test_health_is_not_configured_without_credentials():
    assert sync_card(DealershipFactory(), SyncLog.SyncType.STOCK).health == Health.NOT_CONFIGURED


def test_health_is_paused_when_syncing_is_paused():
    credential = CredentialFactory(is_active=False)
    assert sync_card(credential.dealership, SyncLog.SyncType.STOCK).health == Health.PAUSED


def test_health_is_failing_when_the_last_finished_run_failed():
    credential = CredentialFactory()
    finished(credential.dealership, ago=dt.timedelta(hours=3))
    finished(credential.dealership, ago=dt.timedelta(hours=1), status=SyncLog.Status.FAILED)
    assert sync_card(credential.dealership, SyncLog.SyncType.STOCK).health == Health.FAILING


def test_health_is_delayed_without_a_success_within_the_interval(settings):
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "LEAD_SYNC_CRON": "0 * * * *"}
    credential = CredentialFactory()
    finished(credential.dealership, ago=dt.timedelta(hours=3), sync_type=SyncLog.SyncType.LEAD)
    assert sync_card(credential.dealership, SyncLog.SyncType.LEAD).health == Health.DELAYED


def test_health_is_on_time_with_a_recent_success(settings):
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "LEAD_SYNC_CRON": "0 * * * *"}
    credential = CredentialFactory()
    finished(credential.dealership, ago=dt.timedelta(minutes=20), sync_type=SyncLog.SyncType.LEAD)
    assert sync_card(credential.dealership, SyncLog.SyncType.LEAD).health == Health.ON_TIME


def test_a_run_with_warnings_counts_as_a_success_for_health():
    credential = CredentialFactory()
    finished(credential.dealership, ago=dt.timedelta(minutes=5), status=SyncLog.Status.WARNING)
    assert sync_card(credential.dealership, SyncLog.SyncType.STOCK).health == Health.ON_TIME


def test_newly_configured_credentials_are_on_time_before_the_first_run():
    credential = CredentialFactory()
    interval = dt.timedelta(days=1)
    assert compute_health(credential, None, None, interval, timezone.now()) == Health.ON_TIME


def test_dashboard_cards_show_health_last_run_counts_and_duration(admin_of):
    credential = CredentialFactory()
    finished(credential.dealership, ago=dt.timedelta(minutes=5), records_created=4, records_updated=7, records_failed=1)
    html = admin_of(credential.dealership).get(URL).content.decode()
    assert 'data-easycars-health="on_time"' in html
    assert "4 created, 7 updated, 1 failed" in html
    assert "30.0 s" in html
    assert "5\xa0minutes ago" in html


def test_dashboard_times_are_shown_in_the_dealerships_time_zone(admin_of):
    credential = CredentialFactory(dealership__timezone="Australia/Perth")
    started = dt.datetime(2026, 1, 5, 1, 30, tzinfo=dt.UTC)
    SyncLogFactory(dealership=credential.dealership, started_at=started, completed_at=started, duration_ms=0)
    html = admin_of(credential.dealership).get(URL).content.decode()
    assert "5 Jan 2026, 09:30" in html


def test_dashboard_lists_the_last_ten_runs_with_links_to_their_detail(admin_of):
    dealership = CredentialFactory().dealership
    logs = [finished(dealership, ago=dt.timedelta(hours=n)) for n in range(1, 13)]
    html = admin_of(dealership).get(URL).content.decode()
    table = html.split("data-easycars-recent", 1)[1].split("</table>", 1)[0]
    linked = re.findall(r"/admin/easycars/history/(\d+)/", table)
    assert linked == [str(log.pk) for log in logs[:10]]


def test_chart_draws_one_bar_per_run_for_at_most_thirty_runs(admin_of):
    dealership = CredentialFactory().dealership
    for n in range(35):
        finished(dealership, ago=dt.timedelta(hours=n + 1), records_created=n)
    html = admin_of(dealership).get(URL).content.decode()
    stock_chart = html.split('<svg class="easycars-chart"', 1)[1].split("</svg>", 1)[0]
    assert len(re.findall(r'data-run="\d+"', stock_chart)) == 30


def test_chart_marks_failed_runs(admin_of):
    dealership = CredentialFactory().dealership
    failed = finished(dealership, ago=dt.timedelta(hours=1), status=SyncLog.Status.FAILED)
    html = admin_of(dealership).get(URL).content.decode()
    chart = html.split('<svg class="easycars-chart"', 1)[1]
    run = chart.split(f'data-run="{failed.pk}"', 1)[1].split("</a>", 1)[0]
    assert 'class="failed-run"' in run


def test_attention_counts_cover_conflicts_duplicates_and_failed_leads(admin_of):
    dealership = CredentialFactory().dealership
    vehicle = EasyCarsVehicleFactory(dealership=dealership)
    VehicleConflict.objects.create(vehicle=vehicle, field="price")
    VehicleConflict.objects.create(vehicle=vehicle, field="odometer", resolved_at=timezone.now())
    PotentialDuplicate.objects.create(
        dealership=dealership,
        manual_vehicle=VehicleFactory(dealership=dealership),
        easycars_vehicle=vehicle,
        reason="vin",
    )
    LeadFactory(dealership=dealership, sync_state="failed")
    LeadFactory(dealership=dealership, sync_state="failed")
    LeadFactory(dealership=dealership, sync_state="sent")
    html = admin_of(dealership).get(URL).content.decode()
    counts = re.findall(r'easycars-attention__count">(\d+)<', html)
    assert counts == ["1", "1", "2"]


def test_attention_counts_link_to_the_filtered_lead_list(admin_of):
    dealership = CredentialFactory().dealership
    html = admin_of(dealership).get(URL).content.decode()
    assert f"dealership={dealership.pk}&amp;sync_state=failed" in html


def test_sync_now_starts_a_lead_sync_and_says_so(admin_of):
    dealership = CredentialFactory().dealership
    client = admin_of(dealership)
    response = client.post(URL + "leads/", follow=True)
    log = SyncLog.objects.get(dealership=dealership)
    assert (log.sync_type, log.trigger, log.triggered_by) == ("lead", "manual", client.user)
    assert "The lead sync has started." in response.content.decode()


def test_sync_now_while_a_run_is_going_joins_it(admin_of):
    dealership = CredentialFactory().dealership
    client = admin_of(dealership)
    client.post(URL + "leads/")
    response = client.post(URL + "leads/", follow=True)
    assert SyncLog.objects.filter(dealership=dealership).count() == 1
    assert "already running; you are now following it" in response.content.decode()


def test_sync_now_is_limited_per_dealership_per_hour(admin_of, settings):
    settings.WAGTAIL_EASYCARS = {**settings.WAGTAIL_EASYCARS, "MANUAL_SYNC_LIMIT_PER_HOUR": 2}
    dealership = CredentialFactory().dealership
    client = admin_of(dealership)
    for _ in range(2):
        client.post(URL + "leads/")
        RunRecorder(SyncLog.objects.filter(dealership=dealership).first()).finish()
    response = client.post(URL + "leads/", follow=True)
    assert SyncLog.objects.filter(dealership=dealership).count() == 2
    assert "the most allowed" in response.content.decode()


def test_sync_now_is_refused_while_syncing_is_paused(admin_of):
    dealership = CredentialFactory(is_active=False).dealership
    response = admin_of(dealership).post(URL + "leads/", follow=True)
    assert not SyncLog.objects.exists()
    assert "Syncing is paused" in response.content.decode()


def test_sync_now_needs_the_trigger_permission(admin_of):
    dealership = CredentialFactory().dealership
    client = admin_of(dealership, permissions=("wagtailadmin.access_admin", "wagtail_easycars.view_sync_status"))
    client.post(URL + "leads/")
    assert not SyncLog.objects.exists()


def test_running_sync_shows_its_progress(admin_of):
    dealership = CredentialFactory().dealership
    client = admin_of(dealership)
    client.post(URL + "leads/")
    log = SyncLog.objects.get()
    SyncLog.objects.filter(pk=log.pk).update(records_total=40, records_processed=10)
    html = client.get(URL).content.decode()
    assert 'aria-valuenow="25"' in html
    assert "Running: 10 of 40 processed" in html
    assert 'data-running="true"' in html


def test_dashboard_needs_the_view_permission(admin_of):
    dealership = CredentialFactory().dealership
    client = admin_of(dealership, permissions=("wagtailadmin.access_admin",))
    assert client.get(URL).status_code == 302


def test_superuser_switches_dealership_with_the_selector(client):
    from ..factories import SuperuserFactory

    first = CredentialFactory(dealership__name="Alpha Motors").dealership
    second = CredentialFactory(dealership__name="Beta Cars").dealership
    finished(second, ago=dt.timedelta(minutes=1), records_created=77)
    client.force_login(SuperuserFactory())
    html = client.get(URL + f"?dealership={second.slug}").content.decode()
    assert "77 created" in html
    assert f'<option value="{first.slug}"' in html


def test_attention_counts_link_to_the_conflict_and_duplicate_lists(admin_of):
    dealership = CredentialFactory().dealership
    html = admin_of(dealership).get(URL).content.decode()
    links = re.findall(r'<a href="([^"]+)"[^>]*data-easycars-attention', html)
    assert [link.split("?")[0] for link in links] == [
        reverse("wagtailsnippets_wagtail_easycars_vehicle:conflicts"),
        reverse("wagtailsnippets_wagtail_easycars_vehicle:duplicates"),
        reverse("wagtailsnippets_wagtail_easycars_lead:list"),
    ]


def menu_item_names(request):
    from wagtail.admin.menu import admin_menu

    names = set()
    for item in admin_menu.menu_items_for_request(request):
        submenu = getattr(item, "menu", None)
        items = submenu.menu_items_for_request(request) if submenu else [item]
        names.update(sub.name for sub in items)
    return names


def test_menu_shows_settings_only_to_users_who_manage_credentials(admin_of):
    dealership = CredentialFactory().dealership
    viewer = admin_of(dealership, permissions=("wagtailadmin.access_admin", "wagtail_easycars.view_sync_status"))
    names = menu_item_names(viewer.get(URL).wsgi_request)
    assert {"easycars-sync-dashboard", "easycars-sync-history"} <= names
    assert "easycars-settings" not in names


def test_menu_shows_all_three_screens_to_a_dealership_admin(admin_of):
    dealership = CredentialFactory().dealership
    names = menu_item_names(admin_of(dealership).get(URL).wsgi_request)
    assert {"easycars-sync-dashboard", "easycars-sync-history", "easycars-settings"} <= names


def test_a_successful_run_with_known_broken_photos_says_how_many_are_unavailable(admin_of):
    credential = CredentialFactory()
    log = finished(credential.dealership, ago=dt.timedelta(minutes=5), response_summary={"photos_unavailable": 3})
    client = admin_of(credential.dealership)
    html = client.get(URL).content.decode()
    assert 'data-easycars-health="on_time"' in html
    assert "3 photos unavailable (known broken links, tried again later)" in html
    detail = client.get(reverse("wagtail_easycars_admin:history_detail", args=[log.pk])).content.decode()
    assert "data-easycars-photos-unavailable" in detail


def test_a_run_without_unavailable_photos_says_nothing_about_them(admin_of):
    credential = CredentialFactory()
    finished(credential.dealership, ago=dt.timedelta(minutes=5), response_summary={"photos_unavailable": "x"})
    assert "data-easycars-photos-unavailable" not in admin_of(credential.dealership).get(URL).content.decode()
