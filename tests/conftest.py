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
    live_server.stop()
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
        if fixturenames is not None and "live_server" in fixturenames:
            if "django_db_serialized_rollback" not in fixturenames:
                fixturenames.append("django_db_serialized_rollback")
