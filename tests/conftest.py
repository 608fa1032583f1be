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
