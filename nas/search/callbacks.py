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

        from nas.report.study_report import study_verdicts
        from nas.results.dominance import dominance_line
        from nas.results.folder import open_studies

        df = write_combined_report(config.results_dir, rebuild_studies=False)
        log.info("combined report of %d studies in %s/", df["study"].nunique(), config.results_dir)
        verdicts = [v for loaded in open_studies(config.results_dir) for v in study_verdicts(loaded.study)]
        if verdicts:
            log.info("retrained: the search %s (%s/dominance.html)", dominance_line(verdicts), config.results_dir)
