"""The EasyCars settings screen: connect, test, pause and delete a dealership's credentials."""

import logging

from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView, TemplateView
from wagtail.admin import messages
from wagtail.admin.views.generic import PermissionCheckedMixin, WagtailAdminTemplateMixin

from ..crypto import SecretDecryptionError
from .access import DealershipContextMixin, credential_permission_policy
from .forms import CredentialForm
from .services import (
    UNREADABLE_CREDENTIALS_MESSAGE,
    connection_test_outcome,
    credential_history,
    delete_credential,
    log_connection_test,
    set_syncing_active,
    stored_credentials_problem,
)

logger = logging.getLogger(__name__)


class SettingsMixin(DealershipContextMixin, PermissionCheckedMixin, WagtailAdminTemplateMixin):
    """Needs ``manage_credentials`` and the admin role at the dealership (``access.ACTIONS``)."""

    permission_policy = credential_permission_policy
    permission_required = "manage_credentials"
    dealership_action = "manage_credentials"
    header_icon = "key"

    @cached_property
    def credential(self):
        # The reverse one-to-one raises an AttributeError subclass when nothing is stored.
        return getattr(self.dealership, "easycars_credential", None) if self.dealership else None

    def settings_url(self):
        url = reverse("wagtail_easycars_admin:settings")
        if self.dealership is not None:
            url += "?" + urlencode({"dealership": self.dealership.slug})
        return url

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": self.settings_url(), "label": _("EasyCars settings")},
            {"url": "", "label": self.get_page_title()},
        ]

    def require_dealership(self):
        if self.dealership is None:
            raise Http404("You are not a member of any dealership.")


class SettingsView(SettingsMixin, FormView):
    page_title = gettext_lazy("EasyCars settings")
    template_name = "wagtail_easycars/admin/easycars/settings.html"
    form_class = CredentialForm

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [{"url": "", "label": self.get_page_title()}]

    def get_page_subtitle(self):
        return str(self.dealership) if self.dealership else ""

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["credential"] = self.credential
        return kwargs

    def get(self, request, *args, **kwargs):
        problem = stored_credentials_problem(self.credential)
        if problem:
            messages.error(request, problem)
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        self.require_dealership()
        form = self.get_form()
        if request.POST.get("action") == "test":
            return self.test_connection(form)
        if not form.validate_for_save(request, self.dealership):
            return self.form_invalid(form)
        tested = form.was_tested(request, self.dealership)
        try:
            form.save(self.dealership, request.user, tested=tested)
        except SecretDecryptionError:  # another process stored values this key cannot read since the form checked
            form.add_error(None, UNREADABLE_CREDENTIALS_MESSAGE)
            return self.form_invalid(form)
        messages.success(
            request,
            _("EasyCars credentials saved for %(dealership)s.") % {"dealership": self.dealership},
            buttons=[messages.button(reverse("wagtail_easycars_admin:dashboard"), _("Open the sync dashboard"))],
        )
        return HttpResponseRedirect(self.settings_url())

    def test_connection(self, form):
        """The no-JavaScript path: test, then show the outcome above the form (secrets are not re-rendered)."""
        if not form.is_valid():
            return self.form_invalid(form)
        account = form.effective_account()
        outcome = connection_test_outcome(account)
        log_connection_test(self.dealership, self.request.user, outcome)
        if outcome["ok"]:
            CredentialForm.remember_successful_test(self.request, account, self.dealership)
        return self.render_to_response(self.get_context_data(form=form, test_outcome=outcome))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            credential=self.credential,
            history=credential_history(self.dealership) if self.dealership else [],
            test_url=reverse("wagtail_easycars_admin:api_credentials_test"),
            settings_url=self.settings_url(),
        )
        return context


class CredentialStateView(SettingsMixin, TemplateView):
    """POST only: pause or resume syncing without touching the secrets."""

    #: ``True`` resumes, ``False`` pauses.
    active = None
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        self.require_dealership()
        credential = self.credential
        if credential is None:
            raise Http404("No EasyCars credentials to pause or resume.")
        set_syncing_active(credential, self.active, request.user)
        if self.active:
            messages.success(request, _("Syncing resumed for %(dealership)s.") % {"dealership": self.dealership})
        else:
            messages.warning(
                request,
                _("Syncing paused for %(dealership)s. No scheduled or manual sync will run until you resume it.")
                % {"dealership": self.dealership},
            )
        return HttpResponseRedirect(self.settings_url())


class DeleteCredentialView(SettingsMixin, TemplateView):
    page_title = gettext_lazy("Delete EasyCars credentials")
    template_name = "wagtail_easycars/admin/easycars/confirm_delete.html"
    header_icon = "bin"

    def get(self, request, *args, **kwargs):
        self.require_dealership()
        if self.credential is None:
            return HttpResponseRedirect(self.settings_url())
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        self.require_dealership()
        if self.credential is not None:
            delete_credential(self.credential, request.user)
            messages.success(
                request, _("EasyCars credentials deleted for %(dealership)s.") % {"dealership": self.dealership}
            )
        return HttpResponseRedirect(self.settings_url())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(credential=self.credential, settings_url=self.settings_url())
        return context
