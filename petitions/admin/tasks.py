"""Periodic admin work run by beat."""

from __future__ import annotations

from celery import shared_task

from petitions.admin.petition_states import close_due_petitions


@shared_task(name="petitions.close_due", ignore_result=True)
def close_due() -> int:
    """Close open petitions whose closing time has passed (beat, every minute)."""
    return len(close_due_petitions())
