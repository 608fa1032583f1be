"""Editor edits lock fields of EasyCars vehicles, so the next sync keeps the editor's value.

An editor saving a vehicle goes through ``Model.save()`` and so through ``pre_save``; the sync
writes with ``bulk_create``/``bulk_update``/``update()``, which send no signals, so only people
(and code that saves vehicles the way people do) lock fields. The row as stored is compared with
the instance being saved; each changed syncable field is added to ``locked_fields`` and recorded
as an editor FieldChange. The receivers are connected in ``apps.py``.
"""

from ...models import FieldChange, Vehicle
from ...models.vehicles import DataSource
from .mapping import SYNC_FIELDS, to_json


def find_edited_fields(sender, instance, raw=False, update_fields=None, **kwargs):
    instance._easycars_edits = []
    if raw or instance.pk is None or instance.data_source != DataSource.EASYCARS:
        return
    fields = [name for name in SYNC_FIELDS if update_fields is None or name in update_fields]
    if not fields:
        return
    stored = Vehicle.objects.filter(pk=instance.pk, data_source=DataSource.EASYCARS).values(*fields).first()
    if stored is None:
        return
    instance._easycars_edits = [
        (name, stored[name], getattr(instance, name)) for name in fields if getattr(instance, name) != stored[name]
    ]


def lock_edited_fields(sender, instance, created=False, raw=False, **kwargs):
    edits = getattr(instance, "_easycars_edits", None)
    instance._easycars_edits = []
    if not edits or created or raw:
        return
    locked = list(instance.locked_fields or [])
    locked += [name for name, _, _ in edits if name not in locked]
    instance.locked_fields = locked
    Vehicle.objects.filter(pk=instance.pk).update(locked_fields=locked)
    FieldChange.objects.bulk_create(
        FieldChange(
            vehicle_id=instance.pk,
            field=name,
            old_value=to_json(name, old),
            new_value=to_json(name, new),
            source=FieldChange.Source.EDITOR,
        )
        for name, old, new in edits
    )
