"""Which dealership an EasyCars admin screen is about, and who may open it.

Members see the dealerships they belong to; superusers see all of them. When a user can see more
than one, ``?dealership=<slug>`` picks one and the choice is remembered in the session, so the
listing's AJAX filtering and the dashboard's polling stay on the same dealership. Asking for a
dealership the user cannot see is answered with a 404, exactly as if it did not exist.
"""

from django.contrib.auth import get_permission_codename
from django.http import Http404
from django.utils.functional import cached_property
from wagtail.permission_policies.base import ModelPermissionPolicy

from ..models import Dealership, EasyCarsCredential, SyncLog

SESSION_KEY = "wagtail_easycars_dealership"
QUERY_PARAM = "dealership"


class CodenamePermissionPolicy(ModelPermissionPolicy):
    """A model permission policy whose actions may also be custom codenames.

    ``ModelPermissionPolicy`` turns ``"view"`` into ``"<app>.view_<model>"``; the package's own
    permissions (``view_sync_status``, ``trigger_sync``, ``manage_credentials``) are full codenames.
    """

    def __init__(self, model, codenames, **kwargs):
        super().__init__(model, **kwargs)
        self.codenames = frozenset(codenames)

    # Wagtail 7.0 builds names in _get_permission_name/_get_permission_codenames, 8.0 through
    # _get_permission_codename: override all three so both versions see the custom codenames.
    def _get_permission_codename(self, action):
        return action if action in self.codenames else get_permission_codename(action, self.model._meta)

    def _get_permission_codenames(self, actions):
        return {self._get_permission_codename(action) for action in actions}

    def _get_permission_name(self, action):
        return f"{self.app_label}.{self._get_permission_codename(action)}"


#: ``view_sync_status`` and ``trigger_sync`` (dashboard, history, sync endpoints).
sync_permission_policy = CodenamePermissionPolicy(SyncLog, ["view_sync_status", "trigger_sync"])
#: ``manage_credentials`` (settings page and credential endpoints).
credential_permission_policy = CodenamePermissionPolicy(EasyCarsCredential, ["manage_credentials"])


def has_permission(user, codename):
    return user.is_active and user.has_perm(f"wagtail_easycars.{codename}")


def dealerships_for(user):
    return Dealership.objects.for_user(user).order_by("name", "pk")


def resolve_dealership(request):
    """The dealership the request is about, or None when the user belongs to none.

    Raises Http404 for an explicit ``?dealership=`` the user may not see.
    """
    allowed = dealerships_for(request.user)
    requested = request.GET.get(QUERY_PARAM, "").strip()
    if requested:
        lookup = {"pk": int(requested)} if requested.isdigit() else {"slug": requested}
        dealership = allowed.filter(**lookup).first()
        if dealership is None:
            raise Http404("No such dealership.")
        request.session[SESSION_KEY] = dealership.pk
        return dealership
    remembered = request.session.get(SESSION_KEY)
    if remembered:
        dealership = allowed.filter(pk=remembered).first()
        if dealership is not None:
            return dealership
    return allowed.first()


class DealershipContextMixin:
    """For EasyCars admin views: ``self.dealership`` and a switcher for users who see several."""

    @cached_property
    def dealership(self):
        return resolve_dealership(self.request)

    @cached_property
    def dealership_choices(self):
        # Only worth a selector when there is something to choose from.
        choices = list(dealerships_for(self.request.user)[:200])
        return choices if len(choices) > 1 else []

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["dealership"] = self.dealership
        context["dealership_choices"] = self.dealership_choices
        return context
