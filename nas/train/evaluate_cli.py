"""`kws-nas evaluate TARGET --data DIR`: score trained models on any Speech Commands folder.

TARGET is either one checkpoint (``model.pt`` written by ``nas.train.save_checkpoint``) or a results
folder of ``kws-nas search`` (a study's folder, a multirun parent, or a copied ``trials.csv`` or
``best.json``), read by ``nas.results.folder``: per budget class the trial ``best.json`` names, the
best by the accuracy objective the study optimised (ties: less memory).

Features come from ``nas.data.cache.load_features`` with each checkpoint's own front end, so a model
is always fed what it was trained on. ``--json`` prints, for a checkpoint (or a folder with
``--budget-class``), ``{"accuracy", "per_class", "confusion", "data", "split", "data_kind", ...}``;
for a folder, ``{"data", "split", "data_kind", "classes": {class: that object}}``; ``labels`` names the
rows (true) and columns (predicted) of ``confusion``, which text mode prints as a table.

TARGET may also be an int8 ``.tflite``: it runs in TFLite Micro's host interpreter (the firmware's
oracle) on the front end's int8 features. Its front end comes from ``--frontend`` (a checkpoint or an
export bundle's ``model_card.json``), else from ``model.pt`` or ``model_card.json`` beside it.
"""
from __future__ import annotations

import argparse
import functools
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
    parser.add_argument("--cache-dir", type=Path,
                        help="feature cache folder (default: $XDG_CACHE_HOME/kws-nas/features, ~/.cache/...)")
    parser.add_argument("--frontend", type=Path,
                        help="for a .tflite: the checkpoint (.pt) or model_card.json whose front end feeds it "
                             "(default: model.pt or model_card.json beside it)")


def run(args: argparse.Namespace) -> int:
    if args.batch_size < 1:
        raise ConfigError(f"--batch-size must be >= 1, got {args.batch_size}")
    if not args.data.is_dir():
        raise ConfigError(f"--data {args.data}: no such folder; expected a Speech Commands dataset")
    if args.frontend and args.target.suffix != ".tflite":
        raise ConfigError(f"--frontend applies to a .tflite, but {args.target} is not one")
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
    from nas.results.folder import open_results

    best = open_results(target).best()
    if not best:
        raise ConfigError(f"{target}: no completed feasible trial with a checkpoint; nothing to evaluate")
    if budget_class:
        if budget_class not in best:
            raise ConfigError(f"--budget-class {budget_class!r}: {target} has {sorted(best)}")
        best = {budget_class: best[budget_class]}
    for name, trial in best.items():
        if not trial.checkpoint.is_file():
            raise ConfigError(f"{target}: the best {name} model's checkpoint {trial.checkpoint} is missing")
    return {name: {"checkpoint": trial.checkpoint, **trial.metadata()} for name, trial in best.items()}


def describe_data(root: Path) -> str:
    """'generated speech ...' for a folder ``kws-nas data`` generated, else 'recorded speech'."""
    from nas.data.synth import MANIFEST

    if (root / MANIFEST).is_file():
        return GENERATED_NOTE
    return "recorded speech (not generated by kws-nas)"


def _score(entry: dict, args: argparse.Namespace) -> dict:
    """Accuracy, per-class accuracy, confusion matrix and its labels for one checkpoint or int8 .tflite."""
    from nas.data.speech_commands import LABELS
    from nas.train.evaluation import evaluate

    path = Path(entry["checkpoint"])
    if path.suffix == ".tflite":
        model, frontend, arch = _tflite_model(path, args.frontend)
        runtime = "int8, TFLite Micro"
    else:
        from nas.spaces import Candidate
        from nas.train.checkpoint import load_checkpoint

        model, candidate_dict, _ = load_checkpoint(path)
        frontend, arch, runtime = Candidate.from_dict(candidate_dict).frontend, candidate_dict.get("arch"), "float, torch"
    features = _features(args, frontend, path)
    result = evaluate(model, features, batch_size=args.batch_size, labels=LABELS)
    # the search's own figures stay beside this score; its accuracy objective is renamed, not this score
    meta = {("search_accuracy" if k == "accuracy" else k): v for k, v in entry.items() if k != "checkpoint"}
    return {**result, "labels": list(LABELS), "clips": int(features.labels.numel()), "checkpoint": str(path),
            "arch": arch, "runtime": runtime, **meta}


def _features(args: argparse.Namespace, frontend, model_path: Path):
    from nas.data.cache import load_features

    features = load_features(args.data, frontend, args.split, seed=args.seed, cache_dir=args.cache_dir,
                             progress=not args.json)
    if features.labels.numel() == 0:
        raise ConfigError(f"--data {args.data}: split {args.split!r} holds no clips; try another --split")
    if tuple(features.features.shape[1:]) != tuple(frontend.input_shape):
        raise ConfigError(f"{model_path}: front end gives {frontend.input_shape}, features are "
                          f"{tuple(features.features.shape[1:])}")
    return features


