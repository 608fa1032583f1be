"""factory-boy factories for the package's models, shared by every test module."""

import factory
from django.contrib.auth import get_user_model
from factory.django import DjangoModelFactory

from wagtail_easycars.models import (
    Dealership,
    DealershipMembership,
    EasyCarsCredential,
    FieldChange,
    Lead,
    SyncLog,
    Vehicle,
)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("password")
    is_staff = True


class SuperuserFactory(UserFactory):
    is_superuser = True


class DealershipFactory(DjangoModelFactory):
    class Meta:
        model = Dealership
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Dealership {n}")
    slug = factory.Sequence(lambda n: f"dealership-{n}")


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = DealershipMembership

    user = factory.SubFactory(UserFactory)
    dealership = factory.SubFactory(DealershipFactory)
    role = DealershipMembership.Role.ADMIN


class CredentialFactory(DjangoModelFactory):
    """Credentials matching the sandbox's first account unless told otherwise."""

    class Meta:
        model = EasyCarsCredential

    # Not Meta.exclude: factory_boy drops excluded values before _create, and the secrets would be lost.
    _secret_names = ("client_id", "client_secret", "account_number", "account_secret")

    dealership = factory.SubFactory(DealershipFactory)
    environment = EasyCarsCredential.Environment.TEST
    client_id = "00000000-0000-0000-0000-000000000001"
    client_secret = "00000000-0000-0000-0000-000000000002"
    account_number = "EC000001"
    account_secret = "00000000-0000-0000-0000-000000000003"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        secrets = {name: kwargs.pop(name) for name in cls._secret_names if name in kwargs}
        obj = model_class(*args, **kwargs)
        obj.set_secrets(**secrets)
        obj.save()
        return obj

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        secrets = {name: kwargs.pop(name) for name in cls._secret_names if name in kwargs}
        obj = model_class(*args, **kwargs)
        obj.set_secrets(**secrets)
        return obj


class VehicleFactory(DjangoModelFactory):
    class Meta:
        model = Vehicle

    dealership = factory.SubFactory(DealershipFactory)
    make = factory.Iterator(["Toyota", "Mazda", "Ford", "Hyundai", "Volvo"])
    model = factory.Iterator(["Corolla", "CX-5", "Ranger", "i30", "V90"])
    badge = "GX"
    year = factory.Sequence(lambda n: 2015 + n % 10)
    title = factory.LazyAttribute(lambda v: f"{v.year} {v.make} {v.model} {v.badge}".strip())
    price = factory.Sequence(lambda n: 15000 + (n % 50) * 1000)
    odometer = factory.Sequence(lambda n: 10000 + n * 1000)
    condition = Vehicle.Condition.USED
    status = Vehicle.Status.AVAILABLE
    body = "4D SEDAN"
    fuel_type = "Petrol"
    gear_type = "Automatic"


class EasyCarsVehicleFactory(VehicleFactory):
    data_source = "easycars"
    easycars_stock_number = factory.Sequence(lambda n: f"{1000 + n}")
    easycars_yard_code = "100"


class LeadFactory(DjangoModelFactory):
    class Meta:
        model = Lead

    dealership = factory.SubFactory(DealershipFactory)
    name = factory.Sequence(lambda n: f"Customer {n}")
    email = factory.LazyAttribute(lambda lead: f"{lead.name.replace(' ', '.').lower()}@example.com")
    phone = "0400000000"
    message = "Is this car still available?"


class SyncLogFactory(DjangoModelFactory):
    class Meta:
        model = SyncLog

    dealership = factory.SubFactory(DealershipFactory)
    sync_type = SyncLog.SyncType.STOCK
    direction = SyncLog.Direction.INBOUND
    status = SyncLog.Status.SUCCESS
    started_at = factory.Faker("date_time_this_month", tzinfo=__import__("datetime").timezone.utc)


class FieldChangeFactory(DjangoModelFactory):
    """A vehicle's field change; ``changed_at`` is auto_now_add: age it with an update."""

    class Meta:
        model = FieldChange

    vehicle = factory.SubFactory(VehicleFactory)
    field = "odometer"
    old_value = 10000
    new_value = 12000
