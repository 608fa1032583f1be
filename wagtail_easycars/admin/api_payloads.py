"""The JSON shapes of the admin endpoints (docs/api.md): credentials metadata, runs, the SyncSummary."""

from django.urls import reverse

from ..client.redaction import redact
from ..models import SyncLog
from .dashboard import sync_card


def _iso(value):
    return value.isoformat() if value else None


def credential_metadata(credential):
    """What may be said about stored credentials: never a secret, only the last 4 of the account number."""
    return {
        "id": credential.pk,
        "dealershipId": credential.dealership_id,
        "environment": credential.environment,
        "isConfigured": credential.is_configured,
        "isActive": credential.is_active,
        "yardCode": credential.yard_code,
        "accountNumberLast4": credential.account_number_last4,
        "createdAt": _iso(credential.created_at),
        "updatedAt": _iso(credential.updated_at),
        "updatedBy": credential.updated_by.get_username() if credential.updated_by else None,
        "lastSyncedAt": _iso(credential.last_synced_at),
    }


def log_summary(log):
    return {
        "id": log.pk,
        "syncType": log.sync_type,
        "syncDirection": log.direction,
        "status": log.status,
        "trigger": log.trigger,
        "startedAt": _iso(log.started_at),
        "completedAt": _iso(log.completed_at),
        "durationMs": log.duration_ms,
        "recordsTotal": log.records_total,
        "recordsProcessed": log.records_processed,
        "recordsCreated": log.records_created,
        "recordsUpdated": log.records_updated,
        "recordsUnchanged": log.records_unchanged,
        "recordsFailed": log.records_failed,
        "progressPercent": log.progress_percent,
        "errorMessage": log.error_message,
        "detailUrl": reverse("wagtail_easycars_admin:history_detail", args=[log.pk]),
    }


def log_detail(log):
    return {
        **log_summary(log),
        "dealershipId": log.dealership_id,
        "triggeredBy": log.triggered_by.get_username() if log.triggered_by else None,
        "recordsDelisted": log.records_delisted,
        "recordsRelisted": log.records_relisted,
        "imagesDownloaded": log.images_downloaded,
        "imagesReused": log.images_reused,
        "imagesFailed": log.images_failed,
        "errorDetails": log.error_details,
        "itemFailures": log.item_failures,
        "warnings": log.warnings,
        # Stored redacted already; redacting again costs nothing and guards older rows.
        "requestPayload": redact(log.request_payload),
        "responseSummary": redact(log.response_summary),
    }


def sync_summary(dealership):
    """The architecture document's SyncSummary, plus health, progress and the next scheduled runs."""
    credential = getattr(dealership, "easycars_credential", None)
    cards = {kind: sync_card(dealership, kind) for kind in SyncLog.SyncType.values}

    def card_json(card):
        return {
            "health": card.health,
            "healthLabel": str(card.health_label),
            "nextRunAt": _iso(card.next_run),
            "running": log_summary(card.running) if card.running else None,
        }

    return {
        "dealership": {"id": dealership.pk, "slug": dealership.slug, "name": dealership.name},
        "isConfigured": bool(credential and credential.is_configured),
        "isActive": bool(credential and credential.is_active),
        "isSyncing": any(card.running for card in cards.values()),
        "lastStockSync": _last(cards[SyncLog.SyncType.STOCK]),
        "lastLeadSync": _last(cards[SyncLog.SyncType.LEAD]),
        "stock": card_json(cards[SyncLog.SyncType.STOCK]),
        "leads": card_json(cards[SyncLog.SyncType.LEAD]),
        "recentLogs": [log_summary(log) for log in SyncLog.objects.filter(dealership=dealership)[:10]],
    }


def _last(card):
    return log_summary(card.last_run) if card.last_run else None
