"""`kws-nas stream AUDIO --model MODEL.tflite [--board B [--port URL]] [--labels CSV] [--json] [--out DIR]`: keyword spotting on long audio.

AUDIO is a wav of any length or a folder of wavs. Each runs through the model's front end on a one-second
window every ``--stride-ms`` (`nas.stream.runner.window_features`), the int8 model (TFLite Micro on the
host) and RecognizeCommands post-processing (`nas.stream.postprocess`). With ``--board`` the same
pipeline runs on the board (`nas.stream.runner.board_stream`: the emulator for mps2_an500 / mps2_an386,
or the board on ``--port``), with the same outputs and detections. Detections of the keyword classes are printed with their times; the
``_silence_`` and ``_unknown_`` classes (names starting with "_") mean "no keyword" and are not reported.

With ``--labels`` (a CSV ``time_s,end_s,label`` as `kws-nas data stream` writes; for a folder of wavs, a
folder holding ``<wav stem>.csv`` each) it scores them: hit rate, false alarms per hour and the mean delay
from word end to detection (`nas.stream.metrics`). ``--out DIR`` writes detections.csv, metrics.json and,
per wav, ``<stem>_posteriors.html/.png``.
"""
from __future__ import annotations

import argparse
import contextlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from nas.errors import ConfigError, DataError

if TYPE_CHECKING:
    import numpy as np

    from nas.board.base import Board
    from nas.data.frontend_config import FrontEndConfig
    from nas.stream.postprocess import PostprocessConfig
    from nas.stream.runner import TflmHostRunner

GENERATED_NOTE = "on generated speech these figures say whether the pipeline works, not how it does on people"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from nas.stream.metrics import MATCH_MS

    parser.add_argument("audio", type=Path, help="a .wav of any length, or a folder of .wav files")
    parser.add_argument("--model", type=Path, required=True, help="int8 .tflite (kws-nas export's model.tflite)")
    parser.add_argument("--labels", type=Path,
                        help="label CSV time_s,end_s,label (for a folder of wavs: a folder of <stem>.csv)")
    parser.add_argument("--board", help="run on this board: mps2_an500 or mps2_an386 (emulated), or any board "
                                        "with --port (default: the host)")
    parser.add_argument("--port", help="serial port or pyserial URL of a real board (with --board)")
    parser.add_argument("--json", action="store_true", help='print {"detections": [...], "metrics": {...}}')
    parser.add_argument("--out", type=Path, help="folder for detections.csv, metrics.json and the posterior figures")
    add_pipeline_arguments(parser)
    parser.add_argument("--match-ms", type=int, default=MATCH_MS,
                        help=f"a detection this long after a labelled word's end still finds it (default {MATCH_MS})")


def add_pipeline_arguments(parser: argparse.ArgumentParser) -> None:
    """The front end, stride and post-processing flags `kws-nas stream` and `kws-nas listen` share."""
    from nas.stream.postprocess import PostprocessConfig

    d = PostprocessConfig()
    parser.add_argument("--frontend", type=Path,
                        help="checkpoint (.pt) or model_card.json whose front end feeds the model "
                             "(default: model.pt or model_card.json beside it)")
    parser.add_argument("--stride-ms", type=int, default=100, help="time between inferences (default 100 ms)")
    parser.add_argument("--average-ms", type=int, default=d.average_window_ms,
                        help=f"score averaging window (default {d.average_window_ms})")
    parser.add_argument("--threshold", type=int, default=d.detection_threshold,
                        help=f"detection threshold on the averaged score, 0..255 (default {d.detection_threshold})")
    parser.add_argument("--suppression-ms", type=int, default=d.suppression_ms,
                        help=f"no repeat of a word this soon after its detection (default {d.suppression_ms})")
    parser.add_argument("--minimum-count", type=int, default=d.minimum_count,
                        help=f"results the window must hold before deciding (default {d.minimum_count})")


