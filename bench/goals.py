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


def _read_p99(name: str, limit_ms: float) -> Callable[[dict], tuple[str, bool]]:
    """Server-time p99 of one endpoint of bench/count_reads.py, at its first (moderate)
    connection count."""
    def check(document: dict) -> tuple[str, bool]:
        first = document["connections"][0]
        run = next(r for r in document["runs"] if r["name"] == name and r["connections"] == first)
        return (f"p99 {run['server_p99_ms']} ms ({run['cpu_ms_per_request']} CPU ms/request, "
                f"{document['signatures']:,} signatures, {first} connections)",
                run["server_p99_ms"] < limit_ms and not document.get("quick"))
    return check


def _email_ratio(document: dict) -> tuple[str, bool]:
    run = document["runs"][0]
    return (f"{run['ratio']} ({run['worker_per_second']:,} against {run['ceiling_per_second']:,}"
            f" msg/s, {run['messages']:,} messages)", run["ratio"] >= 0.8 and run["all_delivered"])


def _intake_rate(document: dict) -> tuple[str, bool]:
    return (f"{document['signatures_per_second']:,}/s, {document['ratio']} of the ceiling",
            document["ratio"] >= 0.3 and document["signatures_per_second"] >= 660)


def _intake_quality(document: dict) -> tuple[str, bool]:
    return (f"p99 {document['p99_ms']} ms, {document['errors']} errors, stored unflagged: "
            f"{'yes' if document['checked'] else 'no'}",
            document["p99_ms"] < 100 and document["errors"] == 0 and document["checked"])


def _confirm_rate(document: dict) -> tuple[str, bool]:
    return (f"{document['confirmations_per_second']:,}/s, {document['ratio']} of the ceiling",
            document["ratio"] >= 0.3)


def _confirm_locks_and_count(document: dict) -> tuple[str, bool]:
    return (f"{document['lock_waits_logged_50ms_or_more']} lock waits >= 50 ms (longest "
            f"{document['longest_lock_wait_sampled_ms']} ms); count exact after "
            f"{document['count_exact_after_s']} s",
            document["lock_waits_logged_50ms_or_more"] == 0
            and (document["count_exact_after_s"] or float("inf")) <= 5)


SOAK_LABELS = {"nothing_lost": "nothing lost", "emailed_exactly_once": "one email each",
               "errors": "no errors"}


def _soak(document: dict) -> tuple[str, bool]:
    goals = document["goals"]
    return (f"{document['minutes']} min at {document['achieved_per_second']}/s: "
            + ", ".join(f"{SOAK_LABELS.get(name, name)}: {'yes' if met else 'NO'}"
                        for name, met in goals.items()),
            all(goals.values()) and not document.get("quick"))


def _spam(document: dict) -> tuple[str, bool]:
    worst = max(document["kinds"], key=lambda kind: kind["score"])
    return f"highest {worst['score']} ({worst['kind']})", document["all_met"]


GOALS: list[Goal] = [
    Goal("intake", "intake", "signing ≥ 0.3 of the trivial endpoint and ≥ 660/s", _intake_rate),
    Goal("intake", "intake", "signing p99 < 100 ms, no errors, every signature stored",
         _intake_quality),
    Goal("confirm", "confirm", "confirmations ≥ 0.3 of the trivial endpoint", _confirm_rate),
    Goal("confirm", "confirm", "no lock wait ≥ 50 ms; count exact ≤ 5 s after the load",
         _confirm_locks_and_count),
    Goal("soak", "soak", "10 min at half the maximum: nothing lost, one email each, no errors",
         _soak),
    Goal("counts", "count_reads", "count.json p99 < 5 ms of server time at 10M signatures",
         _read_p99("count.json", 5)),
    Goal("counts", "count_reads", "petition page p99 < 25 ms of server time at 10M signatures",
         _read_p99("page", 25)),
    Goal("email", "email_throughput", "worker ≥ 0.8 of plain smtplib, every message delivered",
         _email_ratio),
    Goal("digest", "digest_run", "100,000 digests in ≤ 120 s", _digest_time),
    Goal("digest", "digest_run", "worker memory < 300 MB, flat with size", _digest_memory),
    Goal("export-signers", "export_signers", "signer CSV ≥ 0.5 of psql COPY, same bytes",
         _export_ratio),
    Goal("export-signers", "export_signers", "export memory flat with size", _export_memory),
    Goal("export-counts", "export_counts", "each counts export within a few (≤ 10) s",
         _counts_export),
    Goal("spam", "spam_score", "every kind of email scores below 1.0 in SpamAssassin", _spam),
]
