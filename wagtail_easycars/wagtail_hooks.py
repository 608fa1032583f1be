from wagtail import hooks
from wagtail.snippets.models import register_snippet

from .admin import log_actions
from .admin.access import other_dealerships_photos
from .admin.menu import EasyCarsMenuGroup
from .admin.scoping import ScopedDeleteBulkAction

register_snippet(EasyCarsMenuGroup)

# Registered after Wagtail's own snippet bulk delete (order 0) so it replaces it for our models.
hooks.register("register_bulk_action", ScopedDeleteBulkAction, order=100)


@hooks.register("register_log_actions")
def register_log_actions(actions):
    log_actions.register_log_actions(actions)


@hooks.register("construct_image_chooser_queryset")
def hide_other_dealerships_photos(images, request):
    """Wagtail's image chooser follows collection permissions; synced vehicle photos of
    dealerships the user is not a member of are left out whatever those allow."""
    return images.exclude(pk__in=other_dealerships_photos(request.user))
