"""`kws-nas retrain RESULTS_DIR`: the final retraining of an existing study (what `kws-nas search` does
at its end), then its report. A multirun's parent folder retrains each of its studies, then writes the
combined report. It resumes: only the (candidate, seed) runs the storage lacks are trained, and several
workers may run it on one storage at once.

    kws-nas retrain results/ds_cnn_small
    kws-nas retrain results/ds_cnn_small --top-k 2 --seeds 5 train.epochs=30
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nas.errors import ConfigError

PROG = "kws-nas retrain"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", type=Path, help="a study's results folder, or a multirun's folder of study folders")
    parser.add_argument("--top-k", type=int, default=None, help="front candidates (and as many cheaper than "
                        "Hello Edge's configuration) to retrain (default: retrain.top_k, 1)")
    parser.add_argument("--seeds", type=int, default=None, help="training seeds per candidate (default: retrain.seeds, 3)")
    parser.add_argument("--shortlist", type=int, default=None, help="candidates at most Hello Edge's cost given one "
                        "choosing run before the top-k of them get every seed (default: retrain.shortlist, 3)")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                        help="retrain settings, as `kws-nas search` takes them under retrain. (e.g. train.epochs=30)")


def retrain_conf(overrides: list[str], top_k: int | None, seeds: int | None, shortlist: int | None = None):
    """The RetrainConf of the schema's defaults with ``overrides`` (``retrain.`` prefix optional) applied."""
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    from nas.search.schema import RetrainConf

    dotlist = [o.removeprefix("retrain.") for o in overrides]
    for override in dotlist:
        if "=" not in override:
            raise ConfigError(f"{override!r}: expected KEY=VALUE, e.g. train.epochs=30")
    try:
        conf = OmegaConf.merge(OmegaConf.structured(RetrainConf), OmegaConf.from_dotlist(dotlist))
        if top_k is not None:
            conf.top_k = top_k
        if seeds is not None:
            conf.seeds = seeds
        if shortlist is not None:
            conf.shortlist = shortlist
        return OmegaConf.to_object(conf)
    except OmegaConfBaseException as err:
        raise ConfigError(f"retrain: {str(err).splitlines()[0]} (valid keys: "
                          f"{', '.join(OmegaConf.structured(RetrainConf).keys())})") from None


def run(args: argparse.Namespace) -> int:
    from nas.report.study_report import study_verdicts, write_combined_report, write_study_report
    from nas.results.folder import open_studies
    from nas.search.features import CachedFeatures
    from nas.search.identity import DEFINITION_ATTR
    from nas.search.retrain import check_conf, retrain_study

    conf = retrain_conf(args.overrides, args.top_k, args.seeds, args.shortlist)
    check_conf(conf)
    if not args.dir.is_dir():
        raise ConfigError(f"{args.dir}: no such results folder")
    studies = open_studies(args.dir)
    if not studies:
        raise ConfigError(f"{args.dir}: no study in it (expected a folder `kws-nas search` wrote)")
    failed = 0
    for loaded in studies:
        study = loaded.study
        root = study.user_attrs.get("dataset_root")
        if not root or not Path(root).is_dir():
            raise ConfigError(f"{loaded.folder}: the study's dataset folder {root!r} is missing; retraining needs "
                              f"the data it searched on")
        data = study.user_attrs.get(DEFINITION_ATTR, {}).get("data", {})
        features = CachedFeatures(Path(root), int(data.get("augment_copies", 0)),
                                  split_test_archive=bool(data.get("split_test_archive", False)))
        try:
            outcome = retrain_study(study, features, conf, loaded.folder)
        finally:
            write_study_report(loaded.folder, study)
        failed += len(outcome.failures)
        print(f"{study.study_name}: retrained {len(outcome.sources)} candidates × {conf.seeds} seeds "
              f"({outcome.ran} runs now); see {loaded.folder}/summary.md")
        for verdict in study_verdicts(study):
            print(f"{study.study_name}: retrained: {verdict.describe()}")
    if len(studies) > 1 or studies[0].folder != args.dir:
        write_combined_report(args.dir, rebuild_studies=False)
        print(f"{args.dir}: combined report → summary.md, best.json, dominance.html/png")
    if failed:
        print(f"{PROG}: error: {failed} runs failed (retrain.csv, column fail_reason); rerun to retry them",
              file=sys.stderr)
        return 2
    return 0
