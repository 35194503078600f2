"""Celery entry point: `celery -A worker worker` and `celery -A worker beat`."""

from celery.schedules import crontab

from petitions import create_app

flask_app = create_app()
celery_app = flask_app.extensions["celery"]

daily_hour, daily_minute = flask_app.config["DIGEST_DAILY_AT"]
celery_app.conf.beat_schedule = {
    "fold-signature-counts": {
        "task": "signing.fold_counts",
        "schedule": float(flask_app.config["COUNT_REFRESH_SECONDS"]),
        "options": {"expires": 10},
    },
    "sweep-outbox": {"task": "outbox.sweep", "schedule": 30.0, "options": {"expires": 60}},
    "expire-pending-signatures": {"task": "signing.expire_pending", "schedule": crontab(minute=7)},
    "expire-pending-subscriptions": {
        "task": "subscriptions.expire_pending", "schedule": crontab(minute=9)},
    # Privacy: IPs become keyed hashes after IP_RETENTION_DAYS; signatures of petitions
    # closed SIGNATURE_RETENTION_MONTHS ago are anonymised in place.
    "hash-old-ip-addresses": {"task": "privacy.hash_old_ips", "schedule": crontab(minute=23)},
    "anonymise-closed-petitions": {
        "task": "privacy.anonymise_closed", "schedule": crontab(minute=45, hour=3)},
    "purge-sent-outbox": {"task": "outbox.purge", "schedule": crontab(minute=17, hour=3)},
    "nightly-recount": {"task": "signing.recount", "schedule": crontab(minute=30, hour=3)},
    # Open petitions whose closing time has passed become closed within a minute.
    "close-due-petitions": {
        "task": "petitions.close_due",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
    # Milestone updates (goal reached, closed) for petitions that have them switched on.
    "update-milestones": {"task": "updates.milestones", "schedule": 60.0, "options": {"expires": 50}},
    # Resume update sends whose fan-out stalled (a killed worker, a lost task).
    "resume-stalled-updates": {"task": "updates.resume", "schedule": 300.0, "options": {"expires": 240}},
    # Digest chunks the broker lost (a Redis restart keeps nothing), and runs whose start
    # or fan-out was lost, are queued again.
    "resume-digests": {"task": "digests.resume", "schedule": 300.0, "options": {"expires": 240}},
    "poll-article-feeds": {
        "task": "articles.poll_feeds",
        "schedule": 60.0 * flask_app.config["ARTICLE_FEED_INTERVAL"],
    },
    # Crontabs read the site's clock (Celery's timezone is SITE_TIMEZONE).
    "daily-digest": {
        "task": "digests.start",
        "schedule": crontab(minute=daily_minute, hour=daily_hour),
        "args": ("daily",),
    },
    "weekly-digest": {
        "task": "digests.start",
        "schedule": crontab(
            minute=daily_minute,
            hour=daily_hour,
            day_of_week=flask_app.config["DIGEST_WEEKLY_DAY"][:3],
        ),
        "args": ("weekly",),
    },
}
