"""Long-running commands (a served board, the dashboard) stop on Ctrl-C and SIGTERM, however started."""
from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def interrupt_on_signals() -> Iterator[threading.Event]:
    """Inside, SIGINT and SIGTERM raise KeyboardInterrupt and set the event yielded; the previous
    handlers come back on leaving.

    Both are set here because a shell starts background jobs (``cmd &``) with SIGINT ignored, and
    Python then never turns Ctrl-C into KeyboardInterrupt: such a process could only be killed. The
    event is for loops whose body may swallow the exception (wsgiref's request handler catches all)."""
    stopped = threading.Event()

    def interrupt(signum, frame) -> None:
        stopped.set()
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stopped
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
