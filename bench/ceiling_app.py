"""The ceiling for the web benchmarks: a trivial Flask endpoint, served by the same
gunicorn configuration as the service (`gunicorn ... bench.ceiling_app:app`)."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def ok() -> str:
    return "ok"
