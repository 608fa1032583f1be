"""Resolving what a sync could not decide alone: field conflicts and potential duplicates.

Called by the admin (with the acting user); all writes use ``update()`` so they never lock
fields through :mod:`wagtail_easycars.sync.stock.locks`.
"""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from ...models import Dealership, FieldChange, Lead, PotentialDuplicate, Vehicle, VehicleConflict, VehicleImage
from .mapping import SYNC_FIELDS, from_json, to_json


class ResolutionError(ValueError):
    """The resolution cannot be applied (already resolved, unknown choice or field)."""


def _check_tenant(user, dealership_id):
    """Defence in depth: views check permissions; this refuses another dealership's records."""
    if user is not None and not Dealership.objects.for_user(user).filter(pk=dealership_id).exists():
        raise PermissionDenied


def resolve_conflict(conflict, resolution, user):
    """``keep_local`` keeps the editor's value and the lock; ``accept_easycars`` applies the
    EasyCars value, unlocks the field (later syncs update it again) and records the change."""
    if resolution not in VehicleConflict.EDITOR_RESOLUTIONS:
        raise ResolutionError(_("Unknown resolution %(value)r.") % {"value": resolution})
    if conflict.field not in SYNC_FIELDS:
        raise ResolutionError(_("%(field)s is not a field the sync manages.") % {"field": conflict.field})
    _check_tenant(user, conflict.vehicle.dealership_id)
    now = timezone.now()
    with transaction.atomic():
        current = VehicleConflict.objects.select_for_update().get(pk=conflict.pk)
        if current.resolved_at is not None:
            raise ResolutionError(_("This conflict was already resolved."))
        if resolution == VehicleConflict.Resolution.ACCEPT_EASYCARS:
            vehicle = Vehicle.objects.select_for_update().get(pk=conflict.vehicle_id)
            old = getattr(vehicle, conflict.field)
            locked = [name for name in vehicle.locked_fields or [] if name != conflict.field]
            Vehicle.objects.filter(pk=vehicle.pk).update(
                **{conflict.field: from_json(conflict.field, current.easycars_value)},
                locked_fields=locked,
                updated_at=now,
            )
            FieldChange.objects.create(
                vehicle=vehicle,
                field=conflict.field,
                old_value=to_json(conflict.field, old),
                new_value=current.easycars_value,
                source=FieldChange.Source.CONFLICT_RESOLUTION,
                user=user,
            )
        VehicleConflict.objects.filter(pk=conflict.pk).update(resolution=resolution, resolved_at=now, resolved_by=user)
    conflict.refresh_from_db()
    return conflict


def unlock_fields(vehicle, fields):
    """Let EasyCars manage ``fields`` again; the next sync re-applies their EasyCars values."""
    with transaction.atomic():
        current = Vehicle.objects.select_for_update().get(pk=vehicle.pk)
        locked = [name for name in current.locked_fields or [] if name not in set(fields)]
        # Forgetting the content hash makes the next sync compare every field again.
        Vehicle.objects.filter(pk=vehicle.pk).update(locked_fields=locked, easycars_content_hash="")
    vehicle.locked_fields = locked
    vehicle.easycars_content_hash = ""
    return locked


def resolve_duplicate(duplicate, resolution, user):
    """``kept_separate`` closes the report; ``merged`` moves the manual vehicle's leads and photos
    onto the EasyCars vehicle and unlists the manual one (it is kept, not deleted, so nothing is
    lost: delete it by hand once checked)."""
    if resolution not in (PotentialDuplicate.Resolution.MERGED, PotentialDuplicate.Resolution.KEPT_SEPARATE):
        raise ResolutionError(_("Unknown resolution %(value)r.") % {"value": resolution})
    _check_tenant(user, duplicate.dealership_id)
    now = timezone.now()
    with transaction.atomic():
        current = PotentialDuplicate.objects.select_for_update().get(pk=duplicate.pk)
        if current.resolution != PotentialDuplicate.Resolution.OPEN:
            raise ResolutionError(_("This duplicate was already resolved."))
        if resolution == PotentialDuplicate.Resolution.MERGED:
            manual_id, target_id = current.manual_vehicle_id, current.easycars_vehicle_id
            Lead.objects.filter(vehicle_id=manual_id).update(vehicle_id=target_id)
            last = VehicleImage.objects.filter(vehicle_id=target_id).aggregate(m=Max("sort_order"))["m"] or 0
            for offset, image in enumerate(VehicleImage.objects.filter(vehicle_id=manual_id).order_by("sort_order")):
                VehicleImage.objects.filter(pk=image.pk).update(vehicle_id=target_id, sort_order=last + 1 + offset)
            Vehicle.objects.filter(pk=manual_id).update(
                status=Vehicle.Status.UNLISTED, status_changed_at=now, updated_at=now
            )
            FieldChange.objects.create(
                vehicle_id=manual_id,
                field="status",
                old_value=current.manual_vehicle.status,
                new_value=Vehicle.Status.UNLISTED,
                source=FieldChange.Source.EDITOR,
                user=user,
            )
        PotentialDuplicate.objects.filter(pk=current.pk).update(
            resolution=resolution, resolved_at=now, resolved_by=user
        )
    duplicate.refresh_from_db()
    return duplicate
