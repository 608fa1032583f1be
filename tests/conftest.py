import pytest

pytest_plugins = ["tests.sandbox_fixtures", "tests.showroom_fixtures", "tests.easycars_admin_support", "tests.browser"]


@pytest.fixture(autouse=True)
def _isolated_media(settings, tmp_path):
    """Each test stores images in its own folder."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import caches

    for cache in caches.all():
        cache.clear()


@pytest.fixture(scope="session")
def live_server(django_db_setup, django_db_blocker, live_server):
    """pytest-django's live server, started after the test database exists and stopped before it goes.

    A server thread that served Chromium over a keep-alive connection can still be waiting for
    the next request, holding its database connection (Django's test set-up keeps request
    threads from closing theirs). On PostgreSQL those sessions are ended here, so dropping the
    test database is not refused with "the database is being accessed by other users".
    """
    yield live_server
    from django.db import connection

    if connection.vendor == "postgresql":
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )


def pytest_collection_modifyitems(items):
    """Live-server tests get serialized rollback.

    A transactional test ends by flushing every table, which also removes the rows migrations
    created (Wagtail's root page and default Site). With serialized rollback each live-server test
    starts from the migrated contents again, whatever ran before it on the same worker.
    """
    for item in items:
        fixturenames = getattr(item, "fixturenames", None)
        if fixturenames is None or "live_server" not in fixturenames:
            continue
        # pytest-django decides which databases to serialize from the django_db marker when a
        # test has one (and from the fixture only when it has none): set it on both.
        marker = item.get_closest_marker("django_db")
        if marker is not None and not marker.kwargs.get("serialized_rollback"):
            item.add_marker(
                pytest.mark.django_db(*marker.args, **{**marker.kwargs, "serialized_rollback": True}), append=False
            )
        if "django_db_serialized_rollback" not in fixturenames:
            fixturenames.append("django_db_serialized_rollback")
