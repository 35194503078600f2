"""What DKIM signing adds to each message the worker sends (issue 11).

    .venv/bin/python bench/dkim_cost.py            # 300 messages of each size
    .venv/bin/python bench/dkim_cost.py --quick    # 30

No goal is set for it; the figure belongs next to the email benchmark's, whose
per-message budget it spends. For a confirmation-sized message (about 4 KB) and a
digest-sized one (about 40 KB), in one process: compose() alone, then compose() and
DkimSigner.sign() with a 2048-bit key, as petitions/mail/delivery.py does. Reports the
milliseconds per message of each, and the ratio, from the same run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

import harness  # noqa: E402

from petitions.mail.dkim import DkimKey, DkimSigner, generate_private_key, key_bits  # noqa: E402
from petitions.mail.mime import compose  # noqa: E402

HEADERS = [
    ("From", "Petitions <petitions@truthandresistance.example>"),
    ("To", "ana@example.net"),
    ("Subject", "Please confirm your signature: Keep DC police out of immigration enforcement"),
    ("Date", "Sun, 29 Nov 2026 15:00:00 +0000"),
    ("Message-ID", "<bench.1@truthandresistance.example>"),
    ("Auto-Submitted", "auto-generated"),
]
PARAGRAPH = ("Every resident of this city should be able to call the police, report a crime "
             "or act as a witness without fearing that the call ends with a family torn apart. ")


def bodies(kilobytes: int) -> tuple[str, str]:
    text = (PARAGRAPH * (kilobytes * 1024 // len(PARAGRAPH) // 3 + 1))
    html = "<p>" + text.replace(". ", ".</p>\n<p>") + "</p>"
    return text, html


def per_message_ms(work, count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        work()
    return (time.perf_counter() - started) * 1000 / count


def measure(signer: DkimSigner, kilobytes: int, count: int) -> dict:
    text, html = bodies(kilobytes)
    names = [name for name, _ in HEADERS]
    size = len(compose(HEADERS, text, html))
    compose_ms = per_message_ms(lambda: compose(HEADERS, text, html), count)
    signed_ms = per_message_ms(lambda: signer.sign(compose(HEADERS, text, html), names), count)
    return {"bytes": size, "messages": count, "compose_ms": round(compose_ms, 3),
            "compose_and_sign_ms": round(signed_ms, 3),
            "sign_ms": round(signed_ms - compose_ms, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="30 messages of each size")
    args = parser.parse_args()
    count = 30 if args.quick else 300
    pem = generate_private_key(2048)
    signer = DkimSigner(DkimKey("bench", "truthandresistance.example", pem, key_bits(pem)))
    sizes = {"confirmation (~4 KB)": 4, "digest (~40 KB)": 40}
    results = {label: measure(signer, kilobytes, count) for label, kilobytes in sizes.items()}
    document = {"date": harness.stamp(), "machine": harness.machine(), "key_bits": 2048,
                "quick": args.quick, "sizes": results}
    rows = [[label, f"{r['bytes']:,}", r["compose_ms"], r["compose_and_sign_ms"], r["sign_ms"]]
            for label, r in results.items()]
    markdown = (f"\n## DKIM signing cost ({document['date']})\n\n"
                + harness.table(["message", "bytes", "compose ms", "compose + sign ms",
                                 "signing ms"], rows)
                + "\nOne process, 2048-bit key, relaxed/relaxed rsa-sha256 (dkimpy).\n")
    harness.save("dkim_cost", document, markdown)


if __name__ == "__main__":
    main()
