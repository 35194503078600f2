"""What the developer pointed the tests at, read once; then a clean, known environment.

Imported by conftest.py before the app, so no test sees the developer's own settings.
"""

import os
import secrets
from pathlib import Path

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PROJECT_ROOT = Path(__file__).resolve().parents[2]
RUN_ID = secrets.token_hex(4)

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL") or ""
REDIS_URL = os.environ.get("TEST_REDIS_URL") or os.environ.get("REDIS_URL") or ""
for _name in ("DATABASE_URL", "REDIS_URL", "SMTP_URL", "BASE_URL", "MAIL_FROM", "CELERY_QUEUE"):
    os.environ.pop(_name, None)
os.environ.update(
    APP_ENV="test",
    SECRET_KEY="test-" + secrets.token_hex(24),
    BASE_URL="http://petitions.test",
    MAIL_FROM="Petitions <petitions@petitions.test>",
)
