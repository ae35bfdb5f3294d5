"""Batched work on a thread pool with progress and a stop check between batches.

Pillow and file reads release the GIL, so threads decode images in parallel without the
cost of processes; at most two batches per thread are queued, so a stop takes effect
within one batch.
"""
from __future__ import annotations

import os
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from typing import Callable, TypeVar

from ..progress import Cancelled, ProgressFn, StopFn, check_stop, report_progress

R = TypeVar("R")
BATCH = 256  # items per batch: the unit of progress and of stopping


def run_batches(n: int, work: Callable[[int, int], R], message: str, progress: ProgressFn | None = None,
                should_stop: StopFn | None = None) -> list[R]:
    """[work(start, stop) for every batch of range(n)] in batch order, computed on threads.

    progress gets "<message>: done/n"; should_stop() is checked after every finished batch.
    """
    starts = iter(range(0, n, BATCH))
    workers = min(16, (os.cpu_count() or 2) + 2)
    results: dict[int, R] = {}
    done = 0
    with ThreadPoolExecutor(workers, thread_name_prefix="fer-data") as pool:
        pending = {}

        def submit() -> None:
            start = next(starts, None)
            if start is not None:
                pending[pool.submit(work, start, min(n, start + BATCH))] = start

        for _ in range(2 * workers):
            submit()
        try:
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished:
                    start = pending.pop(fut)
                    results[start] = fut.result()
                    done += min(n, start + BATCH) - start
                check_stop(should_stop)  # before queueing more: a stop runs no new batch
                for _ in finished:
                    submit()
                report_progress(progress, done / n, f"{message}: {done}/{n}")
        except Cancelled:
            for fut in pending:
                fut.cancel()
            raise
    return [results[s] for s in sorted(results)]
