"""The search's terminal: one live progress line with log lines printed above it.

One rich ``Console`` (stderr) carries both the progress display (trials done / target, best accuracy
so far, rejected samples) and a ``RichHandler`` on the root logger, so a log line never overwrites
the bar nor the bar a log line. Per-epoch and feature-extraction lines (logger ``nas.search.detail``)
reach the console only when verbose, as do Optuna's tracebacks of failed trials; Hydra's log file in the study folder keeps all of them.
"""
from __future__ import annotations

import logging

from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

DETAIL_LOGGER = "nas.search.detail"  # per-epoch and feature-extraction lines


def is_optuna_failure(record: logging.LogRecord) -> bool:
    """Optuna's report of a failed trial (with its traceback): the loop prints one line per failure
    instead; the log file and ``-v`` keep Optuna's."""
    return record.name.startswith("optuna") and " failed with " in record.getMessage()


class SearchConsole:
    """Context manager: the console log handler of one search, and its live display once started.

    Args:
        show_progress: False: log lines only, no live display.
        verbose: also show per-epoch lines.
    """

    def __init__(self, show_progress: bool, verbose: bool):
        self.console = Console(stderr=True)
        self.handler = RichHandler(console=self.console, show_path=False, markup=False, rich_tracebacks=False,
                                   log_time_format="[%X]")
        self.handler.setLevel(logging.INFO)
        if not verbose:
            self.handler.addFilter(lambda record: not record.name.startswith(DETAIL_LOGGER))
            self.handler.addFilter(lambda record: not is_optuna_failure(record))
        self.progress = Progress(
            TextColumn("trials"), BarColumn(), MofNCompleteColumn(),
            TextColumn("best accuracy {task.fields[best]}"), TextColumn("rejected {task.fields[rejected]}"),
            TimeElapsedColumn(), console=self.console, disable=not show_progress,
        )
        self.task = None

    def start(self, target: int, done: int) -> None:
        """Show the live display: ``done`` of ``target`` trials finished already (a resumed study)."""
        self.task = self.progress.add_task("trials", total=target, completed=min(done, target), best="-", rejected=0)
        self.progress.start()

    def update(self, done: int, best_accuracy: float | None, rejected: int) -> None:
        best = "-" if best_accuracy is None else f"{best_accuracy:.3f}"
        self.progress.update(self.task, completed=done, best=best, rejected=rejected)

    def stop(self) -> None:
        """End the live display (its last state stays on screen); later lines print below it."""
        self.progress.stop()

    def __enter__(self) -> "SearchConsole":
        root = logging.getLogger()
        self._level = root.level
        if root.getEffectiveLevel() > logging.INFO:
            root.setLevel(logging.INFO)
        root.addHandler(self.handler)
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
        root = logging.getLogger()
        root.removeHandler(self.handler)
        root.setLevel(self._level)
