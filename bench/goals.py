"""Every goal the issues set, and how to read it from a benchmark's results JSON.

bench/run.py tables them after a run. A check returns (what was measured, met or not).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Goal:
    benchmark: str  # its name in bench/run.py
    results: str  # bench/results/<results>.json
    text: str
    check: Callable[[dict], tuple[str, bool]]


def _largest(document: dict, key: str) -> dict:
    return max(document["runs"], key=lambda run: run[key])


def _digest_time(document: dict) -> tuple[str, bool]:
    run = _largest(document, "subscribers")
    met = run["finished"] and run["subscribers"] >= 100_000 and run["seconds"] <= 120
    return f"{run['subscribers']:,} in {run['seconds']} s", met


def _digest_memory(document: dict) -> tuple[str, bool]:
    peaks = [run["peak_pss_mb_whole_worker"] for run in document["runs"]]
    flat = max(peaks) / min(peaks)
    return f"{max(peaks)} MB, largest/smallest {flat:.2f}", max(peaks) < 300 and flat < 1.2


def _export_ratio(document: dict) -> tuple[str, bool]:
    run = _largest(document, "rows")
    return (f"{run['ratio_ours_to_copy']} (CLI), {run['ratio_endpoint_to_copy']} (endpoint) "
            f"at {run['rows']:,} rows", run["ratio_endpoint_to_copy"] >= 0.5
            and run["identical_to_copy"])


def _export_memory(document: dict) -> tuple[str, bool]:
    peaks = [run["endpoint_peak_rss_mb"] for run in document["runs"]]
    flat = max(peaks) / min(peaks)
    return f"{max(peaks)} MB, largest/smallest {flat:.2f}", flat < 1.2


def _counts_export(document: dict) -> tuple[str, bool]:
    slowest = max(document["runs"], key=lambda run: run["seconds"])
    return (f"slowest: by {slowest['by']}, {slowest['seconds']} s over "
            f"{document['signatures']:,}", slowest["seconds"] <= 10)


GOALS: list[Goal] = [
    Goal("digest", "digest_run", "100,000 digests in ≤ 120 s", _digest_time),
    Goal("digest", "digest_run", "worker memory < 300 MB, flat with size", _digest_memory),
    Goal("export-signers", "export_signers", "signer CSV ≥ 0.5 of psql COPY, same bytes",
         _export_ratio),
    Goal("export-signers", "export_signers", "export memory flat with size", _export_memory),
    Goal("export-counts", "export_counts", "each counts export within a few (≤ 10) s",
         _counts_export),
]
