"""Debian packages the benchmarks use, installed on first use so a new machine needs no
hand set-up: Postfix's smtp-sink, the fast SMTP sink that keeps the sink from being
the bottleneck, and wrk, the load generator (C, a few percent of a core)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

# command -> (Debian package, where the package puts it when it is not on PATH)
PACKAGES = {
    "smtp-sink": ("postfix", "/usr/sbin/smtp-sink"),
    "wrk": ("wrk", "/usr/bin/wrk"),
}


def find(command: str) -> str | None:
    package, fallback = PACKAGES[command]
    return shutil.which(command) or (fallback if Path(fallback).exists() else None)


def ensure(command: str) -> str | None:
    """The command's path, installing its package with apt when we are root; None when it
    cannot be had (the caller then says which fallback it uses)."""
    found = find(command)
    if found or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    package = PACKAGES[command][0]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if package == "postfix":  # it asks how to configure itself; this installs the tools only
        subprocess.run(["debconf-set-selections"], input="postfix postfix/main_mailer_type "
                       "select No configuration\n", text=True, check=False)
    for attempt in (["apt-get", "install", "-y", "-q", package],
                    ["sh", "-c", f"apt-get update -q && apt-get install -y -q {package}"]):
        if subprocess.run(attempt, env=env, capture_output=True, timeout=600).returncode == 0:
            break
    return find(command)
