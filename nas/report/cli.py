"""`kws-nas report DIR`: rebuild a results folder's tables and figures from its storage alone.

DIR is either one study's folder (it holds ``study.json``, or only ``study.db`` with one study in it)
or a parent of several (a multirun's ``results_dir``), which also gets one combined table and figure
across architectures and classes.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from nas.errors import DataError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", type=Path, help="a study's results folder, or a folder of study folders")


def run(args: argparse.Namespace) -> int:
    from nas.report.study_report import study_verdicts, write_combined_report, write_study_report
    from nas.results.dominance import dominance_line
    from nas.results.folder import open_studies, study_folders
    from nas.results.place import DB_FILE, MARKER

    folder: Path = args.dir
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder")
    if (folder / MARKER).is_file() or (folder / DB_FILE).is_file():
        [loaded] = open_studies(folder)
        df = write_study_report(folder, loaded.study)
        print(f"{folder}: study {loaded.study.study_name}, {len(df)} trials → trials.csv, summary.md, best.json, pareto.html/png, curves.html/png")
        for verdict in study_verdicts(loaded.study):
            print(f"{loaded.study.study_name}: retrained: {verdict.describe()}")
        return 0
    if not study_folders(folder):
        raise DataError(f"{folder}: not a kws-nas results folder: no {MARKER} or {DB_FILE} in it, "
                        f"and no {MARKER} in its sub-folders")
    df = write_combined_report(folder)
    print(f"{folder}: {df['study'].nunique()} studies, {len(df)} trials → combined.csv, summary.md, best.json, pareto.html/png")
    verdicts = [v for loaded in open_studies(folder) for v in study_verdicts(loaded.study)]
    if verdicts:
        print(f"{folder}: retrained: the search {dominance_line(verdicts)} (dominance.html/png)")
    return 0
