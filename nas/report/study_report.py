"""Write the results of a study (or of a multirun's many studies) from their storage alone.

One study's folder gets ``trials.csv``, ``summary.md``, ``best.json``, ``pareto.html/png`` and
``curves.html/png``. A parent folder of several study folders (a multirun) gets ``combined.csv``,
``summary.md``, ``best.json`` and ``pareto.html/png`` across architectures and budget classes, and the
comparison with Hello Edge's published table (``nas.report.comparison``: ``comparison.csv/md/html/png``).
Once a study was retrained (``nas.search.retrain``), its folder also gets ``retrain.csv`` and
``retrain.html/png``, summary.md a section with mean ± std and the verdict against Hello Edge's
configuration, and best.json the retrained choice per class; a multirun parent the same across its
studies, with ``dominance.html/png`` and "dominates k of N cells".
"""
from __future__ import annotations

import logging
from pathlib import Path

import optuna
import pandas as pd

from nas.atomic import write_json_atomic, write_text_atomic
from nas.paths import REFERENCE_DIR
from nas.report import comparison, figures, retrain_report, tables
from nas.results.dominance import CellVerdict, cell_verdicts, dominance_line
from nas.results.folder import UNRECORDED_DATASET, open_studies, recorded_data
from nas.results.trials import COLUMNS, best_json, candidates_of, completed_feasible, measured_latency, ranked, trials_frame

log = logging.getLogger("nas.report")

REFERENCE_CSV = REFERENCE_DIR / "hello_edge.csv"
CURVES_OF_BEST = 5  # training curves drawn for this many best trials


def write_study_report(results_dir: str | Path, study: optuna.Study) -> pd.DataFrame:
    """Rewrite all tables and figures of one study's folder; returns its trials table."""
    results_dir = Path(results_dir)
    df = trials_frame(study)
    _write_csv(df, results_dir / "trials.csv")
    dataset = study.user_attrs.get("dataset", UNRECORDED_DATASET)
    title = f"{study.study_name}: {study.user_attrs.get('search_space', '')} under the {study.user_attrs.get('constraints', '')} budget"
    runs = retrain_report.study_runs(study)
    summary = tables.summary_markdown(df, title, dataset)
    if runs is not None:
        retrain_report.write_runs_csv(runs, results_dir)
        summary += retrain_report.retrain_markdown(runs)
        retrain_report.write_retrain_figure(runs, results_dir / "retrain",
                                            f"{study.study_name}: retrained, mean ± std over seeds<br><sup>accuracy on {dataset}</sup>")
    write_text_atomic(results_dir / "summary.md", summary)
    candidates = candidates_of(study)
    best = best_json(df, candidates, dataset, {}, study.user_attrs.get("dataset_root"),
                     bool(study.user_attrs.get("split_test_archive", False)))
    write_json_atomic(results_dir / "best.json", retrain_report.with_retrained_choice(best, runs, df, candidates))
    arch = study.user_attrs.get("search_space", "")
    reference = load_reference(arch=arch, budget_class=study.user_attrs.get("constraints"))
    limits = study.user_attrs.get("limits", {})
    figures.write_figure(figures.pareto_figure(df, reference, f"{title}<br><sup>accuracy on {dataset}</sup>", limits), results_dir / "pareto")
    if len(measured_latency(df)):
        figures.write_figure(figures.latency_figure(df, f"{study.study_name}: network latency on {study.user_attrs.get('board', 'the board')}"),
                             results_dir / "latency")
    histories = _best_histories(study, df)
    if histories:
        figures.write_figure(figures.curves_figure(histories, f"{study.study_name}: training curves of the best trials"), results_dir / "curves")
    return df


