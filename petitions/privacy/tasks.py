"""Retention, run by beat: IP addresses hourly, anonymising closed petitions daily."""

from __future__ import annotations

from celery import shared_task

from petitions.privacy import retention


@shared_task(name="privacy.hash_old_ips", ignore_result=True)
def hash_old_ips() -> int:
    """IP addresses older than IP_RETENTION_DAYS become keyed hashes."""
    return retention.hash_old_ip_addresses()


@shared_task(name="privacy.anonymise_closed", ignore_result=True)
def anonymise_closed() -> dict[str, int]:
    """Signatures SIGNATURE_RETENTION_MONTHS after their petition closed are anonymised."""
    return retention.anonymise_closed_petitions()
