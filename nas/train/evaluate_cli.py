"""`kws-nas evaluate TARGET --data DIR`: score trained models on any Speech Commands folder.

TARGET is either one checkpoint (``model.pt`` written by ``nas.train.save_checkpoint``) or a results
folder of ``kws-nas search``. A results folder is read in this order (layout written by
``nas.report.study_report``):

* ``<folder>/best.json``: ``{"dataset": ..., "classes": {"small": {"checkpoint": "trials/7/model.pt",
  "study": ..., "trial": 7, "arch": ..., ...}, ...}}``, checkpoint paths relative to the folder (one
  study, or a multirun parent whose combined ``best.json`` spans studies);
* else ``<folder>/trials.csv`` (one study): per budget class the completed feasible trial with the
  highest validation accuracy (ties: less memory), its checkpoint ``trials/<n>/model.pt``.

Features come from ``nas.data.cache.load_features`` with each checkpoint's own front end, so a model
is always fed what it was trained on. ``--json`` prints, for a checkpoint (or a folder with
``--budget-class``), ``{"accuracy", "per_class", "confusion", "data", "split", "data_kind", ...}``;
for a folder, ``{"data", "split", "data_kind", "classes": {class: that object}}``.
"""
from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from nas.data.splits import SPLITS
from nas.errors import ConfigError