def _wavs(audio: Path) -> list[Path]:
    if audio.is_dir():
        wavs = sorted(p for p in audio.glob("*.wav") if p.is_file())
        if not wavs:
            raise DataError(f"{audio}: no .wav files in this folder")
        return wavs
    if not audio.is_file():
        raise DataError(f"{audio}: no such file or folder; expected a .wav or a folder of them")
    return [audio]


def _label_file(labels: Path | None, audio: Path, wav: Path) -> Path | None:
    if labels is None:
        return None
    if audio.is_dir():
        if not labels.is_dir():
            raise ConfigError(f"--labels {labels}: for a folder of wavs, expected a folder of <stem>.csv files")
        return labels / f"{wav.stem}.csv"
    return labels


def postprocess_config(args: argparse.Namespace) -> PostprocessConfig:
    from nas.stream.postprocess import PostprocessConfig

    return PostprocessConfig(args.average_ms, args.threshold, args.suppression_ms, args.minimum_count)


def class_names(model_path: Path, n_classes: int) -> list[str]:
    """labels.txt beside the model (an export bundle), else the 12 Speech Commands classes."""
    from nas.data.speech_commands import LABELS

    beside = model_path.with_name("labels.txt")
    names = [line.strip() for line in beside.read_text().splitlines() if line.strip()] if beside.is_file() else LABELS
    if len(names) != n_classes:
        raise ConfigError(f"{model_path}: the model has {n_classes} outputs, but "
                          f"{beside if beside.is_file() else 'the Speech Commands labels'} name {len(names)} classes")
    return names


def run(args: argparse.Namespace) -> int:
    from nas.data.streaming import new_frames_per_inference
    from nas.stream.metrics import read_labels, score
    from nas.stream.postprocess import softmax_table
    from nas.stream.runner import TflmHostRunner
    from nas.train.evaluate_cli import tflite_candidate

    config = postprocess_config(args)
    if args.match_ms < 0:
        raise ConfigError(f"--match-ms must be >= 0, got {args.match_ms}")
    wavs = _wavs(args.audio)
    label_files = {wav: _label_file(args.labels, args.audio, wav) for wav in wavs}
    words_of = {wav: read_labels(path) if path is not None else [] for wav, path in label_files.items()}
    model, candidate = tflite_candidate(args.model, args.frontend)
    frontend = candidate.frontend
    new_frames_per_inference(frontend, args.stride_ms)
    if args.port and not args.board:
        raise ConfigError("--port needs --board (the board's profile name)")
    runner = TflmHostRunner(model)
    names = class_names(args.model, runner.output.n_classes)
    keywords = [n for n in names if not n.startswith("_")]
    table = None if runner.output.is_softmax else softmax_table(runner.output.scale)

    found, per_file = [], []
    with contextlib.ExitStack() as stack:
        board = None
        if args.board:
            from nas.board.connect import open_board

            board = stack.enter_context(open_board(args.board, args.port, frontend))
            board.load(args.model)
        pipeline = _Pipeline(args, frontend, runner, board, config, table, names, keywords)
        for wav in wavs:
            dets, duration = pipeline.detect(wav, words_of[wav])
            found += [(wav, d) for d in dets]
            per_file.append((wav, dets, duration))
        total_s = sum(duration for _, _, duration in per_file)

    metrics = None
    if args.labels is not None:
        parts = [score(dets, words_of[wav], keywords, duration, args.match_ms) for wav, dets, duration in per_file]
        metrics = _combine(parts, total_s, args.match_ms)
    _report(args, found, metrics, len(wavs) > 1, config)
    return 0


