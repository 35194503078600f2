"""Running code in several threads at once, released together by a barrier."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from petitions.extensions import db


def run_concurrently(function, argument_lists: list[tuple], timeout: float = 60.0) -> list:
    """Call function(*arguments) once per entry, each in its own thread, all released together.

    Returns the results in order and re-raises the first exception of any thread. A thread
    has no Flask context of its own, so each request it makes gets its own app context
    and database session, as in production.
    """
    # End the test's own transaction first: on SQLite it would hold the write lock
    # (every transaction begins IMMEDIATE) and every thread would wait on it.
    db.session.commit()
    barrier = threading.Barrier(len(argument_lists))

    def call(arguments):
        barrier.wait(timeout)
        return function(*arguments)

    with ThreadPoolExecutor(max_workers=len(argument_lists)) as pool:
        futures = [pool.submit(call, arguments) for arguments in argument_lists]
        return [future.result(timeout=timeout) for future in futures]
