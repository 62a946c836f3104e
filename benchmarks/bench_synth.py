"""Generated-dataset throughput: synth clips/s, loader clips/s (decode), feature-cache clips/s.

Generates the default dataset (or ``--voices`` voices, the default's settings otherwise, its time then
scaled to the default's ``SynthSettings.per_word``) into a temporary folder with the default 2
processes, then loads and featurises its train split, cold and from the cache.

    .venv/bin/python benchmarks/bench_synth.py [--voices 60]
"""
from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--voices", type=int, help="voices to generate (default: the default set's)")
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args()

    from nas.data.cache import load_features
    from nas.data.frontend_config import FrontEndConfig
    from nas.data.speech_commands import SpeechCommands
    from nas.data.synth import SynthSettings, available_engines, generate

    default_voices = SynthSettings().per_word
    settings = replace(SynthSettings(), per_word=args.voices or default_voices, workers=args.workers)
    print(f"engines: {available_engines()}")
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        root = generate(Path(tmp) / "synth", settings, progress=False)
        seconds = time.perf_counter() - start
        clips = sum(1 for _ in root.glob("*/*_nohash_*.wav"))
        line = f"synth: {clips:,} clips in {seconds:.1f} s = {clips / seconds:.0f} clips/s ({args.workers} processes, incl. start-up)"
        if settings.per_word != default_voices:
            scale = default_voices / settings.per_word
            line += f"; the default set of {round(clips * scale):,} clips ≈ {seconds * scale:.0f} s"
        print(line)

        import torch  # noqa: F401  (imported here so that its start-up is not timed below)

        dataset = SpeechCommands(root)
        start = time.perf_counter()
        train = dataset.clips("train")
        seconds = time.perf_counter() - start
        print(f"loader: {len(train.labels)} train clips decoded in {seconds:.2f} s = "
              f"{len(train.labels) / seconds:.0f} clips/s")

        for label in ("cold", "cached"):
            start = time.perf_counter()
            fs = load_features(dataset, FrontEndConfig(), "train", progress=False)
            seconds = time.perf_counter() - start
            print(f"features ({label}): {len(fs.labels)} clips in {seconds:.2f} s = "
                  f"{len(fs.labels) / seconds:.0f} clips/s, {fs.extracted_clips} extracted")
    print("note: generated speech; accuracy on it ranks models, it does not predict accuracy on people")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
