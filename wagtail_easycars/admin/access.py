"""Who may see and do what in the admin: the one place that decides a user's dealerships, roles and permissions.

Members see the dealerships they belong to; superusers see all of them. An object of another
dealership is reported as missing (404), never as forbidden, so its existence is not disclosed.

On top of the Django permissions (which still decide whether a user may use a screen at all), a
member's **role** at each dealership decides what they may do there: ``ACTIONS`` gives each
EasyCars action its least role (the matrix in docs/admin-guide.md). A role never grants more than
the Django permission; it only narrows it, dealership by dealership. Asking for a dealership the
user belongs to with too small a role for the action is a 403 (they know it exists); asking for
one they do not belong to stays a 404.

When a user can act on more than one dealership, ``?dealership=<slug>`` picks the one an EasyCars
screen is about and the choice is remembered in the session, so the listing's AJAX filtering and
the dashboard's polling stay on the same dealership.
"""

from django.contrib.auth import get_permission_codename
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from wagtail.admin import messages
from wagtail.images import get_image_model
from wagtail.permission_policies.base import ModelPermissionPolicy
from wagtail.permissions import policy_registry

from ..models import Dealership, DealershipMembership, EasyCarsCredential, SyncLog, VehicleImage

STAFF = DealershipMembership.Role.STAFF
ADMIN = DealershipMembership.Role.ADMIN

#: Each EasyCars action (its Django permission's codename) -> the least role it needs at a dealership.
#: Vehicles, leads, conflicts and duplicates need no more than membership (and their model
#: permissions); the dealerships themselves are the superusers' (``can_manage_dealerships``).
ACTIONS = {
    "view_sync_status": STAFF,  # dashboard, history, a run's detail, the status and log endpoints
    # A manual sync does what the schedule does, is rate-limited per dealership and can be
    # followed by everyone: staff may start one. Only admins change how the integration works.
    "trigger_sync": STAFF,
    "manage_credentials": ADMIN,  # settings: see, test, save, pause, resume, delete credentials
}


def _is_superuser(user):
    return bool(user and user.is_active and user.is_superuser)


def has_permission(user, codename):
    """Whether ``user`` has the package's Django permission ``codename`` (roles aside)."""
    return bool(user and user.is_active and user.has_perm(f"wagtail_easycars.{codename}"))


def dealerships_for(user, action=None):
    """The dealerships ``user`` may see in the admin, by name; with ``action``, those they may do it at.

    ``action`` is a key of ``ACTIONS``: the user needs its Django permission and, at each
    dealership, at least its role.
    """
    if action is None:
        dealerships = Dealership.objects.for_user(user)
    elif not has_permission(user, action):
        dealerships = Dealership.objects.none()
    elif ACTIONS[action] == ADMIN:
        dealerships = Dealership.objects.administered_by(user)
    else:
        dealerships = Dealership.objects.for_user(user)
    return dealerships.order_by("name", "pk")


def role_in(user, dealership):
    """``user``'s role at ``dealership`` (``"admin"`` or ``"staff"``), None for a non-member; superusers are admins."""
    if _is_superuser(user):
        return ADMIN
    if not (user and user.is_active and user.is_authenticated) or dealership is None:
        return None
    membership = DealershipMembership.objects.filter(user=user, dealership=dealership).only("role").first()
    return membership.role if membership else None


def can(user, action, dealership):
    """Whether ``user`` may do ``action`` (a key of ``ACTIONS``) at ``dealership``."""
    return dealership is not None and dealerships_for(user, action).filter(pk=dealership.pk).exists()


class RoleRefused(PermissionDenied):
    """The user belongs to the dealership, but their role there does not allow the action (a 403 that says so)."""


def require(user, action, dealership):
    """Return ``dealership`` if ``user`` may do ``action`` there.

    Raises Http404 when the user does not belong to it, RoleRefused when their role there is too
    small (or they lack the action's Django permission).
    """
    if role_in(user, dealership) is None:
        raise Http404("No such dealership.")
    if not can(user, action, dealership):
        raise RoleRefused(role_refusal(dealership))
    return dealership


def role_refusal(dealership):
    """The message of a refusal for the user's role (screens and the admin API's 403 say it)."""
    return _("Your role at %(dealership)s does not allow this: ask one of its admins.") % {"dealership": dealership}


def can_manage_dealerships(user):
    """Dealerships and their members (who sees what) are managed by superusers only."""
    return _is_superuser(user)


def scope_queryset(queryset, user, lookup="dealership"):
    """Narrow ``queryset`` to objects whose ``lookup`` is one of the user's dealerships."""
    if _is_superuser(user):
        return queryset
    return queryset.filter(**{f"{lookup}__in": dealerships_for(user)})


