"""Long-running commands (a served board, the dashboard) stop on Ctrl-C and SIGTERM, however started."""
from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def interrupt_on_signals() -> Iterator[None]:
    """Inside, SIGINT and SIGTERM raise KeyboardInterrupt; the previous handlers come back on leaving.

    Both are set here because a shell starts background jobs (``cmd &``) with SIGINT ignored, and
    Python then never turns Ctrl-C into KeyboardInterrupt: such a process could only be killed."""
    previous = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt
