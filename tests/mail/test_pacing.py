"""The mail rate: one counter per second in Redis for every process, else per process."""

from __future__ import annotations

import threading
import time

from petitions.mail.pacing import Pacer


def _send_for(pacer: Pacer, seconds: float, stamps: list[float]) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pacer.wait()
        stamps.append(time.time())


def test_several_processes_share_one_rate_through_redis(redis_url):
    namespace = f"pacing-test-{time.time_ns()}"
    stamps: list[float] = []
    senders = [
        threading.Thread(target=_send_for, args=(Pacer(40, redis_url, namespace), 2.5, stamps))
        for _ in range(3)
    ]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()

    per_second: dict[int, int] = {}
    for stamp in stamps:
        per_second[int(stamp)] = per_second.get(int(stamp), 0) + 1
    assert max(per_second.values()) <= 40
    assert len(stamps) >= 40  # the limit slows senders down, it does not stop them


def test_without_redis_one_process_keeps_to_the_rate_alone():
    stamps: list[float] = []
    _send_for(Pacer(20), 1.0, stamps)
    assert 15 <= len(stamps) <= 22


def test_an_unreachable_counter_falls_back_to_pacing_alone():
    pacer = Pacer(20, "redis://127.0.0.1:1/0", "nowhere")
    stamps: list[float] = []
    _send_for(pacer, 1.0, stamps)
    assert pacer.redis is None
    assert 15 <= len(stamps) <= 23


def test_throttling_halves_the_pace():
    pacer = Pacer(100)
    pacer.back_off()
    assert pacer.interval == 0.02
