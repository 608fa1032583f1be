"""Who may see what in the admin: the one place that decides a user's dealerships and permissions.

Members see the dealerships they belong to; superusers see all of them. An object of another
dealership is reported as missing (404), never as forbidden, so its existence is not disclosed.
When a user can see more than one dealership, ``?dealership=<slug>`` picks the one an EasyCars
screen is about and the choice is remembered in the session, so the listing's AJAX filtering and
the dashboard's polling stay on the same dealership.
"""

from django.contrib.auth import get_permission_codename
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404
from django.utils.functional import cached_property
from wagtail.permission_policies.base import ModelPermissionPolicy

from ..models import Dealership, EasyCarsCredential, SyncLog, VehicleImage


def dealerships_for(user):
    """The dealerships ``user`` may see in the admin, by name."""
    return Dealership.objects.for_user(user).order_by("name", "pk")


def scope_queryset(queryset, user, lookup="dealership"):
    """Narrow ``queryset`` to objects whose ``lookup`` is one of the user's dealerships."""
    if user.is_active and user.is_superuser:
        return queryset
    return queryset.filter(**{f"{lookup}__in": dealerships_for(user)})


def other_dealerships_photos(user):
    """Ids (a subquery) of the Wagtail images that are vehicle photos of dealerships ``user`` cannot see."""
    photos = VehicleImage.objects.filter(image__isnull=False)  # NOT IN must not meet a NULL
    if user.is_active and user.is_superuser:
        return photos.none().values("image_id")
    return photos.exclude(vehicle__dealership__in=dealerships_for(user)).values("image_id")


# How each model reaches its dealership, for models without a ``dealership`` foreign key.
DEALERSHIP_LOOKUPS = {
    "wagtail_easycars.vehicleconflict": "vehicle__dealership",
    "wagtail_easycars.vehicleimage": "vehicle__dealership",
}


def dealership_lookup(model):
    return DEALERSHIP_LOOKUPS.get(model._meta.label_lower, "dealership")


def scoped_queryset_for_model(model, user):
    """Every object of ``model`` the user may reach in the admin."""
    if model is Dealership:
        return dealerships_for(user)
    return scope_queryset(model._default_manager.all(), user, dealership_lookup(model))


def user_can_access(user, obj):
    """Whether ``obj`` (a Dealership, or an object of one) belongs to one of the user's dealerships."""
    if user.is_active and user.is_superuser:
        return True
    if obj.pk is None:
        return False
    return scoped_queryset_for_model(type(obj), user).filter(pk=obj.pk).exists()


def get_scoped_object_or_404(model, user, **lookup):
    try:
        return scoped_queryset_for_model(model, user).get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError) as exc:
        raise Http404(f"No {model._meta.verbose_name} matches the given query.") from exc


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
