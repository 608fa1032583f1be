"""The Leads snippet: sync state per lead, the EasyCars numbers, and "Retry sync" for failed leads."""

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.template.defaultfilters import truncatechars
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel, ObjectList, TabbedInterface
from wagtail.admin.ui.tables import Column, DateColumn, StatusTagColumn
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.admin.widgets.button import Button
from wagtail.log_actions import log
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.snippets.views.snippets import SnippetViewSet

from ..models import Lead, Vehicle
from ..sync.leads.delivery import retry_lead
from ..sync.leads.outbox import is_unsent, needs_create
from .access import get_scoped_object_or_404
from .filters import LeadFilterSet
from .scoping import DealershipScopedForm, DealershipScopedViewSetMixin
from .scoping import IndexView as ScopedIndexView
from .scoping import InspectView as ScopedInspectView

#: Shown wherever a lead's status is: the contract's GetLeadDetail has no LeadStatus.
STATUS_NOT_FROM_EASYCARS = _(
    "EasyCars does not report a lead's status back (GetLeadDetail returns no LeadStatus): the status here is "
    "the one set in Wagtail, and changes to it are sent to EasyCars."
)


class LeadForm(DealershipScopedForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        vehicle = self.fields.get("vehicle")
        if vehicle is not None and self.for_user is not None:
            vehicle.queryset = Vehicle.objects.for_user(self.for_user)

    def clean(self):
        cleaned_data = super().clean()
        vehicle, dealership = cleaned_data.get("vehicle"), cleaned_data.get("dealership")
        if vehicle and dealership and vehicle.dealership_id != dealership.pk:
            self.add_error(
                "vehicle",
                forms.ValidationError(_("Choose a vehicle of %(dealership)s."), params={"dealership": dealership}),
            )
        return cleaned_data


def can_retry(lead):
    """A failed lead can be retried, and an unsent one sent ("Send to EasyCars")."""
    return lead.sync_state == Lead.SyncState.FAILED or is_unsent(lead)


def retry_label(lead):
    return _("Send to EasyCars") if is_unsent(lead) else _("Retry sync")


def easycars_numbers(lead):
    parts = []
    if lead.easycars_lead_number:
        parts.append(gettext("Lead %(number)s") % {"number": lead.easycars_lead_number})
    if lead.easycars_customer_no:
        parts.append(gettext("Customer %(number)s") % {"number": lead.easycars_customer_no})
    return " · ".join(parts)


class SyncStateColumn(StatusTagColumn):
    def get_primary(self, instance):
        return instance.sync_state == Lead.SyncState.SENT


class LeadIndexView(ScopedIndexView):
    retry_url_name = None

    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        if can_retry(instance) and self.user_has_permission("change"):
            buttons.append(
                Button(
                    retry_label(instance),
                    url=reverse(self.retry_url_name, args=[instance.pk]),
                    icon_name="rotate",
                    attrs={"aria-label": f"{retry_label(instance)}: {instance}"},
                    priority=25,
                )
            )
        return buttons


class LeadInspectView(ScopedInspectView):
    template_name = "wagtail_easycars/admin/leads/inspect.html"
    retry_url_name = None

    def get_sync_state_display_value(self):
        return self.object.get_sync_state_display()

    @cached_property
    def header_more_buttons(self):
        buttons = super().header_more_buttons
        if can_retry(self.object) and self.user_has_permission("change"):
            buttons.append(
                Button(
                    retry_label(self.object),
                    url=reverse(self.retry_url_name, args=[self.object.pk]),
                    icon_name="rotate",
                    priority=30,
                )
            )
        return buttons

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["status_note"] = STATUS_NOT_FROM_EASYCARS
        context["can_retry"] = can_retry(self.object) and self.user_has_permission("change")
        context["unsent"] = is_unsent(self.object)
        context["retry_url"] = reverse(self.retry_url_name, args=[self.object.pk])
        return context


class RetryLeadSyncView(PermissionCheckedMixin, WagtailAdminTemplateMixin, TemplateView):
    """GET asks for confirmation, POST puts a failed lead back into the outbox."""

    permission_policy = ModelPermissionPolicy(Lead)
    permission_required = "change"
    template_name = "wagtail_easycars/admin/leads/confirm_retry.html"
    page_title = _("Retry sync")
    header_icon = "rotate"
    index_url_name = None
    inspect_url_name = None

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.object = get_scoped_object_or_404(Lead, request.user, pk=kwargs["pk"])

    def get_page_subtitle(self):
        return str(self.object)

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse(self.index_url_name), "label": Lead._meta.verbose_name_plural.capitalize()},
            {"url": self.inspect_url(), "label": str(self.object)},
            {"url": "", "label": self.get_page_title(), "sublabel": str(self.object)},
        ]

    def inspect_url(self):
        return reverse(self.inspect_url_name, args=[self.object.pk])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            {
                "object": self.object,
                "can_retry": can_retry(self.object),
                "unsent": is_unsent(self.object),
                "cancel_url": self.inspect_url(),
            }
        )
        return context

    def get_page_title(self):
        return retry_label(self.object)

    def post(self, request, pk):
        lead = self.object
        if not can_retry(lead):
            messages.error(
                request,
                gettext("'%(lead)s' is %(state)s: only a failed lead can be retried.")
                % {"lead": lead, "state": lead.get_sync_state_display().lower()},
            )
            return HttpResponseRedirect(self.inspect_url())
        unsent = is_unsent(lead)
        if unsent and not needs_create(lead):  # still no credentials to send it with
            messages.error(
                request,
                gettext("This dealership has no EasyCars credentials yet: add them under EasyCars › Settings first."),
            )
            return HttpResponseRedirect(self.inspect_url())
        try:
            queued = retry_lead(lead, request.user)
        except (ValidationError, ValueError) as exc:
            messages.error(request, "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc))
            return HttpResponseRedirect(self.inspect_url())
        if not queued:
            # Sent or handled meanwhile (say, by the sweeper) between the page and the click.
            lead.refresh_from_db()
            messages.warning(
                request,
                gettext("'%(lead)s' is %(state)s now: nothing to retry.")
                % {"lead": lead, "state": lead.get_sync_state_display().lower()},
            )
            return HttpResponseRedirect(self.inspect_url())
        log(lead, "wagtail_easycars.lead.send" if unsent else "wagtail_easycars.lead.retry_sync", user=request.user)
        # The push runs in a worker once this request commits, never in the request itself.
        queued_message = (
            gettext("'%(lead)s' is queued to be sent to EasyCars; its sync state shows the outcome.")
            if unsent
            else gettext("'%(lead)s' is queued to be sent to EasyCars again; its sync state shows the outcome.")
        )
        messages.success(
            request,
            queued_message % {"lead": lead},
            buttons=[messages.button(self.inspect_url(), gettext("View lead"))],
        )
        return HttpResponseRedirect(self.inspect_url())


class LeadViewSet(DealershipScopedViewSetMixin, SnippetViewSet):
    model = Lead
    icon = "mail"
    menu_label = _("Leads")
    copy_view_enabled = False
    inspect_view_enabled = True
    index_view_class = LeadIndexView
    inspect_view_class = LeadInspectView
    filterset_class = LeadFilterSet
    # Database lookups, not the search index: the lead sync updates rows in bulk, without signals.
    search_backend_name = None
    search_fields = ["name", "email", "phone", "mobile", "easycars_lead_number", "easycars_customer_no"]
    list_per_page = 50
    list_display = [
        "name",
        Column("dealership", label=_("Dealership"), sort_key="dealership__name"),
        StatusTagColumn("status", accessor="get_status_display", label=_("Status"), sort_key="status", primary=False),
        SyncStateColumn("sync_state", accessor="get_sync_state_display", label=_("Sync"), sort_key="sync_state"),
        Column("easycars_numbers", accessor=easycars_numbers, label=_("EasyCars")),
        DateColumn("last_synced_to_easycars", label=_("Last sent"), sort_key="last_synced_to_easycars"),
        DateColumn("last_synced_from_easycars", label=_("Last refreshed"), sort_key="last_synced_from_easycars"),
        Column("sync_error", accessor=lambda lead: truncatechars(lead.sync_error, 80), label=_("Last error")),
        DateColumn("created_at", label=_("Received"), sort_key="created_at"),
    ]
    list_export = [
        "dealership",
        "name",
        "email",
        "phone",
        "mobile",
        "status",
        "data_source",
        "sync_state",
        "easycars_lead_number",
        "easycars_customer_no",
        "last_synced_to_easycars",
        "last_synced_from_easycars",
        "sync_error",
        "created_at",
    ]
    export_filename = "leads"
    inspect_view_fields = [
        "dealership",
        "name",
        "email",
        "phone",
        "mobile",
        "address",
        "city",
        "state",
        "postcode",
        "vehicle",
        "message",
        "status",
        "vehicle_interest",
        "finance_status",
        "rating",
        "data_source",
        "sync_state",
        "easycars_lead_number",
        "easycars_customer_no",
        "last_synced_to_easycars",
        "last_synced_from_easycars",
        "sync_error",
        "created_at",
    ]
    edit_handler = TabbedInterface(
        [
            ObjectList(
                [
                    # A plain select: editors belong to few dealerships, and the choices are already theirs only.
                    FieldPanel("dealership", widget=forms.Select),
                    FieldPanel("vehicle"),
                    FieldPanel("name"),
                    FieldRowPanel([FieldPanel("email"), FieldPanel("phone"), FieldPanel("mobile")]),
                    MultiFieldPanel(
                        [
                            FieldPanel("address"),
                            FieldRowPanel([FieldPanel("city"), FieldPanel("state"), FieldPanel("postcode")]),
                        ],
                        heading=_("Address"),
                    ),
                    FieldPanel("message"),
                    FieldPanel("status", help_text=STATUS_NOT_FROM_EASYCARS),
                    FieldRowPanel([FieldPanel("vehicle_interest"), FieldPanel("finance_status"), FieldPanel("rating")]),
                ],
                heading=_("Lead"),
            ),
            ObjectList(
                [
                    FieldPanel("data_source", read_only=True),
                    FieldPanel("sync_state", read_only=True),
                    FieldPanel("sync_error", read_only=True),
                    FieldPanel("easycars_lead_number", read_only=True),
                    FieldPanel("easycars_customer_no", read_only=True),
                    FieldPanel("last_synced_to_easycars", read_only=True),
                    FieldPanel("last_synced_from_easycars", read_only=True),
                ],
                heading=_("EasyCars"),
            ),
        ],
        base_form_class=LeadForm,
    )

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(retry_url_name=self.get_url_name("retry_sync"), **kwargs)

    def get_inspect_view_kwargs(self, **kwargs):
        return super().get_inspect_view_kwargs(retry_url_name=self.get_url_name("retry_sync"), **kwargs)

    def get_urlpatterns(self):
        retry_view = RetryLeadSyncView.as_view(
            breadcrumbs_items=self.breadcrumbs_items,
            index_url_name=self.get_url_name("list"),
            inspect_url_name=self.get_url_name("inspect"),
        )
        return super().get_urlpatterns() + [path("retry-sync/<int:pk>/", retry_view, name="retry_sync")]
