"""The Dealerships snippet: superusers only, with members (user + role) edited inline.

Dealership members manage their dealership's data, not the dealership itself: who belongs to
a dealership decides what they can see, so only superusers may change it. Members still reach
their own dealerships through the snippet chooser, which is scoped like everything else.
"""

from django.core.exceptions import PermissionDenied
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail.admin.menu import MenuItem
from wagtail.admin.panels import FieldPanel, InlinePanel
from wagtail.admin.ui.tables import Column
from wagtail.snippets.views import snippets as snippet_views
from wagtail.snippets.views.snippets import SnippetViewSet

from ..models import Dealership
from .access import can_manage_dealerships
from .scoping import ScopedChooserViewSet


class SuperuserRequiredMixin:
    """Every screen of the dealership snippet (list, add, edit, delete...) is the superusers'."""

    def dispatch(self, request, *args, **kwargs):
        if not can_manage_dealerships(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class IndexView(SuperuserRequiredMixin, snippet_views.IndexView):
    pass


class CreateView(SuperuserRequiredMixin, snippet_views.CreateView):
    pass


class EditView(SuperuserRequiredMixin, snippet_views.EditView):
    pass


class DeleteView(SuperuserRequiredMixin, snippet_views.DeleteView):
    pass


class InspectView(SuperuserRequiredMixin, snippet_views.InspectView):
    pass


class HistoryView(SuperuserRequiredMixin, snippet_views.HistoryView):
    pass


class UsageView(SuperuserRequiredMixin, snippet_views.UsageView):
    pass


class SuperuserMenuItem(MenuItem):
    def is_shown(self, request):
        return can_manage_dealerships(request.user)


def member_count(dealership):
    return dealership.memberships.count()


class DealershipViewSet(SnippetViewSet):
    model = Dealership
    icon = "site"
    menu_label = _("Dealerships")
    copy_view_enabled = False
    inspect_view_enabled = True
    index_view_class = IndexView
    add_view_class = CreateView
    edit_view_class = EditView
    delete_view_class = DeleteView
    inspect_view_class = InspectView
    history_view_class = HistoryView
    usage_view_class = UsageView
    chooser_viewset_class = ScopedChooserViewSet
    search_fields = ["name", "slug"]
    list_display = [
        "name",
        "slug",
        Column("site", label=_("Site")),
        "timezone",
        Column("members", accessor=member_count, label=_("Members")),
    ]
    panels = [
        FieldPanel("name"),
        FieldPanel("slug"),
        FieldPanel("site"),
        FieldPanel("timezone"),
        InlinePanel(
            "memberships",
            heading=_("Members"),
            label=_("Member"),
            help_text=_(
                "Admins also manage the dealership's EasyCars settings (credentials, pause, resume); staff work "
                "with its vehicles and leads, follow its syncs and may start one."
            ),
            panels=[FieldPanel("user"), FieldPanel("role")],
        ),
    ]

    @cached_property
    def menu_item_class(self):
        return SuperuserMenuItem
