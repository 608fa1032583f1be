import pytest

pytest_plugins = ["tests.sandbox_fixtures", "tests.showroom_fixtures", "tests.easycars_admin_support"]


@pytest.fixture(autouse=True)
def _isolated_media(settings, tmp_path):
    """Each test stores images in its own folder."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import caches

    for cache in caches.all():
        cache.clear()
