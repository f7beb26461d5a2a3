"""Debian's Chromium, driven by Playwright on a thread of its own.

Playwright's sync API allows one instance per thread, and test_browser.py holds one on the main
thread for the whole session; the page checks and the partner's journey each run theirs here.
"""

from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


@contextmanager
def chromium_on_a_thread(executable: str, name: str):
    """Yield `run(job, *args)`, which calls `job(browser, *args)` on the browser's thread and returns its result."""
    from playwright.sync_api import sync_playwright

    worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
    held = {}

    def start():
        held["playwright"] = sync_playwright().start()
        held["browser"] = held["playwright"].chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)

    def stop():
        if "browser" in held:
            held["browser"].close()
        if "playwright" in held:
            held["playwright"].stop()

    try:
        worker.submit(start).result()
        yield lambda job, *args: worker.submit(job, held["browser"], *args).result()
    finally:
        worker.submit(stop).result()
        worker.shutdown()
