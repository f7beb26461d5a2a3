"""Work that `make run` does inside the app process, in a thread started by the first request.

Started by a request rather than when the app is created, so `flask db upgrade` and the other
commands (which create the app too) never start one, nor does the reloader's watcher process.
Deployments run the same work as processes of its own instead (see the README).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from flask import Flask


def start_on_first_request(app: Flask, name: str, start: Callable[[threading.Event], threading.Thread]) -> None:
    """Call `start(stop)` once, on the app's first request; the thread and its stop event go in app.extensions[name]."""
    lock = threading.Lock()
    stop = threading.Event()

    def start_once() -> None:
        if name in app.extensions:
            return
        with lock:
            if name not in app.extensions:
                app.extensions[name] = (start(stop), stop)

    start_once.__name__ = f"start_{name.rsplit('.', 1)[-1]}"
    app.before_request(start_once)
