"""What a stock run does after writing the feed: safe delisting and duplicate reports.

A vehicle missing from the feed is unlisted only after ``DELIST_AFTER_MISSING_PULLS`` consecutive
complete pulls, never deleted, and never on a doubtful pull (EasyCars sent a warning, items came
without a stock number, or more than ``MAX_DELIST_FRACTION`` of the listed stock would go at once).
"""

from django.db import transaction
from django.db.models import F, Q
from django.utils.translation import gettext as _

from ...conf import get_setting
from ...models import FieldChange, PotentialDuplicate, Vehicle
from ...models.vehicles import DataSource

UNLISTED = Vehicle.Status.UNLISTED


def delist_missing(index, present_ids, *, partial, recorder, now):
    """Unlist vehicles missing from N consecutive complete pulls; never on a doubtful pull.

    ``index``: the dealership's EasyCars vehicles as they were before the run, as
    ``(id, status, missing_pull_count)``; ``present_ids``: the ids the feed matched.
    """
    listed = [row for row in index if row[1] != UNLISTED]
    missing = [(pk, status, pulls) for pk, status, pulls in listed if pk not in present_ids]
    if not missing:
        return
    if partial:
        recorder.add_warning(
            _(
                "Delisting was skipped: this pull was incomplete (EasyCars sent a warning or items without a "
                "stock number), so %(count)s vehicles missing from it were kept."
            )
            % {"count": len(missing)}
        )
        return
    fraction = float(get_setting("MAX_DELIST_FRACTION"))
    if len(missing) > fraction * len(listed):
        recorder.add_warning(
            _(
                "Delisting was held back: %(missing)s of %(listed)s listed vehicles are missing from this pull, "
                "more than the %(percent)s%% allowed at once. Nothing was delisted; if the stock really left, "
                "unlist the vehicles by hand or raise MAX_DELIST_FRACTION."
            )
            % {"missing": len(missing), "listed": len(listed), "percent": round(fraction * 100)}
        )
        return
    needed = max(1, int(get_setting("DELIST_AFTER_MISSING_PULLS")))
    delist = [(pk, status) for pk, status, pulls in missing if pulls + 1 >= needed]
    wait = [pk for pk, _status, pulls in missing if pulls + 1 < needed]
    with transaction.atomic():
        if wait:
            Vehicle.objects.filter(pk__in=wait).update(missing_pull_count=F("missing_pull_count") + 1)
        if delist:
            Vehicle.objects.filter(pk__in=[pk for pk, _status in delist]).update(
                status=UNLISTED,
                status_changed_at=now,
                updated_at=now,
                missing_pull_count=F("missing_pull_count") + 1,
            )
            FieldChange.objects.bulk_create(
                FieldChange(
                    vehicle_id=pk, field="status", old_value=status, new_value=UNLISTED,
                    source=FieldChange.Source.EASYCARS, sync_log=recorder.log,
                )
                for pk, status in delist
            )  # fmt: skip
    recorder.count("records_delisted", len(delist))


def detect_duplicates(dealership):
    """Report manual vehicles sharing a VIN or stock number with an EasyCars vehicle."""
    vehicles = Vehicle.objects.filter(dealership=dealership)
    # Named sources rather than "not EasyCars", so the data_source index serves the query.
    others = [source for source in DataSource.values if source != DataSource.EASYCARS]
    manual = list(
        vehicles.filter(data_source__in=others)
        .filter(Q(vin__gt="") | Q(easycars_stock_number__gt=""))
        .values("id", "vin", "easycars_stock_number")
    )
    if not manual:
        return
    by_number, by_vin = {}, {}
    for row in vehicles.filter(data_source=DataSource.EASYCARS).values("id", "vin", "easycars_stock_number"):
        by_number[(row["easycars_stock_number"] or "").strip()] = row["id"]
        if row["vin"]:
            by_vin[row["vin"].strip().upper()] = row["id"]
    found = []
    for row in manual:
        vin = (row["vin"] or "").strip().upper()
        number = (row["easycars_stock_number"] or "").strip()
        if vin and vin in by_vin:
            found.append((row["id"], by_vin[vin], PotentialDuplicate.Reason.VIN))
        elif number and number in by_number:
            found.append((row["id"], by_number[number], PotentialDuplicate.Reason.STOCK_NUMBER))
    if found:
        PotentialDuplicate.objects.bulk_create(
            [
                PotentialDuplicate(dealership=dealership, manual_vehicle_id=a, easycars_vehicle_id=b, reason=r)
                for a, b, r in found
            ],
            ignore_conflicts=True,
        )