def _tflite_model(path: Path, frontend_source: Path | None):
    """(classifier running ``path`` in TFLite Micro, its front end, its architecture or None)."""
    model, candidate = tflite_candidate(path, frontend_source)
    return _tflm_classifier()(model, candidate.frontend), candidate.frontend, candidate.arch


def tflite_candidate(path: Path, frontend_source: Path | None):
    """(the bytes of an int8 .tflite, the candidate whose front end feeds it; `kws-nas stream` uses it too).

    The front end comes from ``frontend_source`` or the first of ``model.pt``, ``<stem>.pt`` and
    ``model_card.json`` beside the .tflite (a search's trial folder, an export bundle); the model's
    own int8 input (shape and scale) must match it.
    """
    from nas.export.tflite import io_quantization

    try:
        model = path.read_bytes()
    except OSError as err:
        raise ConfigError(f"{path}: cannot read the model ({err.strerror}); expected an int8 .tflite") from None
    try:
        io = io_quantization(model)
    except Exception as err:  # not a flatbuffer, or not a model
        raise ConfigError(f"{path}: not a readable .tflite model ({type(err).__name__}: {err})") from None
    given = io["input"]
    shape = tuple(given["shape"][1:])
    if given["dtype"] != "int8":
        raise ConfigError(f"{path}: its input is {given['dtype']}; expected an int8 model as `kws-nas export` writes")
    beside = [path.with_name("model.pt"), path.with_suffix(".pt"), path.with_name("model_card.json")]
    source = frontend_source or next((p for p in beside if p.is_file()), None)
    if source is None:
        raise ConfigError(f"{path}: cannot tell which front end feeds it (input {list(shape)} int8, scale "
                          f"{given['scale']:g}): no model.pt or model_card.json beside it; pass --frontend "
                          f"CHECKPOINT.pt or MODEL_CARD.json")
    candidate = _candidate_of(source)
    frontend = candidate.frontend
    if shape != tuple(frontend.input_shape) or not math.isclose(given["scale"], 2.0 ** -frontend.int8_frac_bits,
                                                                 rel_tol=1e-6) or given["zero_point"] != 0:
        raise ConfigError(f"{path}: its input is {list(shape)} at scale {given['scale']:g}, but the front end of "
                          f"{source} gives {list(frontend.input_shape)} at scale {2.0 ** -frontend.int8_frac_bits:g}")
    return model, candidate


def _candidate_of(source: Path):
    """The candidate recorded in a checkpoint (.pt) or an export bundle's model_card.json."""
    from nas.spaces import Candidate

    if not source.is_file():
        raise ConfigError(f"--frontend {source}: no such file; expected a checkpoint (.pt) or model_card.json")
    if source.suffix == ".json":
        try:
            return Candidate.from_dict(json.loads(source.read_text())["candidate"])
        except (ValueError, KeyError, TypeError) as err:
            raise ConfigError(f"{source}: expected a model_card.json with a 'candidate' ({type(err).__name__}: "
                              f"{err})") from None
    from nas.train.checkpoint import load_checkpoint

    return Candidate.from_dict(load_checkpoint(source)[1])


@functools.cache
def _tflm_classifier():
    """The class, made on first use: torch is imported only when a verb runs."""
    import torch

    class TflmClassifier(torch.nn.Module):
        """An int8 .tflite as a torch module: float features → the front end's int8 grid → TFLite Micro."""

        def __init__(self, model: bytes, frontend) -> None:
            super().__init__()
            self.model, self.frontend = model, frontend

        def forward(self, features: torch.Tensor) -> torch.Tensor:
            from nas.export.tflite import quantize_features, run_tflm

            logits = run_tflm(self.model, quantize_features(features.numpy(), self.frontend))
            return torch.from_numpy(logits.astype("float32"))

    return TflmClassifier


def _text(name: str, result: dict) -> str:
    title = f"{result['checkpoint']} ({result['arch']}, {result['runtime']}"
    title += f", {name}, trial {result['trial']})" if "trial" in result else ")"
    lines = [title, f"  accuracy {100 * result['accuracy']:.2f} % on {result['clips']} clips"]
    if result.get("search_accuracy") is not None:
        kind = "int8 " if result.get("accuracy_objective") == "int8" else ""
        lines.append(f"  ({kind}validation accuracy in its search: {100 * result['search_accuracy']:.2f} %, "
                     f"on the search's data)")
    for (label, acc), row in zip(result["per_class"].items(), result["confusion"]):
        shown = f"{100 * acc:6.2f} %" if acc is not None else "     — "
        lines.append(f"    {label:<10} {shown}  ({sum(row)} clips)")
    return "\n".join(lines + ["", *confusion_lines(result["labels"], result["confusion"])])


def confusion_lines(labels: list[str], confusion: list[list[int]]) -> list[str]:
    """The confusion matrix as text: rows are the true labels, columns the predicted ones."""
    short = [label.strip("_")[:5] for label in labels]
    lines = ["  confusion (rows: true label, columns: predicted)", "    " + " " * 10 + "".join(f"{s:>6}" for s in short)]
    lines += [f"    {label:<10}" + "".join(f"{n:>6}" for n in row) for label, row in zip(labels, confusion)]
    return lines


