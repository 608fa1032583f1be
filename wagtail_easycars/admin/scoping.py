"""Dealership isolation for the package's admin views.

Wagtail's snippet views look objects up with the model's default manager, so without help a
member of dealership A could open, edit or delete dealership B's vehicle by typing its URL.
Everything here narrows those lookups to ``Dealership.objects.for_user(user)``: an object of
another dealership is reported as missing (404), never as forbidden, so its existence is not
disclosed. Superusers see every dealership.
"""

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import Http404
from django.utils.functional import cached_property, classproperty
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.snippets.bulk_actions.delete import DeleteBulkAction
from wagtail.snippets.views import chooser as chooser_views
from wagtail.snippets.views import snippets as snippet_views

from ..models import Dealership, VehicleImage


def dealerships_for(user):
    """The dealerships ``user`` may see in the admin."""
    return Dealership.objects.for_user(user)


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


class ScopedObjectMixin:
    """For any Wagtail view with ``get_object()``: another dealership's object is a 404."""

    def get_object(self, *args, **kwargs):
        obj = super().get_object(*args, **kwargs)
        if obj is not None and not user_can_access(self.request.user, obj):
            raise Http404(f"No {self.model._meta.verbose_name} matches the given query.")
        return obj


class IndexView(snippet_views.IndexView):
    """Drops the "Dealership" column for users who only ever see one dealership."""

    @cached_property
    def columns(self):
        columns = super().columns
        if dealerships_for(self.request.user)[:2].count() < 2:
            columns = [column for column in columns if column.name != "dealership"]
        return columns


class EditView(ScopedObjectMixin, snippet_views.EditView):
    pass


class CopyView(ScopedObjectMixin, snippet_views.CopyView):
    pass


class DeleteView(ScopedObjectMixin, snippet_views.DeleteView):
    pass


class InspectView(ScopedObjectMixin, snippet_views.InspectView):
    pass


class HistoryView(ScopedObjectMixin, snippet_views.HistoryView):
    pass


class UsageView(ScopedObjectMixin, snippet_views.UsageView):
    pass


def _scoped_to_user(queryset, user):
    return queryset.filter(pk__in=scoped_queryset_for_model(queryset.model, user).values("pk"))


class ChooseView(chooser_views.ChooseView):
    def get_object_list(self):
        return _scoped_to_user(super().get_object_list(), self.request.user)


class ChooseResultsView(chooser_views.ChooseResultsView):
    def get_object_list(self):
        return _scoped_to_user(super().get_object_list(), self.request.user)


class ChosenView(chooser_views.SnippetChosenView):
    def get_object(self, pk):
        return scoped_queryset_for_model(self.model_class, self.request.user).get(pk=pk)


class ChosenMultipleView(chooser_views.SnippetChosenMultipleView):
    def get_objects(self, pks):
        return _scoped_to_user(super().get_objects(pks), self.request.user)


class ScopedChooserViewSet(chooser_views.SnippetChooserViewSet):
    """The snippet chooser (e.g. the lead's vehicle field) lists and returns only the user's objects."""

    choose_view_class = ChooseView
    choose_results_view_class = ChooseResultsView
    chosen_view_class = ChosenView
    chosen_multiple_view_class = ChosenMultipleView


class DealershipScopedViewSetMixin:
    """Mix into a ``SnippetViewSet`` of a model with a ``dealership`` foreign key.

    Scopes the listing (and so its filters, search and export), every per-object view, and the
    chooser. Custom per-object views should use ``ScopedObjectMixin`` or
    ``get_scoped_object_or_404``.
    """

    index_view_class = IndexView
    edit_view_class = EditView
    copy_view_class = CopyView
    delete_view_class = DeleteView
    inspect_view_class = InspectView
    history_view_class = HistoryView
    usage_view_class = UsageView
    chooser_viewset_class = ScopedChooserViewSet

    def get_queryset(self, request):
        return scoped_queryset_for_model(self.model, request.user)


class DealershipScopedForm(WagtailAdminModelForm):
    """Offers only the editor's dealerships, and (for superusers too) keeps related objects in one dealership."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("dealership")
        if field is not None and self.for_user is not None:
            field.queryset = dealerships_for(self.for_user)
            if self.instance.pk is None and not self.initial.get("dealership"):
                choices = list(field.queryset[:2])
                if len(choices) == 1:
                    self.initial["dealership"] = choices[0].pk


class ScopedDeleteBulkAction(DeleteBulkAction):
    """Wagtail's bulk delete for the package's scoped models, limited to the user's dealerships.

    The stock action fetches ``model.objects.filter(pk__in=ids)`` (or every object for "select
    all"), which would reach across dealerships.
    """

    @classproperty
    def models(cls):
        from ..models import Lead, Vehicle

        return [Dealership, Vehicle, Lead]

    def get_queryset(self, model, object_ids):
        if model is Dealership and not self.request.user.is_superuser:
            raise PermissionDenied
        queryset = scoped_queryset_for_model(model, self.request.user).filter(pk__in=object_ids)
        if not queryset.exists():
            raise Http404
        return list(queryset)

    def get_all_objects_in_listing_query(self, parent_id):
        if self.model is Dealership and not self.request.user.is_superuser:
            raise PermissionDenied
        return scoped_queryset_for_model(self.model, self.request.user).values_list("pk", flat=True)
