"""The "EasyCars" admin menu group: every screen of the package in one place."""

from django.utils.translation import gettext_lazy as _
from wagtail.snippets.views.snippets import SnippetViewSetGroup

from .dealerships import DealershipViewSet
from .easycars_views import EasyCarsHistoryMenu, EasyCarsSettingsMenu, EasyCarsViewSet
from .leads import LeadViewSet
from .vehicles import VehicleViewSet

#: The group's entries in menu order. Snippet viewsets bring their own URLs; the EasyCars
#: entries are the dashboard viewset (which owns /admin/easycars/...) and menu links into it.
MENU_ITEMS = (
    EasyCarsViewSet,
    VehicleViewSet,
    LeadViewSet,
    EasyCarsHistoryMenu,
    EasyCarsSettingsMenu,
    DealershipViewSet,
)


class EasyCarsMenuGroup(SnippetViewSetGroup):
    """Registered with ``register_snippet``; shown to anyone who can see at least one of its entries."""

    menu_label = _("EasyCars")
    menu_icon = "rotate"
    menu_name = "easycars"
    menu_order = 250
    items = MENU_ITEMS
