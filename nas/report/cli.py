"""`kws-nas report DIR`: rebuild a results folder's tables and figures from its storage alone.

DIR is either one study's folder (it holds ``study.json``, or only ``study.db`` with one study in it)
or a parent of several (a multirun's ``results_dir``), which also gets one combined table and figure
across architectures and classes, and the comparison with Hello Edge's published table
(``comparison.csv/md/html/png``). ``--multirun`` insists on the latter kind of folder.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from nas.errors import DataError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", type=Path, help="a study's results folder, or a folder of study folders")
    parser.add_argument("--multirun", action="store_true",
                        help="DIR is a multirun's folder (its results_dir): refuse a single study's folder")


def run(args: argparse.Namespace) -> int:
    from nas.report.study_report import study_verdicts, write_combined_report, write_study_report
    from nas.results.dominance import dominance_line
    from nas.results.folder import open_studies, study_folders
    from nas.results.place import DB_FILE, MARKER

    folder: Path = args.dir
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder")
    one_study = (folder / MARKER).is_file() or (folder / DB_FILE).is_file()
    if one_study and args.multirun:
        raise DataError(f"{folder}: one study's folder, not a multirun's: --multirun takes the multirun's "
                        f"results_dir (the parent of the study folders)")
    if one_study:
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
    if (folder / "comparison.csv").is_file():
        print(f"{folder}: beside Hello Edge's published table → comparison.csv, comparison.md, comparison.html/png")
    verdicts = [v for loaded in open_studies(folder) for v in study_verdicts(loaded.study)]
    if verdicts:
        print(f"{folder}: retrained: the search {dominance_line(verdicts)} (dominance.html/png)")
    return 0
