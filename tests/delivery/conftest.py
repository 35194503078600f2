"""The admin test clients (logged in, CSRF on) from tests/admin, and pack helpers."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.admin.conftest import (  # noqa: F401  (fixtures shared with the admin tests)
    admin_client,
    fresh_csrf_per_request,
    make_account,
    moderator_client,
)
from tests.delivery.helpers import mixed_signers
from tests.factories import PetitionFactory


@pytest.fixture
def petition(app):
    """"library": addressed to the Mayor of DC, with an email address, and mixed signers."""
    petition = PetitionFactory(slug="library", title="Fund the library",
                               target="Mayor of DC", target_email="mayor@dc.example")
    mixed_signers(petition)
    return petition


@pytest.fixture
def pdf_text():
    """pdftotext over PDF bytes: the layout-free text of every page."""
    if shutil.which("pdftotext") is None:
        message = "pdftotext is not installed (apt-get install poppler-utils)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{message}; CI=true requires it", pytrace=False)
        pytest.skip(message)

    def read(pdf: bytes) -> str:
        assert pdf.startswith(b"%PDF-"), pdf[:40]
        result = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf,
                                capture_output=True, check=True, timeout=120)
        return result.stdout.decode("utf-8")

    return read
