"""The Speech Commands 12-class task: 10 keywords, ``_silence_`` and ``_unknown_``.

Two layouts are read unchanged:

* the full archive (v0.01, v0.02, or our generated set): one folder per word, ``_background_noise_/``,
  ``validation_list.txt`` and ``testing_list.txt``. Keyword folders give the keyword classes; every other
  word is ``_unknown_``, of which a share (default 10 % of the keyword count, per split) is drawn;
  ``_silence_`` clips (same default share) are cut from the background noise at a random volume.
* the official test-set archive: the 12 class folders themselves, ``_unknown_`` files prefixed with
  their word (``_unknown_/bed_0ea0e2f4_nohash_1.wav``). All its clips are ``test`` unless
  ``split_test_archive`` asks for a speaker-disjoint train/validation/test split of them.

Every random choice comes from ``seed`` and the split, so one seed always gives the same clips.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from nas.data.splits import SPLITS, hash_split, read_split_lists, speaker_of
from nas.data.wav import conversion_notes, decode_wav, fit_length, read_wav
from nas.errors import ConfigError, DataError

logger = logging.getLogger(__name__)

LABELS = ["_silence_", "_unknown_", "yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"]
SILENCE, UNKNOWN = LABELS[0], LABELS[1]
KEYWORDS = LABELS[2:]
BACKGROUND_DIR = "_background_noise_"
# The official rule put every test-set speaker between 10 % and 20 %; re-splitting the test-set archive
# hashes salted names instead, which spreads its speakers over the whole range again.
_RESPLIT_SALT = "kws-nas-resplit:"
# Speech Commands clips last at most one clip (1 s); the loader pads short ones and crops long ones. A
# file up to twice that loses under half of itself (another recorder's slack): cropped, and `data check`
# says so. A longer one is no one-word clip (a sentence, a session, a noise bed in a word folder): its
# label may lie anywhere in it, so it is refused, not cut to its first second.
MAX_CLIP_FACTOR = 2


def check_file(root: Path, rel: str, sample_rate: int = 16000, clip_samples: int = 16000) -> list[str]:
    """Decodes one file of a dataset folder as training would: the one verdict on whether it can be used.

    Returns:
        What loading changes about it (resampled, down-mixed, cropped); empty when nothing.

    Raises:
        DataError: naming the file, when it cannot be trained on: unreadable, not a WAV, NaN or infinite
            samples, an implausible sample rate, or (clips, not ``_background_noise_`` files) longer than
            ``MAX_CLIP_FACTOR`` clips.
    """
    clip = not rel.startswith(f"{BACKGROUND_DIR}/")
    try:
        data = (root / rel).read_bytes()
    except OSError as err:
        raise DataError(f"{rel}: cannot read ({err.strerror})") from err
    samples, rate = decode_wav(data, rel, max_clip_seconds(sample_rate, clip_samples) if clip else None)
    notes = conversion_notes(rate, samples.shape[1], sample_rate)
    seconds, clip_seconds = len(samples) / rate, clip_samples / sample_rate
    if clip and seconds > clip_seconds:
        notes.append(f"{seconds:.2f} s, cropped to its first {clip_seconds:g} s")
    return notes


def max_clip_seconds(sample_rate: int, clip_samples: int) -> float:
    """The longest clip file a split may hold (see ``MAX_CLIP_FACTOR``)."""
    return MAX_CLIP_FACTOR * clip_samples / sample_rate


@dataclass
class ClipSet:
    """Clips of one split: ``waveforms`` float32 [N, clip_samples], ``labels`` int64 [N] (LABELS index)."""

    waveforms: np.ndarray
    labels: np.ndarray
    files: list[str]  # relative paths; a silence clip names its noise file, offset and gain


@dataclass(frozen=True)
class ClipRef:
    """One clip before decoding: a file, or a silence clip cut from a noise file (``file`` "" = zeros)."""

    file: str
    label: int
    silence_offset: int = -1  # >= 0: this is a silence clip starting at this sample of ``file``
    silence_gain: float = 0.0

    @property
    def name(self) -> str:
        if self.silence_offset < 0:
            return self.file
        return f"{SILENCE}/{self.file or 'zeros'}@{self.silence_offset}x{self.silence_gain:.3f}"


class SpeechCommands:
    """A Speech Commands dataset on disk (see the module docstring for the layouts).

    Args:
        root: the dataset folder.
        unknown_percent: ``_unknown_`` clips per split, in % of that split's keyword clips (full archive).
        silence_percent: ``_silence_`` clips per split, in % of that split's keyword clips (full archive).
        validation_percent, testing_percent: the hash rule's shares for files in neither list file.
        seed: drives the choice of unknown clips and the cutting of silence.
        split_test_archive: test-set archive only: split it by speaker (the hash rule on salted speaker
            hashes) instead of all ``test``.

    Raises:
        DataError: the folder does not exist, holds no word folders, a class folder is empty, or only
            one of the two list files is present.
    """

    def __init__(self, root: str | Path, *, unknown_percent: float = 10.0, silence_percent: float = 10.0,
                 validation_percent: float = 10.0, testing_percent: float = 10.0, seed: int = 0,
                 split_test_archive: bool = False, sample_rate: int = 16000, clip_samples: int = 16000):
        for name, value in (("unknown_percent", unknown_percent), ("silence_percent", silence_percent),
                            ("validation_percent", validation_percent), ("testing_percent", testing_percent)):
            if value < 0:
                raise ConfigError(f"speech commands: {name} must be >= 0, got {value}")
        if validation_percent + testing_percent > 100:
            raise ConfigError("speech commands: validation_percent + testing_percent exceeds 100")
        self.root = Path(root)
        self.unknown_percent = unknown_percent
        self.silence_percent = silence_percent
        self.validation_percent = validation_percent
        self.testing_percent = testing_percent
        self.seed = seed
        self.split_test_archive = split_test_archive
        self.sample_rate = sample_rate
        self.clip_samples = clip_samples
        if not self.root.is_dir():
            what = "is a file" if self.root.exists() else "does not exist"
            raise DataError(f"{self.root}: dataset folder {what}; expected a Speech Commands folder "
                            f"(word folders, or the 12 class folders of the test-set archive)")
        self.word_files = self._scan_word_folders()
        self.layout = "test_archive" if {SILENCE, UNKNOWN} <= set(self.word_files) else "archive"
        self._index = self._build_index()

    def settings(self) -> dict:
        """Everything besides the files that decides which clips a split holds (for cache keys)."""
        return {"unknown_percent": self.unknown_percent, "silence_percent": self.silence_percent,
                "validation_percent": self.validation_percent, "testing_percent": self.testing_percent,
                "seed": self.seed, "split_test_archive": self.split_test_archive,
                "sample_rate": self.sample_rate, "clip_samples": self.clip_samples, "layout": self.layout}

    def index(self, split: str) -> list[ClipRef]:
        """The clips of ``split`` (train, validation or test), not yet decoded."""
        if split not in SPLITS:
            raise ConfigError(f"speech commands: split must be one of {list(SPLITS)}, got {split!r}")
        return self._index[split]

    def clips(self, split: str) -> ClipSet:
        """Decodes every clip of ``split``.

        Raises:
            DataError: the split is empty, or one of its files cannot be read (the message names it).
        """
        refs = self.index(split)
        if not refs:
            hint = " (all clips of the test-set archive are 'test'; pass split_test_archive=True to split " \
                   "it by speaker)" if self.layout == "test_archive" else ""
            raise DataError(f"{self.root}: split {split!r} holds no clips{hint}")
        return self.load(refs)

    def load(self, refs: list[ClipRef]) -> ClipSet:
        """Decodes the given clips into one ClipSet.

        Raises:
            DataError: a clip cannot be trained on (see ``check_file``); the message names it.
        """
        waveforms = np.zeros((len(refs), self.clip_samples), dtype=np.float32)
        longest = max_clip_seconds(self.sample_rate, self.clip_samples)
        for row, ref in enumerate(refs):
            if ref.silence_offset < 0:
                try:
                    audio = read_wav(self.root / ref.file, self.sample_rate, max_seconds=longest)
                except DataError as err:  # a bad file is never trained on: name it and where to see all
                    raise DataError(f"{err}; `kws-nas data check {self.root}` lists every bad file") from err
                waveforms[row] = fit_length(audio, self.clip_samples)
            elif ref.file:
                noise = self.background_noise[ref.file]
                waveforms[row] = ref.silence_gain * noise[ref.silence_offset : ref.silence_offset
                                                          + self.clip_samples]
        labels = np.array([ref.label for ref in refs], dtype=np.int64)
        return ClipSet(waveforms, labels, [ref.name for ref in refs])

    @cached_property
    def background_noise(self) -> dict[str, np.ndarray]:
        """The ``_background_noise_`` recordings by relative path (empty when there is no such folder)."""
        folder = self.root / BACKGROUND_DIR
        if not folder.is_dir():
            return {}
        return {f"{BACKGROUND_DIR}/{p.name}": read_wav(p, self.sample_rate)
                for p in sorted(folder.glob("*.wav"))}

    def _scan_word_folders(self) -> dict[str, list[str]]:
        words: dict[str, list[str]] = {}
        for folder in sorted(p for p in self.root.iterdir() if p.is_dir()):
            if folder.name.startswith(".") or folder.name == BACKGROUND_DIR:
                continue
            files = sorted(p.name for p in folder.glob("*.wav"))
            if not files:
                raise DataError(f"{folder}: class folder holds no .wav files; expected one-second clips "
                                f"named <speaker>_nohash_<n>.wav (or remove the folder)")
            words[folder.name] = files
        present = [w for w in KEYWORDS if w in words]
        if not present:
            raise DataError(f"{self.root}: no keyword folders; expected folders named like the keywords "
                            f"{KEYWORDS} (the Speech Commands layout)")
        missing = [w for w in KEYWORDS if w not in words]
        if missing:
            logger.warning("%s: no folders for keywords %s; those classes will be empty", self.root, missing)
        return words

    def _split_of(self, rel: str, speaker: str, listed: dict[str, str] | None) -> str:
        if listed is not None and rel in listed:
            return listed[rel]
        return hash_split(speaker, self.validation_percent, self.testing_percent)

    def _build_index(self) -> dict[str, list[ClipRef]]:
        index: dict[str, list[ClipRef]] = {split: [] for split in SPLITS}
        if self.layout == "test_archive":
            for word, files in self.word_files.items():
                label = LABELS.index(word) if word in LABELS else LABELS.index(UNKNOWN)
                for name in files:
                    # `_unknown_` names carry their word first: bed_0ea0e2f4_nohash_1.wav → 0ea0e2f4
                    speaker = speaker_of(name).rsplit("_", 1)[-1]
                    split = hash_split(_RESPLIT_SALT + speaker, self.validation_percent, self.testing_percent) \
                        if self.split_test_archive else "test"
                    index[split].append(ClipRef(f"{word}/{name}", label))
            return index

        listed = read_split_lists(self.root)
        if listed is None:
            logger.info("%s: no list files; every clip is split by the hash rule", self.root)
        unknown_pool: dict[str, list[ClipRef]] = {split: [] for split in SPLITS}
        for word, files in self.word_files.items():
            for name in files:
                rel = f"{word}/{name}"
                split = self._split_of(rel, speaker_of(name), listed)
                if word in KEYWORDS:
                    index[split].append(ClipRef(rel, LABELS.index(word)))
                else:
                    unknown_pool[split].append(ClipRef(rel, LABELS.index(UNKNOWN)))
        if listed is not None:
            scanned = {f"{w}/{n}" for w, files in self.word_files.items() for n in files}
            stale = [rel for rel in listed if rel not in scanned]
            if stale:
                logger.warning("%s: %d files named in the list files are absent (e.g. %s); ignored",
                               self.root, len(stale), stale[0])
        for number, split in enumerate(SPLITS):
            rng = np.random.default_rng([self.seed, number])
            keywords = len(index[split])
            index[split] += self._draw_unknown(unknown_pool[split], keywords, rng, split)
            index[split] += self._cut_silence(math.ceil(keywords * self.silence_percent / 100), rng)
        return index

    def _draw_unknown(self, pool: list[ClipRef], keywords: int, rng: np.random.Generator,
                      split: str) -> list[ClipRef]:
        wanted = math.ceil(keywords * self.unknown_percent / 100)
        if wanted > len(pool):
            logger.warning("%s: %s split has %d unknown-word clips, fewer than the %d wanted (%.1f %% of "
                           "%d keyword clips); using all", self.root, split, len(pool), wanted,
                           self.unknown_percent, keywords)
            wanted = len(pool)
        chosen = np.sort(rng.choice(len(pool), size=wanted, replace=False))
        return [pool[i] for i in chosen]

    def _cut_silence(self, count: int, rng: np.random.Generator) -> list[ClipRef]:
        """Silence clips: a random stretch of a random noise file at a gain from U(0, 1), as TensorFlow."""
        label = LABELS.index(SILENCE)
        usable = [name for name, noise in self.background_noise.items() if len(noise) >= self.clip_samples]
        if not usable:
            if count:
                logger.info("%s: no background noise of %d samples or more; silence clips are zeros",
                            self.root, self.clip_samples)
            return [ClipRef("", label, 0, 0.0) for _ in range(count)]
        refs = []
        for _ in range(count):
            name = usable[rng.integers(len(usable))]
            offset = int(rng.integers(len(self.background_noise[name]) - self.clip_samples + 1))
            refs.append(ClipRef(name, label, offset, float(rng.uniform(0.0, 1.0))))
        return refs
