"""Dealership isolation for the package's snippet views, choosers, forms and bulk actions.

Wagtail's snippet views look objects up with the model's default manager, so without help a
member of dealership A could open, edit or delete dealership B's vehicle by typing its URL.
The views here narrow those lookups to what :mod:`.access` says the user may reach.
"""

from django import forms
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.utils.functional import cached_property, classproperty
from django.utils.translation import gettext_lazy
from django.views.generic import View
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.forms.choosers import BaseFilterForm
from wagtail.snippets.bulk_actions.delete import DeleteBulkAction
from wagtail.snippets.views import chooser as chooser_views
from wagtail.snippets.views import snippets as snippet_views

from ..models import Dealership
from .access import (
    can_manage_dealerships,
    dealership_lookup,
    dealerships_for,
    scoped_queryset_for_model,
    user_can_access,
)


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


class ScopedChooserFilterForm(BaseFilterForm):
    """The chooser's search and, for members of several dealerships, a dealership filter.

    The search is the snippet listing's: database lookups on the viewset's ``search_fields``, not
    the Wagtail search index. The syncs write in bulk without save() signals, so an index would lag
    behind; and a search-index queryset refuses filters on any field not declared a ``FilterField``.
    """

    q = forms.CharField(
        label=gettext_lazy("Search term"),
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("Search")}),
        required=False,
    )

    def __init__(self, *args, user, model, **kwargs):
        super().__init__(*args, **kwargs)
        self.model = model
        self.search_fields = getattr(getattr(model, "snippet_viewset", None), "search_fields", None) or []
        if not self.search_fields:
            del self.fields["q"]
        dealerships = dealerships_for(user)
        if model is not Dealership and dealerships[:2].count() > 1:
            self.fields["dealership"] = forms.ModelChoiceField(
                queryset=dealerships,
                required=False,
                label=gettext_lazy("Dealership"),
                empty_label=gettext_lazy("All dealerships"),
                widget=forms.Select(attrs={"data-chooser-modal-search-filter": True}),
            )

    def filter(self, objects):
        objects = super().filter(objects)
        query = self.cleaned_data.get("q")
        if query:
            condition = Q()
            for name in self.search_fields:
                condition |= Q(**{f"{name}__icontains": query})
            objects = objects.filter(condition)
            self.is_searching, self.search_query = True, query
        dealership = self.cleaned_data.get("dealership")
        if dealership is not None:
            objects = objects.filter(**{dealership_lookup(self.model): dealership})
        return objects


class ScopedChooseMixin:
    """Lists only the user's objects (the base queryset is scoped before any search or filter)."""

    def get_object_list(self):
        return scoped_queryset_for_model(self.model_class, self.request.user)

    def get_filter_form(self):
        return ScopedChooserFilterForm(self.request.GET, user=self.request.user, model=self.model_class)

    def filter_object_list(self, objects):
        objects = super().filter_object_list(objects)
        # Wagtail skips an invalid filter form (say, another dealership's id): show nothing rather
        # than everything unfiltered.
        return objects if self.filter_form.is_valid() else objects.none()


class ChooseView(ScopedChooseMixin, chooser_views.ChooseView):
    pass


class ChooseResultsView(ScopedChooseMixin, chooser_views.ChooseResultsView):
    pass


class ChosenView(chooser_views.SnippetChosenView):
    def get_object(self, pk):
        return scoped_queryset_for_model(self.model_class, self.request.user).get(pk=pk)


class ChosenMultipleView(chooser_views.SnippetChosenMultipleView):
    def get_objects(self, pks):
        return scoped_queryset_for_model(self.model_class, self.request.user).filter(pk__in=pks)


class NoCreationView(View):
    """The choosers create nothing (they have no creation form, and Wagtail's view fails without one)."""

    def dispatch(self, request, *args, **kwargs):
        raise Http404("This chooser does not create objects.")


class ScopedChooserViewSet(chooser_views.SnippetChooserViewSet):
    """The snippet chooser (e.g. the lead's vehicle field) lists and returns only the user's objects."""

    choose_view_class = ChooseView
    choose_results_view_class = ChooseResultsView
    chosen_view_class = ChosenView
    chosen_multiple_view_class = ChosenMultipleView
    create_view_class = NoCreationView


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
        if model is Dealership and not can_manage_dealerships(self.request.user):
            raise PermissionDenied
        queryset = scoped_queryset_for_model(model, self.request.user).filter(pk__in=object_ids)
        if not queryset.exists():
            raise Http404
        return list(queryset)

    def get_all_objects_in_listing_query(self, parent_id):
        if self.model is Dealership and not can_manage_dealerships(self.request.user):
            raise PermissionDenied
        return scoped_queryset_for_model(self.model, self.request.user).values_list("pk", flat=True)
