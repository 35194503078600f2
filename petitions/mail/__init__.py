"""Email: templates rendered into outbox rows by the request, sent by the worker.

Domain helpers (signing.email) call queue_email(); mail.delivery turns due outbox
rows into SMTP messages. The row, committed with the data it belongs to, is the
truth; the Celery task is only a nudge.
"""

from petitions.mail.outbox import queue_email

__all__ = ["queue_email"]
