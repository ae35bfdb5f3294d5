"""20 runs in a row in one app session: open files, threads, child processes and memory
stay within a fixed bound (issue 8, GUI side)."""
import os
import resource
import threading

import pytest

from fer_studio.app import create_window
from fer_studio.settings import Settings


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _children() -> int:
    import multiprocessing

    return len(multiprocessing.active_children())


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2 ** 20


@pytest.mark.slow
@pytest.mark.timeout(1200)  # 20 worker start-ups, each importing torch (~15 min beside 5 other jobs)
def test_twenty_runs_in_a_row_do_not_leak(qtbot, tiny_config, started, wait_end):
    w = create_window(Settings.load())
    qtbot.addWidget(w)
    page = w.pages["training"]
    w.state.set_config(tiny_config(epochs=1, steps=1))
    samples = []
    for _ in range(20):
        run_dir = started(page)
        assert wait_end(qtbot, page, run_dir) == "finished"
        qtbot.wait(50)  # let deleteLater and queued callbacks run
        samples.append((_open_fds(), threading.active_count(), _children(), _rss_mb()))
    base = samples[4]  # after warm-up (imports, caches, thread pool)
    worst = [max(s[k] for s in samples[5:]) for k in range(4)]
    assert worst[0] <= base[0] + 4, f"open files grew: {samples}"
    assert worst[1] <= base[1] + 2, f"threads grew: {samples}"
    # the run that just ended may still be exiting; it is reaped when the next one starts
    assert worst[2] <= 1, f"worker processes left behind: {samples}"
    assert worst[3] <= base[3] + 60, f"memory grew: {samples}"
    assert len(page.monitors) == 0 and len(page.curves) == 1
    for p in w.pages.values():
        getattr(p, "shutdown", lambda: None)()
