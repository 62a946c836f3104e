"""`kws-nas data`: generate, check, featurise or fetch a Speech Commands dataset.

    kws-nas data synth --out DIR [--seed S] [--per-word N]   # the generated dataset (espeak-ng, flite, Pico)
    kws-nas data check DIR [--json]                          # counts per class and split, bad files
    kws-nas data features [DIR] [--cache-dir C]               # extract + cache MFCCs (default: generated set)
    kws-nas data fetch [--version v0.02] [--dest DIR] [--archive FILE] # the official archive, when a network allows
    kws-nas data stream --out FILE.wav [--data DIR] [--minutes 10]  # a labelled long recording (+ FILE.csv)
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from nas.errors import DataError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="data_command", metavar="COMMAND", required=True)

    synth = sub.add_parser("synth", help="write a generated dataset in the Speech Commands layout")
    synth.add_argument("--out", required=True, type=Path, help="folder to write (new, empty, or generated before)")
    synth.add_argument("--seed", type=int, default=0, help="same seed, same files (default 0)")
    synth.add_argument("--per-word", type=int, default=None, help="voices, so clips per keyword (default 900)")
    synth.add_argument("--unknown-per-voice", type=int, default=None,
                       help="other words each voice says, for _unknown_ (default 2)")
    synth.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    synth.add_argument("--no-flite", action="store_true", help="no flite voices, even if flite is installed")
    synth.add_argument("--no-pico", action="store_true", help="no SVOX Pico voices, even if Pico is installed")
    synth.add_argument("--with", dest="with_engines", action="append", default=[], metavar="ENGINE",
                       choices=["festival", "mbrola"],
                       help="add an optional engine's voices (repeatable): festival, mbrola (when installed)")

    check = sub.add_parser("check", help="counts per class and split, and the files training refuses")
    check.add_argument("dir", type=Path, help="dataset folder")
    check.add_argument("--json", action="store_true", help='print {"counts": {split: {class: n}}, "bad_files": [...]}')

    features = sub.add_parser("features", help="extract and cache the MFCC features of every split")
    features.add_argument("dir", type=Path, nargs="?", help="dataset folder (default: the generated default set)")
    features.add_argument("--window-ms", type=float, default=40.0)
    features.add_argument("--stride-ms", type=float, default=20.0)
    features.add_argument("--n-mfcc", type=int, default=10)
    features.add_argument("--decimation", type=int, default=1,
                          help="2: the 2:1 decimator first, the FFT at 8 kHz (FrontEndConfig.decimation)")
    features.add_argument("--augment-copies", type=int, default=0, help="augmented copies of the train split")
    features.add_argument("--seed", type=int, default=0)
    features.add_argument("--cache-dir", type=Path, default=None,
                          help="default: the user cache folder (~/.cache/kws-nas/features); DIR is never written to")

    fetch = sub.add_parser("fetch", help="download the official archive (checksummed, resumable)")
    fetch.add_argument("--version", default="v0.02", choices=["v0.01", "v0.02", "test_v0.02"])
    fetch.add_argument("--dest", type=Path, default=Path("data"), help="folder to unpack into (default data/)")
    fetch.add_argument("--archive", type=Path, default=None, help="a .tar.gz downloaded by hand: no download")
    fetch.add_argument("--sha256", default=None, help="expected sha256 (default: the official archive's)")


    stream = sub.add_parser("stream", help="a long recording of words at known times over noise, with a label CSV")
    stream.add_argument("--out", required=True, type=Path, help="the .wav to write; the labels go to the same name .csv")
    stream.add_argument("--data", type=Path, default=None,
                        help="a dataset in the Speech Commands layout to take the words from (default: the generated set)")
    stream.add_argument("--split", default="test", choices=["train", "validation", "test"],
                        help="whose voices speak (default test: voices training never heard)")
    stream.add_argument("--minutes", type=float, default=10.0, help="length (default 10)")
    stream.add_argument("--keyword-share", type=float, default=0.7, help="share of words that are keywords (default 0.7)")
    stream.add_argument("--seed", type=int, default=0, help="same seed, same recording (default 0)")


def run(args: argparse.Namespace) -> int:
    quiet = getattr(args, "json", False)  # --json: stdout holds the JSON, stderr stays empty but for errors
    if not logging.getLogger().handlers:  # resampling / down-mixing notes are for the user to see
        logging.basicConfig(level=logging.WARNING if quiet else logging.INFO, format="kws-nas data: %(message)s",
                            stream=sys.stderr)
    return {"synth": _synth, "check": _check, "features": _features, "fetch": _fetch,
            "stream": _stream}[args.data_command](args)


def _synth(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from nas.data.synth import SynthSettings, generate

    settings = SynthSettings(seed=args.seed, workers=args.workers, use_flite=not args.no_flite,
                             use_pico=not args.no_pico,
                             **{f"use_{engine}": True for engine in args.with_engines})
    for field, value in (("per_word", args.per_word), ("unknown_per_voice", args.unknown_per_voice)):
        if value is not None:
            if value < 0 or (field == "per_word" and value < 1):
                raise DataError(f"--{field.replace('_', '-')}: expected a positive count, got {value}")
            settings = replace(settings, **{field: value})
    start = time.perf_counter()
    out = generate(args.out, settings)
    manifest = json.loads((out / "synth.json").read_text())
    by_split = {s: sum(v["split"] == s for v in manifest["voices"]) for s in ("train", "validation", "test")}
    clips = sum(1 for _ in out.glob("*/*_nohash_*.wav"))
    seconds = time.perf_counter() - start
    print(f"wrote {clips} clips of {len(manifest['voices'])} voices ({by_split['train']} train, "
          f"{by_split['validation']} validation, {by_split['test']} test) to {out} in "
          f"{seconds:.1f} s ({clips / seconds:.0f} clips/s, {settings.workers} processes)")
    print("note: generated speech; accuracy on it ranks models, it does not predict accuracy on people")
    return 0


def check_dataset(root: Path, progress: bool = True) -> dict:
    """Decodes every clip and noise file; returns counts per split and class, bad and converted files.

    A file training cannot use (``nas.data.speech_commands.check_file``: unreadable, NaN samples, an
    implausible rate, a clip far too long) is listed in ``bad_files`` and left out of ``counts``: the
    counts are the clips the dataset holds once the bad files are removed (training refuses them).

    Raises:
        DataError: the folder is not a dataset at all (missing, empty class folder, one list file).
    """
    from tqdm import tqdm

    from nas.data.speech_commands import BACKGROUND_DIR, LABELS, SpeechCommands
    from nas.data.splits import SPLITS

    if not root.is_dir():
        raise DataError(f"{root}: dataset folder does not exist; expected a Speech Commands folder")
    report: dict = {"counts": {}, "bad_files": [], "converted": []}
    noise = sorted((root / BACKGROUND_DIR).glob("*.wav"))
    for path in noise:
        _check_file(root, path, report)
    clips = sorted(p for p in root.glob("*/*.wav") if not p.parent.name.startswith((".", BACKGROUND_DIR)))
    if not report["bad_files"]:  # the loader reads the noise files to cut silence
        dataset = SpeechCommands(root)  # structural problems: fail before the long scan
        refs = {split: dataset.index(split) for split in SPLITS}
        report["layout"] = dataset.layout
    for path in tqdm(clips, desc="check", unit="file", disable=not progress, file=sys.stderr):
        _check_file(root, path, report)
    if "layout" in report:
        bad = {item["file"] for item in report["bad_files"]}
        for split in SPLITS:
            labels = [ref.label for ref in refs[split] if ref.file not in bad]
            report["counts"][split] = {name: labels.count(i) for i, name in enumerate(LABELS)}
    return report


def _check_file(root: Path, path: Path, report: dict) -> None:
    from nas.data.speech_commands import check_file

    rel = path.relative_to(root).as_posix()
    try:
        notes = check_file(root, rel)
    except DataError as err:
        report["bad_files"].append({"file": rel, "problem": str(err).removeprefix(f"{rel}: ")})
        return
    if notes:
        report["converted"].append({"file": rel, "note": "; ".join(notes)})


def _check(args: argparse.Namespace) -> int:
    report = check_dataset(args.dir, progress=not args.json)
    if args.json:
        print(json.dumps(report, indent=1))
        return 1 if report["bad_files"] else 0
    counts = report["counts"]
    if counts:
        splits = list(counts)
        print(f"{args.dir} ({report['layout']} layout): clips per class and split")
        print(f"{'class':<12}" + "".join(f"{s:>12}" for s in splits))
        for name in next(iter(counts.values())):
            print(f"{name:<12}" + "".join(f"{counts[s][name]:>12}" for s in splits))
        print(f"{'total':<12}" + "".join(f"{sum(counts[s].values()):>12}" for s in splits))
    for item in report["converted"]:
        print(f"converted: {item['file']}: {item['note']}")
    for item in report["bad_files"]:
        print(f"bad file: {item['file']}: {item['problem']}")
    print(f"{len(report['bad_files'])} bad files")
    if report["bad_files"]:
        print("training refuses a split that holds a bad file: remove or replace them")
    return 1 if report["bad_files"] else 0


def _features(args: argparse.Namespace) -> int:
    from nas.data.cache import load_features
    from nas.data.frontend_config import FrontEndConfig
    from nas.data.speech_commands import SpeechCommands
    from nas.data.splits import SPLITS
    from nas.data.synth import ensure_default_dataset

    frontend = FrontEndConfig(window_ms=args.window_ms, stride_ms=args.stride_ms, n_mfcc=args.n_mfcc,
                              decimation=args.decimation)
    root = args.dir if args.dir is not None else ensure_default_dataset()
    dataset = SpeechCommands(root, seed=args.seed)
    for split in SPLITS:
        if not dataset.index(split):
            print(f"{split}: no clips in this dataset, skipped")
            continue
        start = time.perf_counter()
        fs = load_features(dataset, frontend, split, augment_copies=args.augment_copies, seed=args.seed,
                           cache_dir=args.cache_dir)
        source = f"extracted {fs.extracted_clips} clips" if fs.extracted_clips else "all from the cache"
        print(f"{split}: {tuple(fs.features.shape)} features, {source} in {time.perf_counter() - start:.1f} s "
              f"→ {fs.cache_file}")
    return 0


def _stream(args: argparse.Namespace) -> int:
    import csv

    from nas.data.long_stream import LABEL_COLUMNS, StreamSettings, build_stream
    from nas.data.speech_commands import KEYWORDS
    from nas.data.synth import ensure_default_dataset
    from nas.data.wav import write_wav

    if args.out.suffix.lower() != ".wav":
        raise DataError(f"--out {args.out}: expected a file name ending in .wav (the labels go beside it as .csv)")
    settings = StreamSettings(seconds=args.minutes * 60, seed=args.seed, split=args.split,
                              keyword_share=args.keyword_share)
    root = args.data if args.data is not None else ensure_default_dataset()
    samples, labels = build_stream(root, settings)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_wav(args.out, samples)
    with args.out.with_suffix(".csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=LABEL_COLUMNS)
        writer.writeheader()
        writer.writerows(labels)
    keywords = sum(row["label"] in KEYWORDS for row in labels)
    print(f"wrote {args.out} ({len(samples) / 16000 / 60:.1f} min: {keywords} keywords, "
          f"{len(labels) - keywords} other words) and {args.out.with_suffix('.csv')}")
    return 0


def _fetch(args: argparse.Namespace) -> int:
    from nas.data.fetch import fetch_speech_commands

    path = fetch_speech_commands(args.version, args.dest, archive=args.archive, sha256=args.sha256)
    print(f"Speech Commands {args.version} is in {path}")
    return 0