GENERATED_NOTE = "generated speech: this figure ranks models; it says little about accuracy on people"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", type=Path, help="a checkpoint (model.pt) or a results folder of `kws-nas search`")
    parser.add_argument("--data", type=Path, required=True,
                        help="a dataset in either Speech Commands layout (full archive or the 12-class test archive)")
    parser.add_argument("--split", choices=SPLITS, default="test", help="which split to score (default: test)")
    parser.add_argument("--budget-class", help="for a results folder: score only this budget class (e.g. small)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.add_argument("--batch-size", type=int, default=1000, help="clips per forward pass (default: 1000)")
    parser.add_argument("--seed", type=int, default=0,
                        help="loader seed choosing _unknown_/_silence_ clips of a full archive (default: 0)")
    parser.add_argument("--cache-dir", type=Path, help="feature cache folder (default: <data>/.kws_cache)")


def run(args: argparse.Namespace) -> int:
    if args.batch_size < 1:
        raise ConfigError(f"--batch-size must be >= 1, got {args.batch_size}")
    if not args.data.is_dir():
        raise ConfigError(f"--data {args.data}: no such folder; expected a Speech Commands dataset")
    models = resolve_targets(args.target, args.budget_class)
    data_kind = describe_data(args.data)
    scored = {name: _score(entry, args) for name, entry in models.items()}

    single = len(scored) == 1 and (args.target.is_file() or args.budget_class)
    common = {"data": str(args.data), "split": args.split, "data_kind": data_kind}
    if args.json:
        out = {**next(iter(scored.values())), **common} if single else {**common, "classes": scored}
        print(json.dumps(out, indent=1))
        return 0
    print(f"Data: {args.data} (split {args.split}) — {data_kind}")
    for name, result in scored.items():
        print()
        print(_text(name, result))
    return 0


def resolve_targets(target: Path, budget_class: str | None = None) -> dict[str, dict]:
    """``{name: {"checkpoint": Path, ...metadata}}`` for a checkpoint file or a results folder."""
    if target.is_file():
        if budget_class:
            raise ConfigError(f"--budget-class applies to a results folder, but {target} is a file")
        return {"checkpoint": {"checkpoint": target}}
    if not target.is_dir():
        raise ConfigError(f"{target}: no such checkpoint or results folder")
    if (target / "best.json").is_file():
        classes = _from_best_json(target / "best.json")
    elif (target / "trials.csv").is_file():
        classes = _from_trials_csv(target / "trials.csv")
    else:
        raise ConfigError(
            f"{target}: neither best.json nor trials.csv found; expected a results folder of `kws-nas search` "
            f"(or pass one checkpoint, e.g. {target}/trials/<n>/model.pt)"
        )
    if not classes:
        raise ConfigError(f"{target}: no completed feasible trial with a checkpoint; nothing to evaluate")
    if budget_class:
        if budget_class not in classes:
            raise ConfigError(f"--budget-class {budget_class!r}: {target} has {sorted(classes)}")
        classes = {budget_class: classes[budget_class]}
    for name, entry in classes.items():
        if not entry["checkpoint"].is_file():
            raise ConfigError(f"{target}: the best {name} model's checkpoint {entry['checkpoint']} is missing")
    return classes


def _from_best_json(path: Path) -> dict[str, dict]:
    try:
        best = json.loads(path.read_text())
        classes = best["classes"]
        return {
            name: {**{k: v for k, v in entry.items() if k != "candidate"}, "checkpoint": path.parent / entry["checkpoint"]}
            for name, entry in classes.items()
        }
    except (ValueError, KeyError, TypeError) as err:
        raise ConfigError(
            f"{path}: expected {{'classes': {{class: {{'checkpoint': relative path, ...}}}}}} ({type(err).__name__}: {err})"
        ) from err


def _from_trials_csv(path: Path) -> dict[str, dict]:
    import pandas as pd

    from nas.report.tables import best_per_class

    df = pd.read_csv(path, keep_default_na=True)
    needed = {"state", "feasible", "val_acc", "memory_bytes", "budget_class", "checkpoint", "number", "study", "arch"}
    missing = sorted(needed - set(df.columns))
    if missing:
        raise ConfigError(f"{path}: columns {missing} missing; expected the trials.csv of `kws-nas search`")
    df = df[df["checkpoint"].notna() & (df["checkpoint"].astype(str) != "")]
    df = df.assign(feasible=df["feasible"].astype(str).str.lower() == "true", budget_class=df["budget_class"].astype(str))
    return {
        name: {"checkpoint": path.parent / row["checkpoint"], "study": row["study"], "trial": int(row["number"]),
               "arch": row["arch"], "val_acc": _num(row["val_acc"])}
        for name, row in best_per_class(df).items()
    }


def describe_data(root: Path) -> str:
    """'generated speech ...' for a folder ``kws-nas data`` generated, else 'recorded speech'."""
    from nas.data.synth import MANIFEST

    if (root / MANIFEST).is_file():
        return GENERATED_NOTE
    return "recorded speech (not generated by kws-nas)"


def _score(entry: dict, args: argparse.Namespace) -> dict:
    from nas.data.cache import load_features
    from nas.spaces import Candidate
    from nas.train.checkpoint import load_checkpoint
    from nas.train.evaluation import evaluate

    model, candidate_dict, _ = load_checkpoint(entry["checkpoint"])
    frontend = Candidate.from_dict(candidate_dict).frontend
    features = load_features(args.data, frontend, args.split, seed=args.seed, cache_dir=args.cache_dir,
                             progress=not args.json)
    if features.labels.numel() == 0:
        raise ConfigError(f"--data {args.data}: split {args.split!r} holds no clips; try another --split")
    if tuple(features.features.shape[1:]) != tuple(frontend.input_shape):
        raise ConfigError(f"{entry['checkpoint']}: front end gives {frontend.input_shape}, features are "
                          f"{tuple(features.features.shape[1:])}")
    result = evaluate(model, features, batch_size=args.batch_size)
    meta = {k: v for k, v in entry.items() if k != "checkpoint"}
    return {**result, "clips": int(features.labels.numel()), "checkpoint": str(entry["checkpoint"]),
            "arch": candidate_dict.get("arch"), **meta}


def _text(name: str, result: dict) -> str:
    title = f"{result['checkpoint']} ({result['arch']}"
    title += f", {name}, trial {result['trial']})" if "trial" in result else ")"
    lines = [title, f"  accuracy {100 * result['accuracy']:.2f} % on {result['clips']} clips"]
    if result.get("val_acc") is not None:
        lines.append(f"  (validation accuracy in its search: {100 * result['val_acc']:.2f} %, on the search's data)")
    for (label, acc), row in zip(result["per_class"].items(), result["confusion"]):
        shown = f"{100 * acc:6.2f} %" if acc is not None else "     — "
        lines.append(f"    {label:<10} {shown}  ({sum(row)} clips)")
    return "\n".join(lines)


def _num(value) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)