def write_combined_report(parent: str | Path, rebuild_studies: bool = True) -> pd.DataFrame:
    """One table and figure across the study folders directly under ``parent``."""
    parent = Path(parent)
    studies = open_studies(parent)
    if not studies:
        return pd.DataFrame(columns=COLUMNS)
    frames, candidates, prefix, run_frames = [], {}, {}, []
    for loaded in studies:
        study = loaded.study
        frames.append(write_study_report(loaded.folder, study) if rebuild_studies else trials_frame(study))
        candidates.update(candidates_of(study))
        prefix[study.study_name] = f"{loaded.folder.name}/"
        runs = retrain_report.study_runs(study)
        if runs is not None:
            run_frames.append(runs)
    df = pd.concat(frames, ignore_index=True).sort_values(["study", "number"], kind="stable").reset_index(drop=True)
    dataset, root, split = recorded_data([loaded.study for loaded in studies])
    _write_csv(df, parent / "combined.csv")
    summary = tables.summary_markdown(df, f"{len(frames)} studies in {parent}", dataset)
    runs = pd.concat(run_frames, ignore_index=True) if run_frames else None
    if runs is not None:
        retrain_report.write_runs_csv(runs, parent)
        summary += retrain_report.retrain_markdown(runs, combined=True)
        retrain_report.write_retrain_figure(runs, parent / "dominance",
                                            f"Retrained searched models vs Hello Edge's configurations, mean ± std over seeds"
                                            f"<br><sup>{dominance_line(cell_verdicts(runs))}; accuracy on {dataset}</sup>")
    write_text_atomic(parent / "summary.md", summary)
    write_json_atomic(parent / "best.json", retrain_report.with_retrained_choice(
        best_json(df, candidates, dataset, prefix, root, split), runs, df, candidates, prefix))
    fig = figures.combined_figure(df, load_reference(), f"Pareto fronts per architecture and class<br><sup>accuracy on {dataset}</sup>")
    figures.write_figure(fig, parent / "pareto")
    comparison.write_comparison(parent, [loaded.study for loaded in studies], load_reference(), dataset)
    return df


def study_verdicts(study: optuna.Study) -> list[CellVerdict]:
    """The study's verdict against Hello Edge's configuration, from its stored retraining runs ([] if none)."""
    runs = retrain_report.study_runs(study)
    return [] if runs is None else cell_verdicts(runs)


def load_reference(arch: str | None = None, budget_class: str | None = None, path: Path = REFERENCE_CSV) -> pd.DataFrame:
    """Hello Edge's published points (columns arch, budget_class, accuracy 0..1, memory_bytes, ops, label).

    Read from the committed ``results/reference/hello_edge.csv`` (published accuracy; memory in the
    Hello Edge convention and ops computed by nas.cost for the published model_size_info).
    """
    columns = ["arch", "budget_class", "accuracy", "memory_bytes", "ops", "label"]
    if not Path(path).is_file():
        log.warning("no reference points: %s is missing", path)
        return pd.DataFrame(columns=columns)
    ref = pd.read_csv(path, comment="#")
    ref = ref.assign(budget_class=ref["class"], accuracy=ref["accuracy_pct"] / 100,
                     memory_bytes=ref["memory_hello_edge_bytes"])
    if arch:
        ref = ref[ref["arch"] == arch]
    if budget_class:
        ref = ref[ref["budget_class"] == budget_class]
    ref = ref.assign(label=[f"Hello Edge {a} {c}" for a, c in zip(ref["arch"], ref["budget_class"])])
    return ref[columns].reset_index(drop=True)


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    write_text_atomic(path, df.to_csv(index=False, float_format="%.6g"))


def _best_histories(study: optuna.Study, df: pd.DataFrame) -> dict[str, list[dict]]:
    done = ranked(completed_feasible(df))
    numbers = list(done["number"].head(CURVES_OF_BEST))
    by_number = {t.number: t for t in study.get_trials(deepcopy=False)}
    return {f"trial {n}": by_number[n].user_attrs["history"] for n in numbers if by_number[n].user_attrs.get("history")}
