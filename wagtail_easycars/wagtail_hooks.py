from wagtail import hooks
from wagtail.snippets.models import register_snippet

from .admin import log_actions
from .admin.menu import EasyCarsMenuGroup
from .admin.scoping import ScopedDeleteBulkAction

register_snippet(EasyCarsMenuGroup)

# Registered after Wagtail's own snippet bulk delete (order 0) so it replaces it for our models.
hooks.register("register_bulk_action", ScopedDeleteBulkAction, order=100)


@hooks.register("register_log_actions")
def register_log_actions(actions):
    log_actions.register_log_actions(actions)
