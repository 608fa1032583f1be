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


def is_transactional(item):
    fixturenames = getattr(item, "fixturenames", None) or ()
    marker = item.get_closest_marker("django_db")
    return (
        "live_server" in fixturenames
        or "transactional_db" in fixturenames
        or (marker is not None and marker.kwargs.get("transaction", False))
    )


def pytest_collection_modifyitems(items):
    """Transactional tests (live server, real worker processes, migrations) get serialized rollback.

    A transactional test ends by flushing every table, which also removes the rows migrations
    created (Wagtail's root page, default Site and root collection, content types, permissions).
    With serialized rollback each such test starts from the migrated contents, and
    ``pytest_runtest_teardown`` below puts them back after it, so whatever runs next on the same
    xdist worker (``--dist loadfile`` does not keep transactional tests last) finds them too.
    """
    for item in items:
        if not is_transactional(item):
            continue
        fixturenames = item.fixturenames
        # pytest-django decides which databases to serialize from the django_db marker when a
        # test has one (and from the fixture only when it has none): set it on both.
        marker = item.get_closest_marker("django_db")
        if marker is not None and not marker.kwargs.get("serialized_rollback"):
            item.add_marker(
                pytest.mark.django_db(*marker.args, **{**marker.kwargs, "serialized_rollback": True}), append=False
            )
        if "django_db_serialized_rollback" not in fixturenames:
            fixturenames.append("django_db_serialized_rollback")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    yield
    # After the last test the session's teardown has already dropped the test database.
    if nextitem is None or not is_transactional(item):
        return
    from django.db import connections
    from pytest_django.plugin import blocking_manager_key

    with item.config.stash[blocking_manager_key].unblock():
        for connection in connections.all(initialized_only=True):
            contents = getattr(connection, "_test_serialized_contents", None)
            if contents:  # saving an object whose key exists updates it, so this is safe to repeat
                connection.creation.deserialize_db_from_string(contents)
