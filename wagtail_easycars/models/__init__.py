"""The package's public models."""

from .audit import DealershipLogEntry
from .credentials import EasyCarsCredential
from .dealerships import Dealership, DealershipMembership
from .history import FieldChange
from .leads import Lead, LeadClaim
from .rate_limits import EnquiryRateCounter
from .sync_log import SyncLease, SyncLog
from .vehicles import BrokenPhotoURL, PotentialDuplicate, Vehicle, VehicleConflict, VehicleImage

__all__ = [
    "BrokenPhotoURL",
    "Dealership",
    "DealershipLogEntry",
    "DealershipMembership",
    "EasyCarsCredential",
    "EnquiryRateCounter",
    "FieldChange",
    "Lead",
    "LeadClaim",
    "PotentialDuplicate",
    "SyncLease",
    "SyncLog",
    "Vehicle",
    "VehicleConflict",
    "VehicleImage",
]