def other_dealerships_photos(user):
    """Ids (a subquery) of the Wagtail images that are vehicle photos of dealerships ``user`` cannot see."""
    photos = VehicleImage.objects.filter(image__isnull=False)  # NOT IN must not meet a NULL
    if _is_superuser(user):
        return photos.none().values("image_id")
    return photos.exclude(vehicle__dealership__in=dealerships_for(user)).values("image_id")


def gallery_images_for(user, dealership, vehicle=None):
    """The Wagtail images ``user`` may put in the gallery of ``dealership``'s ``vehicle``.

    What Wagtail's image chooser offers them (collection permissions; every image for a superuser),
    plus the vehicle's own photos (kept on save whatever those permissions say), but never a photo
    of another dealership's vehicle, whoever asks.
    """
    images = policy_registry.get_by_type(get_image_model())
    usable = Q(pk__in=images.instances_user_has_any_permission_for(user, ["choose"]).values("pk"))
    foreign = VehicleImage.objects.filter(image__isnull=False).exclude(vehicle__dealership=dealership)
    if vehicle is not None and vehicle.pk is not None:
        usable |= Q(pk__in=VehicleImage.objects.filter(vehicle=vehicle, image__isnull=False).values("image_id"))
        foreign = foreign.exclude(vehicle=vehicle)  # its own photos move with it to another dealership
    return get_image_model().objects.filter(usable).exclude(pk__in=foreign.values("image_id"))


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
    if _is_superuser(user):
        return True
    if obj.pk is None:
        return False
    return scoped_queryset_for_model(type(obj), user).filter(pk=obj.pk).exists()


def get_scoped_object_or_404(model, user, action=None, **lookup):
    """The object of one of the user's dealerships matching ``lookup`` (else Http404).

    With ``action`` (a key of ``ACTIONS``), the user's role at the object's dealership must allow
    it (else PermissionDenied); the model then needs a ``dealership`` field.
    """
    try:
        obj = scoped_queryset_for_model(model, user).get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError) as exc:
        raise Http404(f"No {model._meta.verbose_name} matches the given query.") from exc
    if action is not None:
        require(user, action, obj.dealership)
    return obj


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


def resolve_dealership(request, action=None):
    """The dealership the request is about, or None when the user belongs to none.

    With ``action`` (a key of ``ACTIONS``), one where the user may do it: an explicit
    ``?dealership=`` they belong to with too small a role, or no such dealership at all while
    they belong to some, is a PermissionDenied. An explicit ``?dealership=`` they do not belong
    to is a Http404.
    """
    user = request.user
    requested = request.GET.get(QUERY_PARAM, "").strip()
    if requested:
        lookup = {"pk": int(requested)} if requested.isdigit() else {"slug": requested}
        dealership = dealerships_for(user).filter(**lookup).first()
        if dealership is None:
            raise Http404("No such dealership.")
        if action is not None:
            require(user, action, dealership)
        request.session[SESSION_KEY] = dealership.pk
        return dealership
    allowed = dealerships_for(user, action) if action else dealerships_for(user)
    remembered = request.session.get(SESSION_KEY)
    if remembered:
        dealership = allowed.filter(pk=remembered).first()
        if dealership is not None:
            return dealership
    dealership = allowed.first()
    if dealership is None and action is not None and dealerships_for(user).exists():
        raise RoleRefused(_("Your role at your dealerships does not allow this: ask one of their admins."))
    return dealership


class DealershipContextMixin:
    """For EasyCars admin views: ``self.dealership`` and a switcher for users who may act on several.

    ``dealership_action`` (a key of ``ACTIONS``) is what the screen does: it decides which
    dealerships the screen may be about and the switcher offers.
    """

    dealership_action = None

    def dispatch(self, request, *args, **kwargs):
        # Wagtail answers any PermissionDenied with a bare "Sorry, you do not have permission";
        # a refusal for the role says which dealership and what to do.
        try:
            return super().dispatch(request, *args, **kwargs)
        except RoleRefused as exc:
            if request.headers.get("x-requested-with") == "XMLHttpRequest":
                raise
            messages.error(request, str(exc))
            return redirect("wagtailadmin_home")

    @cached_property
    def dealership(self):
        return resolve_dealership(self.request, self.dealership_action)

    @cached_property
    def dealership_choices(self):
        # Only worth a selector when there is something to choose from.
        user = self.request.user
        choices = dealerships_for(user, self.dealership_action) if self.dealership_action else dealerships_for(user)
        choices = list(choices[:200])
        return choices if len(choices) > 1 else []

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["dealership"] = self.dealership
        context["dealership_choices"] = self.dealership_choices
        return context
