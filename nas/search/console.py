"""The search's terminal: one live progress line with log lines printed above it.

One rich ``Console`` (stderr) carries both the progress display (trials done / target, best accuracy
so far, rejected samples) and a ``RichHandler`` on the root logger, so a log line never overwrites
the bar nor the bar a log line. Per-epoch and feature-extraction lines (logger ``nas.search.detail``)
reach the console only when verbose, as do Optuna's tracebacks of failed trials; Hydra's log file in the study folder keeps all of them.
In a --multirun each cell's display and console lines start with where the grid stands, e.g.
"cell 3/21 ds_cnn small: trials 5/24" (and "worker 2/4" when several jobs share the cell's study).
"""
from __future__ import annotations

import logging

from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

DETAIL_LOGGER = "nas.search.detail"  # per-epoch and feature-extraction lines
CELLS_ENV = "KWS_NAS_CELLS"  # the multirun's number of cells, set in each job by `kws-nas search --multirun`


def cell_label(job_num: int, cells: int | None, workers: int, worker: int, search_space: str, constraints: str) -> str:
    """'cell 3/21 ds_cnn small' for Hydra's job ``job_num`` (0-based; a cell's ``workers`` jobs are
    consecutive), with ' worker 2/4' when the cell has several; ``cells`` None: the count is unknown."""
    of = f"/{cells}" if cells else ""
    label = f"cell {job_num // workers + 1}{of} {search_space} {constraints}"
    return label + (f" worker {worker + 1}/{workers}" if workers > 1 else "")


def is_optuna_failure(record: logging.LogRecord) -> bool:
    """Optuna's report of a failed trial (with its traceback): the loop prints one line per failure
    instead; the log file and ``-v`` keep Optuna's."""
    return record.name.startswith("optuna") and " failed with " in record.getMessage()


class SearchConsole:
    """Context manager: the console log handler of one search, and its live display once started.

    Args:
        show_progress: False: log lines only, no live display.
        verbose: also show per-epoch lines.
        label: a multirun cell's ``cell_label``, put before the display and every console line ("": none).
    """

    def __init__(self, show_progress: bool, verbose: bool, label: str = ""):
        self.console = Console(stderr=True)
        self.handler = RichHandler(console=self.console, show_path=False, markup=False, rich_tracebacks=False,
                                   log_time_format="[%X]")
        self.handler.setLevel(logging.INFO)
        if label:
            self.handler.setFormatter(logging.Formatter(f"{label}: %(message)s"))
        if not verbose:
            self.handler.addFilter(lambda record: not record.name.startswith(DETAIL_LOGGER))
            self.handler.addFilter(lambda record: not is_optuna_failure(record))
        self.progress = Progress(
            TextColumn(f"{label}: trials" if label else "trials"), BarColumn(), MofNCompleteColumn(),
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
