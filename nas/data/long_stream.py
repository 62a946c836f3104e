"""A labelled long recording for testing detection on a stream: words at known times over background noise.

Words come from one split of a dataset in the Speech Commands layout (by default the test split, whose
voices training never heard): keywords and other words in the ratio ``keyword_share``, each spoken word
cut out of its one-second clip (`word_extent`), faded in and out, and placed after a random pause over
a bed stitched from the dataset's ``_background_noise_`` files (white noise when there are none). The
label table has one row per word: ``time_s`` (start), ``end_s`` and ``label`` (the word; a keyword is one
of ``KEYWORDS``).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nas.data.speech_commands import KEYWORDS, SpeechCommands
from nas.data.wav import read_wav
from nas.errors import ConfigError, DataError

# A word's labelled extent: its clip's 10 ms frames within WORD_FLOOR_DB of the loudest. The audio cut
# out around it reaches down to CUT_FLOOR_DB, so quiet consonants ("off", "stop") stay whole.
WORD_FLOOR_DB = -25.0
CUT_FLOOR_DB = -40.0
FADE_MS = 10.0
LABEL_COLUMNS = ("time_s", "end_s", "label")


@dataclass(frozen=True)
class StreamSettings:
    seconds: float = 600.0
    seed: int = 0
    split: str = "test"
    keyword_share: float = 0.7  # share of words that are keywords; the rest are other words
    gap_s: tuple[float, float] = (1.5, 4.0)  # pause between one word's end and the next word's start
    background_dbfs: tuple[float, float] = (-50.0, -35.0)  # RMS of the background, drawn per segment

    def __post_init__(self) -> None:
        if not self.seconds >= 5:
            raise ConfigError(f"stream: seconds must be >= 5, got {self.seconds}")
        if not 0 <= self.keyword_share <= 1:
            raise ConfigError(f"stream: keyword_share must be in [0, 1], got {self.keyword_share}")
        if not 0 < self.gap_s[0] <= self.gap_s[1]:
            raise ConfigError(f"stream: gap_s must be 0 < low <= high seconds, got {self.gap_s}")


def word_extent(clip: np.ndarray, rate: int, floor_db: float = WORD_FLOOR_DB) -> tuple[int, int]:
    """(start, end) samples of the spoken word in a clip: its 10 ms frames within ``floor_db`` of the loudest."""
    frame = rate // 100
    frames = len(clip) // frame
    rms = np.sqrt(np.mean(clip[: frames * frame].reshape(frames, frame).astype(np.float64) ** 2, axis=1))
    loud = np.flatnonzero(rms >= rms.max() * 10 ** (floor_db / 20))
    if rms.max() == 0 or loud.size == 0:
        return 0, 0
    return int(loud[0] * frame), int((loud[-1] + 1) * frame)


def _word_pool(dataset: SpeechCommands, split: str) -> tuple[list[str], list[str]]:
    """Relative paths of the split's keyword clips and of its other-word clips."""
    files = [ref.file for ref in dataset.index(split) if ref.silence_offset < 0]
    keywords = [f for f in files if Path(f).parent.name in KEYWORDS]
    others = [f for f in files if Path(f).parent.name not in KEYWORDS]
    return keywords, others


def _background(dataset: SpeechCommands, n: int, settings: StreamSettings, rng: np.random.Generator) -> np.ndarray:
    """``n`` samples of segments (5-20 s) of the noise files, each at its own drawn level."""
    noises = [x for _, x in sorted(dataset.background_noise.items()) if len(x) > 0]
    out = np.zeros(n, dtype=np.float64)
    start = 0
    while start < n:
        length = min(n - start, int(rng.uniform(5, 20) * dataset.sample_rate))
        if noises:
            noise = noises[rng.integers(len(noises))]
            offset = int(rng.integers(0, max(1, len(noise) - length)))
            piece = np.resize(np.roll(noise, -offset), length).astype(np.float64)
        else:
            piece = rng.standard_normal(length)
        level = 10 ** (rng.uniform(*settings.background_dbfs) / 20)
        out[start : start + length] = piece * level / max(np.sqrt(np.mean(piece**2)), 1e-12)
        start += length
    return out


def build_stream(root: str | Path, settings: StreamSettings = StreamSettings()) -> tuple[np.ndarray, list[dict]]:
    """float32 samples of the stream and its labels [{time_s, end_s, label}] in time order.

    Raises:
        DataError: the dataset is not in the Speech Commands layout, or the split has no keyword clips.
    """
    dataset = SpeechCommands(root, seed=settings.seed)
    rate = dataset.sample_rate
    keywords, others = _word_pool(dataset, settings.split)
    if not keywords:
        raise DataError(f"{root}: split {settings.split!r} holds no keyword clips to build a stream from")
    rng = np.random.default_rng([settings.seed, 7])
    n = int(settings.seconds * rate)
    audio = _background(dataset, n, settings, rng)
    fade = int(FADE_MS / 1000 * rate)
    labels: list[dict] = []
    position = int(rng.uniform(*settings.gap_s) * rate)
    silent = 0
    while silent < 100:  # a split of silent clips holds no words: give up rather than loop
        pool = keywords if (not others or rng.random() < settings.keyword_share) else others
        rel = pool[rng.integers(len(pool))]
        clip = read_wav(dataset.root / rel, rate)
        start, end = word_extent(clip, rate)
        cut_start, cut_end = word_extent(clip, rate, CUT_FLOOR_DB)
        if end - start < 2 * fade:
            silent += 1
            continue
        lo, hi = max(0, cut_start - fade), min(len(clip), cut_end + fade)
        if position + hi - lo > n:
            break
        word = clip[lo:hi].astype(np.float64)
        ramp = np.linspace(0.0, 1.0, fade)
        word[:fade] *= ramp
        word[-fade:] *= ramp[::-1]
        audio[position : position + len(word)] += word
        labels.append({"time_s": round((position + start - lo) / rate, 3),
                       "end_s": round((position + end - lo) / rate, 3), "label": Path(rel).parent.name})
        position += len(word) + int(rng.uniform(*settings.gap_s) * rate)
    return np.clip(audio, -1.0, 1.0).astype(np.float32), labels
