"""Hydra callbacks of `kws-nas search`."""
from __future__ import annotations

import logging

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

log = logging.getLogger("nas.search")


class CombinedReportCallback(Callback):
    """After a --multirun, one table and figure across all study folders under ``results_dir``."""

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        from nas.report.study_report import write_combined_report

        df = write_combined_report(config.results_dir, rebuild_studies=False)
        log.info("combined report of %d studies in %s/", df["study"].nunique(), config.results_dir)
