"""Changed items applied to their stored vehicles, keeping what editors locked.

A synced field takes the value EasyCars sends, with a FieldChange row (from -> to) for its
history, unless an editor locked it (``Vehicle.locked_fields``): the editor's value then stays
and a different EasyCars value is kept as an open VehicleConflict, one per vehicle and field,
refreshed with the latest value. Once the vehicle shows the value EasyCars sends, an open
conflict on that field is moot and is closed as agreed. A batch's writes are gathered and made
in bulk: one query per kind of write, however many vehicles the batch holds.
"""

from ...models import FieldChange, Vehicle, VehicleConflict
from . import mapping
from .photos.gallery import ImageWork

UNLISTED = Vehicle.Status.UNLISTED
PHOTOS_COMPLETE = Vehicle.PhotosState.COMPLETE
#: Columns loaded for the vehicles whose item changed.
UPDATE_COLUMNS = (
    *mapping.SYNC_FIELDS,
    "dealership",
    "data_source",
    "easycars_stock_number",
    "easycars_raw_data",
    "locked_fields",
    "status_changed_at",
    "photos_state",
)
#: Written for every updated vehicle; changed fields, and the columns that follow them, are added.
SYNCED_COLUMNS = ("easycars_content_hash", "easycars_raw_data", "last_synced_from_easycars", "missing_pull_count")


def apply_updates(updates, result, *, log, now):
    """Apply each changed item to its stored vehicle, then write the batch's changes in bulk.

    ``updates`` holds ``(vehicle id, stored images hash, MappedStockItem)``. The counts, the ids
    of vehicles whose fields changed and the photo work are added to ``result`` (a BatchResult).
    A vehicle whose URL list changed is written with its photos pending, in the same row write;
    every vehicle whose photos are not complete gets photo work.
    """
    vehicles = Vehicle.objects.only(*UPDATE_COLUMNS).in_bulk([vehicle_id for vehicle_id, _, _ in updates])
    writes = UpdateWrites(log, now, open_conflicts=_open_conflicts(vehicles))
    for vehicle_id, stored_images_hash, mapped in updates:
        vehicle = vehicles.get(vehicle_id)
        if vehicle is None:  # deleted meanwhile by an editor: it will be created again next run
            continue
        was_unlisted = vehicle.status == UNLISTED
        raw_changed = vehicle.easycars_raw_data != mapped.raw
        changed = writes.apply(vehicle, mapped)
        if mapped.images_hash != stored_images_hash:
            writes.mark_photos_pending(vehicle)
        if was_unlisted and vehicle.status != UNLISTED:  # not when an editor locked the status as unlisted
            result.relisted += 1
        if changed:
            result.written.append(vehicle.pk)
        if changed or raw_changed:
            result.updated += 1
        else:
            result.unchanged += 1
        if vehicle.photos_state != PHOTOS_COMPLETE:
            result.image_work.append(ImageWork(vehicle.pk, mapped.stock_number, mapped.image_urls, mapped.images_hash))
    writes.save()


def _open_conflicts(vehicles):
    """(vehicle id, field) -> the open VehicleConflict, for these vehicles."""
    conflicts = VehicleConflict.objects.filter(vehicle_id__in=list(vehicles), resolved_at__isnull=True)
    return {(c.vehicle_id, c.field): c for c in conflicts}


class UpdateWrites:
    """The writes a batch of updates adds up to, gathered vehicle by vehicle and saved in bulk."""

    def __init__(self, log, now, *, open_conflicts):
        self.log = log
        self.now = now
        self.open_conflicts = open_conflicts
        self.vehicles = []
        self.columns = set(SYNCED_COLUMNS)
        self.field_changes = []
        self.new_conflicts = []
        self.refreshed_conflicts = []
        self.agreed_conflict_ids = []

    def apply(self, vehicle, mapped):
        """Bring ``vehicle`` up to date with ``mapped`` (in memory); return the names of the fields changed."""
        locked = set(vehicle.locked_fields or [])
        changed = []
        for name in mapping.SYNC_FIELDS:
            new, old = mapped.fields[name], getattr(vehicle, name)
            if new != old and name in locked:
                self._keep_editor_value(vehicle, name, old, new)
                continue
            # The vehicle shows EasyCars' value from here on (EasyCars now sends the editor's
            # value, or the field was unlocked): an open conflict on it is moot.
            if (vehicle.pk, name) in self.open_conflicts:
                self.agreed_conflict_ids.append(self.open_conflicts[vehicle.pk, name].pk)
            if new != old:
                self._take_easycars_value(vehicle, name, old, new)
                changed.append(name)
        self._mark_synced(vehicle, mapped, changed)
        return changed

    def _keep_editor_value(self, vehicle, name, old, new):
        """Open a conflict on a locked field EasyCars sends differently, or refresh the open one."""
        local, remote = mapping.to_json(name, old), mapping.to_json(name, new)
        conflict = self.open_conflicts.get((vehicle.pk, name))
        if conflict is None:
            self.new_conflicts.append(
                VehicleConflict(
                    vehicle=vehicle, field=name, local_value=local, easycars_value=remote, sync_log=self.log
                )
            )
        else:
            conflict.local_value, conflict.easycars_value = local, remote
            conflict.sync_log = self.log
            self.refreshed_conflicts.append(conflict)

    def _take_easycars_value(self, vehicle, name, old, new):
        setattr(vehicle, name, new)
        self.field_changes.append(
            FieldChange(
                vehicle=vehicle, field=name, old_value=mapping.to_json(name, old),
                new_value=mapping.to_json(name, new), source=FieldChange.Source.EASYCARS, sync_log=self.log,
            )
        )  # fmt: skip

    def _mark_synced(self, vehicle, mapped, changed):
        """Store the item's raw data and hash on the vehicle, and the columns its changes touch."""
        if "status" in changed:
            vehicle.status_changed_at = self.now
            self.columns.add("status_changed_at")
        if vehicle.easycars_stock_number != mapped.stock_number:  # matched by VIN: the stock number moved
            vehicle.easycars_stock_number = mapped.stock_number
            self.columns.add("easycars_stock_number")
        vehicle.easycars_raw_data = mapped.raw
        vehicle.easycars_content_hash = mapped.content_hash
        vehicle.last_synced_from_easycars = self.now
        vehicle.missing_pull_count = 0
        if changed:
            vehicle.updated_at = self.now
            self.columns.add("updated_at")
        self.columns.update(changed)
        self.vehicles.append(vehicle)

    def mark_photos_pending(self, vehicle):
        """The vehicle's URL list changed: its photos are pending until the photo work finishes."""
        vehicle.photos_state = Vehicle.PhotosState.PENDING
        self.columns.add("photos_state")

    def save(self):
        """Write what was gathered: one query per kind of write."""
        if self.vehicles:
            Vehicle.objects.bulk_update(self.vehicles, sorted(self.columns))
        if self.field_changes:
            FieldChange.objects.bulk_create(self.field_changes)
        if self.new_conflicts:
            VehicleConflict.objects.bulk_create(self.new_conflicts)
        if self.refreshed_conflicts:
            VehicleConflict.objects.bulk_update(self.refreshed_conflicts, ["local_value", "easycars_value", "sync_log"])
        if self.agreed_conflict_ids:
            VehicleConflict.objects.filter(pk__in=self.agreed_conflict_ids, resolved_at__isnull=True).update(
                resolution=VehicleConflict.Resolution.AGREED, resolved_at=self.now, sync_log=self.log
            )