@dataclass
class _Pipeline:
    """The model, its front end and post-processing, on the host (``board`` None) or on a board."""

    args: argparse.Namespace
    frontend: FrontEndConfig
    runner: TflmHostRunner  # the host's model, and how to read its outputs
    board: Board | None  # an open board with the model loaded
    config: PostprocessConfig
    table: np.ndarray | None  # softmax table, None for an int8 softmax
    names: list[str]
    keywords: list[str]

    def detect(self, wav: Path, words: list) -> tuple[list, float]:
        """(keyword detections, duration in s) of one recording; its figure with ``--out``."""
        import numpy as np

        from nas.data.wav import read_wav, to_pcm16
        from nas.stream.metrics import keyword_detections
        from nas.stream.postprocess import detections, softmax_scores
        from nas.stream.runner import board_stream, stream_outputs

        args, frontend = self.args, self.frontend
        samples = to_pcm16(read_wav(wav, frontend.sample_rate))  # what a board's microphone gives, host and board alike
        if len(samples) < frontend.clip_samples:
            raise DataError(f"{wav}: {len(samples) / frontend.sample_rate:.2f} s long; expected at least "
                            f"{frontend.clip_ms / 1000:g} s (one window)")
        if self.board is None:
            times_ms, outputs = stream_outputs(samples, frontend, self.runner, args.stride_ms)
            decisions = detections(outputs, times_ms, self.config, self.table)
        else:
            times_ms, outputs, decisions = board_stream(samples, frontend, self.board, args.stride_ms, self.config)
        dets = keyword_detections(decisions, self.names, self.keywords)
        if args.out:
            from nas.stream.figures import plot_stream

            args.out.mkdir(parents=True, exist_ok=True)
            scores = softmax_scores(outputs, self.table) if self.table is not None else outputs.astype(np.int32) + 128
            where = self.board.name if self.board is not None else self.runner.name
            plot_stream(times_ms / 1000, scores, self.names, self.keywords, dets, words, args.threshold,
                        f"{wav.name}: {args.model.name} on {where}, stride {args.stride_ms} ms, "
                        f"average {args.average_ms} ms, suppression {args.suppression_ms} ms",
                        args.out / f"{wav.stem}_posteriors")
        return dets, len(samples) / frontend.sample_rate


def _combine(parts: list[dict], total_s: float, match_ms: int) -> dict:
    """One set of metrics over several recordings (sums of counts, delay weighted by hits)."""
    hits, targets, fas = (sum(p[k] for p in parts) for k in ("hits", "keywords", "false_alarms"))
    delay = sum(p["mean_delay_s"] * p["hits"] for p in parts if p["hits"])
    return {"keywords": targets, "hits": hits, "hit_rate": hits / targets if targets else None,
            "false_alarms": fas, "false_alarms_per_hour": fas / (total_s / 3600),
            "mean_delay_s": delay / hits if hits else None, "duration_s": total_s, "match_ms": match_ms}


def _report(args, found, metrics, many: bool, config) -> None:
    import pandas as pd

    rows = [{**({"file": wav.name} if many else {}), **d.to_dict()} for wav, d in found]
    if args.out:
        pd.DataFrame(rows, columns=(["file"] if many else []) + ["time_s", "label", "score"]).to_csv(
            args.out / "detections.csv", index=False)
        if metrics is not None:
            (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    if args.json:
        out = {"detections": rows, "postprocess": asdict(config)}
        if metrics is not None:
            out["metrics"] = metrics
        print(json.dumps(out))
        return
    for row in rows:
        where = f"{row['file']}  " if many else ""
        print(f"{where}{row['time_s']:9.2f} s  {row['label']:<8} score {row['score']}/255")
    print(f"{len(rows)} detections")
    if metrics is not None:
        delay = "–" if metrics["mean_delay_s"] is None else f"{metrics['mean_delay_s']:.2f} s"
        rate = "–" if metrics["hit_rate"] is None else f"{100 * metrics['hit_rate']:.1f} %"
        print(f"hit rate {rate} ({metrics['hits']}/{metrics['keywords']} keywords), "
              f"false alarms {metrics['false_alarms']} = {metrics['false_alarms_per_hour']:.1f} per hour "
              f"({metrics['duration_s'] / 60:.1f} min), mean delay from word end {delay}")
        print(f"note: {GENERATED_NOTE}")
