"""Issue 11 point 5, bad audio is named, not trained on: cases for the reliability runner.

Each setup writes a small dataset folder (two good `yes` clips, two good `no` clips) plus one hostile
file, with scipy's writer or raw header bytes, so the cases depend on nothing of kws-nas.
"""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import scipy.io.wavfile

RATE = 16000


def _tone(seconds: float = 1.0) -> np.ndarray:
    return (0.3 * np.sin(np.arange(int(RATE * seconds)) / 5.0)).astype(np.float32)


def _nan_wav(path: Path) -> None:
    samples = _tone()
    samples[4000:4100] = np.nan
    scipy.io.wavfile.write(path, RATE, samples)


def _ghz_wav(path: Path) -> None:
    pcm = (_tone() * 32767).astype("<i2").tobytes()
    path.write_bytes(struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + len(pcm), b"WAVE", b"fmt ", 16, 1, 1,
                                 4_000_000_000, 4_294_967_295, 2, 16, b"data", len(pcm)) + pcm)


def _long_wav(path: Path, seconds: float = 600.0) -> None:
    noise = np.random.default_rng(0).normal(0, 3000, int(RATE * seconds)).clip(-32768, 32767)
    scipy.io.wavfile.write(path, RATE, noise.astype(np.int16))


def _dataset(tmp: Path, write_bad=None) -> dict:
    root = tmp / "ds"
    for word, speakers in (("yes", ("aaaa0001", "bbbb0002")), ("no", ("cccc0003", "dddd0004"))):
        (root / word).mkdir(parents=True, exist_ok=True)
        for speaker in speakers:
            scipy.io.wavfile.write(root / word / f"{speaker}_nohash_0.wav", RATE, (_tone() * 32767).astype(np.int16))
    if write_bad is not None:
        write_bad(root / "yes" / "bad_nohash_0.wav")
    return {"root": str(root), "cache": str(tmp / "cache")}


def _long_bed_and_slack_clip(tmp: Path) -> dict:
    """Long audio where it belongs: a 60 s noise bed, and a 1.5 s clip (cropped to 1 s, and said so)."""
    placeholders = _dataset(tmp, lambda path: _long_wav(path, 1.5))
    (tmp / "ds" / "_background_noise_").mkdir()
    _long_wav(tmp / "ds" / "_background_noise_" / "bed.wav", 60.0)
    return placeholders


def _single(tmp: Path, write) -> dict:
    path = tmp / "clip.wav"
    write(path)
    return {"wav": str(path), "out": str(tmp / "plots")}


BAD_FILES = {"wav with NaN samples": _nan_wav, "wav whose header claims 4 GHz": _ghz_wav,
             "10-minute clip": _long_wav}

CASES = [
    *({"name": f"data check: a {what} in a class folder is listed as bad",
       "argv": ["data", "check", "{root}"], "setup": lambda tmp, w=write: _dataset(tmp, w), "expect": "error",
       "names": "bad_nohash_0.wav"}
      for what, write in BAD_FILES.items()),
    *({"name": f"data features: a {what} is refused, not trained on",
       "argv": ["data", "features", "{root}", "--cache-dir", "{cache}"],
       "setup": lambda tmp, w=write: _dataset(tmp, w), "expect": "error"}
      for what, write in BAD_FILES.items()),
    {"name": "data check: a 60 s noise bed and a 1.5 s clip are fine (the clip noted as cropped)",
     "argv": ["data", "check", "{root}"],
     "setup": _long_bed_and_slack_clip, "expect": "ok"},
    {"name": "plot-audio: a 10-minute file plots its first 5 s in small files",
     "argv": ["plot-audio", "{wav}", "--out", "{out}"], "setup": lambda tmp: _single(tmp, _long_wav),
     "expect": "ok"},
    {"name": "plot-audio: a wav with NaN samples is refused", "argv": ["plot-audio", "{wav}", "--out", "{out}"],
     "setup": lambda tmp: _single(tmp, _nan_wav), "expect": "error"},
    {"name": "plot-audio: a 4 GHz header is refused", "argv": ["plot-audio", "{wav}", "--out", "{out}"],
     "setup": lambda tmp: _single(tmp, _ghz_wav), "expect": "error"},
]
