"""Fixtures for the signing tests (shared fixtures live in tests/conftest.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from petitions.database import utcnow
from petitions.extensions import db
from tests.factories import PetitionFactory


@pytest.fixture
def petition(app):
    return PetitionFactory(slug="sanctuary-city", title="Keep DC a sanctuary city")


@pytest.fixture(params=["state_closed", "deadline_passed"])
def close_petition(request):
    """Close a petition one of the two ways a petition closes; commits."""

    def close(petition) -> None:
        if request.param == "state_closed":
            petition.state = "closed"
        else:
            petition.closes_at = utcnow() - timedelta(minutes=1)
        db.session.commit()

    return close
