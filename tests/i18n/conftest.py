"""Fixtures for the language tests."""

from __future__ import annotations

import pytest
from flask_babel import get_domain


@pytest.fixture
def spanish(app):
    """The real Spanish catalogue, freshly loaded: the tests read what readers read."""
    get_domain().cache.clear()
    yield
    get_domain().cache.clear()
