"""The audit log follows the roles: credential history only where the user is an admin."""

import pytest
from wagtail.log_actions import log

from wagtail_easycars.models import DealershipLogEntry, DealershipMembership

from ..admin_support import grant
from ..easycars_admin_support import make_sync_admin
from ..factories import CredentialFactory, DealershipFactory, VehicleFactory

pytestmark = pytest.mark.django_db


def test_credential_history_is_shown_only_where_the_user_is_an_admin():
    alpha, bravo = DealershipFactory(name="Alpha"), DealershipFactory(name="Bravo")
    user = make_sync_admin(alpha)
    grant(user, "wagtail_easycars.view_dealership", "wagtail_easycars.view_vehicle")  # may read both histories
    DealershipMembership.objects.create(user=user, dealership=bravo, role=DealershipMembership.Role.STAFF)
    for dealership in (alpha, bravo):
        CredentialFactory(dealership=dealership)
        log(dealership, "wagtail_easycars.credentials.set", user=user)
        log(dealership, "wagtail_easycars.credentials.pause", user=user)
    bravo_vehicle = VehicleFactory(dealership=bravo)
    log(bravo_vehicle, "wagtail.edit", user=user)

    visible = DealershipLogEntry.objects.viewable_by_user(user)
    credential_entries = visible.filter(action__startswith="wagtail_easycars.credentials.")
    assert set(credential_entries.values_list("dealership_id", flat=True)) == {alpha.pk}
    assert credential_entries.count() == 2
    # Staff still see the dealership's own data history.
    assert visible.filter(dealership=bravo, action="wagtail.edit").exists()


def test_a_superuser_sees_every_credential_entry(django_user_model):
    dealership = DealershipFactory()
    log(dealership, "wagtail_easycars.credentials.set")
    root = django_user_model.objects.create_superuser("root", "root@example.com", "x")
    assert DealershipLogEntry.objects.viewable_by_user(root).filter(action="wagtail_easycars.credentials.set").exists()
