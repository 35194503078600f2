"""gunicorn settings, read automatically from the working directory.

Override with WEB_CONCURRENCY (workers), GUNICORN_THREADS, or any gunicorn flag.
"""

import multiprocessing
import os

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
accesslog = "-"
# Build the app once in the master: a bad setting stops start-up with one line.
preload_app = True
