"""A generated Speech Commands dataset: the embedded default, and the data of the tests.

Each *voice* is one synthesizer setting (`nas.data.tts`: espeak-ng, and flite and SVOX Pico voices when
they are installed; festival and MBROLA voices on request). A voice says the 10 keywords and a few other
words once each; its clips are resampled to 16 kHz, on a share of them given a new speaker (speed and
vocal-tract length perturbation, ``speaker_share``, `nas.data.voice_fx`), trimmed, coloured like a random
microphone, placed at a random offset inside one second at a random level and mixed with a noise bed: on
``babble_share`` of them speech babble made of other generated voices (`nas.data.babble`, a
`_background_noise_` bed of its own). The split is by voice, written to the list files, so the real
loader reads the result unchanged and no voice is in two splits.

Accuracy on generated speech tells whether the pipeline works and how candidates rank; it says little
about accuracy on people (see design/data.md).
"""
from __future__ import annotations

import fcntl
import json
import logging
import multiprocessing
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from nas.data.babble import UTTERANCES, speech_babble
from nas.data.noise import NOISE_RMS, make_noise_beds
from nas.data.speech_commands import BACKGROUND_DIR, KEYWORDS
from nas.data.splits import LIST_FILES, hash_split
from nas.data.tts import (ESPEAK_ACCENTS, FESTIVAL_VOICES, FLITE_VOICES, Voice, available_engines,
                          espeak_variants, installed_voices, speak, speak_words)
from nas.data.voice_fx import speaker_variation
from nas.data.wav import decode_wav, resample, write_wav
from nas.errors import ConfigError, DataError
from nas.paths import data_home

logger = logging.getLogger(__name__)

# Other words of Speech Commands v0.02 (Warden 2018): the `_unknown_` class.
UNKNOWN_WORDS = ["bed", "bird", "cat", "dog", "happy", "house", "marvin", "sheila", "tree", "wow",
                 "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                 "backward", "forward", "follow", "learn", "visual"]
# Share of the voices per optional engine (`nas.data.tts`), when it is installed; espeak-ng's own voices take
# the rest, and the share of an engine that is missing. Pico's 30 % scored best on real clips (README: 10 %
# and 40 % lower).
ENGINE_SHARES = {"flite": 0.2, "festival": 0.2, "mbrola": 0.2, "pico": 0.3}
SAMPLE_RATE = 16000
MARKER = ".synth_complete"  # written last: a folder without it is an interrupted generation
IN_PROGRESS = ".synth_in_progress"
MANIFEST = "synth.json"
BABBLE = "speech_babble"  # the `_background_noise_` bed made of generated voices (nas.data.babble)
# Words between the unknown words in a babble phrase (no keyword: babble must not say one).
BABBLE_FILLERS = ["the", "and", "then", "we", "it", "was", "there", "what", "not", "so", "but", "that",
                  "you", "have", "with", "about", "would", "could", "time", "people", "really", "okay"]


@dataclass(frozen=True)
class SynthSettings:
    seed: int = 0
    per_word: int = 900  # voices, so clips per keyword (300 scored 4 points lower on real clips: README)
    unknown_per_voice: int = 2  # other words each voice says
    validation_percent: float = 10.0
    testing_percent: float = 10.0
    noise_seconds: float = 30.0  # length of each `_background_noise_` file
    use_flite: bool = True  # each optional engine, when installed (`nas.data.tts`); festival and MBROLA
    use_festival: bool = False  # are opt-in: screened on real clips, their voices did not help (README);
    use_mbrola: bool = False  # Pico's did, so they are in the default set
    use_pico: bool = True
    speaker_share: float = 0.8  # share of clips given a new speaker after synthesis (nas.data.voice_fx)
    babble_share: float = 0.3  # share of clips mixed with speech babble at 5-20 dB SNR (nas.data.babble)
    workers: int = 2

    def __post_init__(self) -> None:
        for name in ("speaker_share", "babble_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f"synth: {name} must be in [0, 1], got {getattr(self, name)}")

    def identity(self) -> dict:
        """The settings that decide the files (not how many processes made them)."""
        d = asdict(self)
        d.pop("workers")
        return d


def plan_voices(settings: SynthSettings, engines: set[str]) -> list[Voice]:
    """Draws ``per_word`` distinct voices from the seed; each optional engine of ``engines`` that has a
    voice installed takes its `ENGINE_SHARES` share of them, espeak-ng the rest."""
    rng = np.random.default_rng([settings.seed, 1])
    variants = espeak_variants()
    voices: dict[str, Voice] = {}
    while len(voices) < settings.per_word:
        draw, engine = rng.random(), "espeak-ng"
        for name, share in ENGINE_SHARES.items():  # a fixed walk, so one seed draws one set of voices
            if draw < share:
                engine = name if name in engines and installed_voices(name) else "espeak-ng"
                break
            draw -= share
        voice = _draw_voice(engine, rng, variants)
        voices.setdefault(voice.hash, voice)
    return list(voices.values())


def _draw_voice(engine: str, rng: np.random.Generator, variants: list[str]) -> Voice:
    if engine == "espeak-ng":
        accent, variant = ESPEAK_ACCENTS[rng.integers(len(ESPEAK_ACCENTS))], variants[rng.integers(len(variants))]
        return Voice(engine, f"{accent}+{variant}", int(rng.integers(15, 86)), int(rng.integers(120, 241)))
    names = installed_voices(engine)
    name = names[rng.integers(len(names))]
    if engine == "mbrola":  # espeak-ng's pitch and speed, as for its own voices
        return Voice(engine, name, int(rng.integers(15, 86)), int(rng.integers(120, 241)))
    if engine == "pico":  # percent of the voice's own pitch and speed
        return Voice(engine, name, int(rng.integers(70, 131)), int(rng.integers(80, 131)))
    pitch_range = (FLITE_VOICES if engine == "flite" else FESTIVAL_VOICES)[name]
    pitch = int(rng.integers(pitch_range[0], pitch_range[1] + 1)) if pitch_range else 0
    return Voice(engine, name, pitch, round(rng.uniform(0.8, 1.3), 2))


def split_voices(voices: list[Voice], settings: SynthSettings) -> list[tuple[Voice, str]]:
    """Gives each voice a split, and a salt that makes the hash rule agree with it.

    Each engine is split on its own so that every split hears both synthesizers. Because the voice
    hash lands where the hash rule would put it, the list files and the hash rule tell the same story:
    the dataset splits the same way with or without its list files.
    """
    rng = np.random.default_rng([settings.seed, 2])
    wanted: dict[int, str] = {}
    for engine in sorted({v.engine for v in voices}):
        group = [i for i, v in enumerate(voices) if v.engine == engine]
        n_val = _share(len(group), settings.validation_percent)
        n_test = _share(len(group), settings.testing_percent)
        for rank, i in enumerate(rng.permutation(group)):
            wanted[int(i)] = "validation" if rank < n_val else "test" if rank < n_val + n_test else "train"
    salted, taken = [], set()
    for i, voice in enumerate(voices):
        salt = 0
        while (hash_split((v := replace(voice, salt=salt)).hash, settings.validation_percent,
                          settings.testing_percent) != wanted[i] or v.hash in taken):
            salt += 1
        taken.add(v.hash)
        salted.append((v, wanted[i]))
    return salted


def _share(n: int, percent: float) -> int:
    """round(n · percent), but at least one voice once there are three, so no split is empty."""
    count = round(n * percent / 100)
    return max(count, 1) if n >= 3 and percent > 0 else count


def render_clip(speech: np.ndarray, rate: int, rng: np.random.Generator, beds: dict[str, np.ndarray],
                fx_rng: np.random.Generator | None = None, settings: SynthSettings = SynthSettings()) -> np.ndarray:
    """Turns synthesizer output into one Speech Commands-like second of 16 kHz audio.

    ``fx_rng`` draws the speaker variation (its own generator, so that the other draws stay
    those of a set without them)."""
    from scipy.signal import butter, resample as fft_resample, sosfilt

    x = resample(speech, rate, SAMPLE_RATE) if rate != SAMPLE_RATE else speech.astype(np.float32)
    if fx_rng is not None and fx_rng.random() < settings.speaker_share:
        x = speaker_variation(x, fx_rng)
    x = _trim(x)
    longest = int(0.9 * SAMPLE_RATE)
    if len(x) > longest:  # a slow voice on a long word: speed it up to fit, as a speaker would
        x = fft_resample(x, longest).astype(np.float32)
    if rng.random() < 0.6:  # microphone / room colouring
        low, high = rng.uniform(60, 300), rng.uniform(3000, 7500)
        x = sosfilt(butter(2, [low, high], btype="band", fs=SAMPLE_RATE, output="sos"), x)
    x = x / max(float(np.abs(x).max()), 1e-6) * 10 ** (rng.uniform(-28, -1) / 20)
    clip = np.zeros(SAMPLE_RATE, dtype=np.float64)
    start = int(rng.integers(0, SAMPLE_RATE - len(x) + 1))
    clip[start : start + len(x)] = x
    noise, names = None, [name for name in sorted(beds) if name != BABBLE]
    if names and rng.random() < 0.8:
        bed = beds[names[rng.integers(len(names))]]
        offset = int(rng.integers(0, len(bed) - SAMPLE_RATE + 1))
        noise = bed[offset : offset + SAMPLE_RATE]
        snr_db = rng.uniform(5, 35)
    if BABBLE in beds and fx_rng is not None and fx_rng.random() < settings.babble_share:
        offset = int(fx_rng.integers(0, len(beds[BABBLE]) - SAMPLE_RATE + 1))
        noise, snr_db = beds[BABBLE][offset : offset + SAMPLE_RATE], fx_rng.uniform(5, 20)
    if noise is not None:
        gain = np.sqrt(np.mean(x**2) / max(np.mean(noise**2), 1e-12)) * 10 ** (-snr_db / 20)
        clip += gain * noise
    return np.clip(clip, -1.0, 1.0).astype(np.float32)


def _trim(x: np.ndarray, frame: int = 160, floor_db: float = -40.0) -> np.ndarray:
    """Drops leading and trailing frames 40 dB below the loudest frame, keeping 20 ms either side."""
    frames = len(x) // frame
    if frames == 0:
        return x
    rms = np.sqrt(np.mean(x[: frames * frame].reshape(frames, frame) ** 2, axis=1))
    loud = np.flatnonzero(rms > rms.max() * 10 ** (floor_db / 20))
    if loud.size == 0:
        return x
    start = max(0, (loud[0] - 2) * frame)
    return x[start : min(len(x), (loud[-1] + 3) * frame)]


# Worker state, set once per process by _init_worker (noise beds are regenerated, not pickled).
_worker: dict = {}


def _init_worker(out: str, settings: SynthSettings) -> None:
    beds = make_noise_beds(settings.seed, settings.noise_seconds, SAMPLE_RATE)
    if settings.babble_share > 0:  # made once by `generate`, read back by every worker
        beds[BABBLE] = decode_wav((Path(out) / BACKGROUND_DIR / f"{BABBLE}.wav").read_bytes(), BABBLE)[0][:, 0]
    _worker.update(out=Path(out), settings=settings, workdir=tempfile.mkdtemp(prefix="kws-synth-"), beds=beds)


def _voice_words(number: int, settings: SynthSettings) -> list[str]:
    rng = np.random.default_rng([settings.seed, 3, number])
    others = rng.choice(len(UNKNOWN_WORDS), size=min(settings.unknown_per_voice, len(UNKNOWN_WORDS)),
                        replace=False)
    return KEYWORDS + [UNKNOWN_WORDS[i] for i in sorted(others)]


def _render_voice(task: tuple[int, Voice]) -> list[str]:
    """Writes every clip of one voice; returns their relative paths."""
    number, voice = task
    settings = _worker["settings"]
    words = _voice_words(number, settings)
    written = []
    for word, (speech, rate) in zip(words, speak_words(voice, words, _worker["workdir"])):
        rng = np.random.default_rng([settings.seed, 4, number, (KEYWORDS + UNKNOWN_WORDS).index(word)])
        rel = f"{word}/{voice.hash}_nohash_0.wav"
        fx_rng = np.random.default_rng([settings.seed, 6, number, (KEYWORDS + UNKNOWN_WORDS).index(word)])
        write_wav(_worker["out"] / rel, render_clip(speech, rate, rng, _worker["beds"], fx_rng, settings), SAMPLE_RATE)
        written.append(rel)
    return written


def generate(out: str | Path, settings: SynthSettings = SynthSettings(), progress: bool = True) -> Path:
    """Writes a generated dataset in the Speech Commands layout into ``out``.

    A folder left by an earlier generation (finished or not) is replaced; any other non-empty folder
    is refused, so a mistyped ``--out`` never deletes someone's data.

    Raises:
        DataError: ``out`` is a non-empty folder we did not generate, or espeak-ng is missing.
    """
    from tqdm import tqdm

    out = Path(out)
    engines = available_engines()
    if out.exists():
        ours = (out / MARKER).exists() or (out / IN_PROGRESS).exists()
        if out.is_file() or (any(out.iterdir()) and not ours):
            raise DataError(f"{out}: exists and is not an earlier generated dataset; expected an empty or "
                            f"new folder for --out")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / IN_PROGRESS).write_text("generation started; a folder with this file is incomplete\n")
    used = {e for e in ENGINE_SHARES if e in engines and getattr(settings, f"use_{e}")}
    voice_splits = split_voices(plan_voices(settings, used), settings)
    splits = {voice.hash: split for voice, split in voice_splits}
    for word in KEYWORDS + UNKNOWN_WORDS:
        (out / word).mkdir()
    (out / BACKGROUND_DIR).mkdir()
    for name, bed in make_noise_beds(settings.seed, settings.noise_seconds, SAMPLE_RATE).items():
        write_wav(out / BACKGROUND_DIR / f"{name}.wav", bed, SAMPLE_RATE)
    if settings.babble_share > 0:
        write_wav(out / BACKGROUND_DIR / f"{BABBLE}.wav", _babble_bed(voice_splits, settings), SAMPLE_RATE)

    tasks = list(enumerate(voice for voice, _ in voice_splits))
    clips_per_voice = len(KEYWORDS) + min(settings.unknown_per_voice, len(UNKNOWN_WORDS))
    files: dict[str, list[str]] = {}
    bar = tqdm(total=len(tasks) * clips_per_voice, desc="synth clips", unit="clip", disable=not progress)
    if settings.workers <= 1:
        _init_worker(str(out), settings)
        results = map(_render_voice, tasks)
        _consume(results, tasks, files, bar)
    else:
        ctx = multiprocessing.get_context("spawn")  # the parent may hold torch threads: never fork it
        with ctx.Pool(settings.workers, _init_worker, (str(out), settings)) as pool:
            _consume(pool.imap(_render_voice, tasks, chunksize=4), tasks, files, bar)
    bar.close()
    for word in [w for w in UNKNOWN_WORDS if not any((out / w).iterdir())]:
        (out / word).rmdir()  # a tiny set may not use every unknown word: no empty class folders

    for split, list_name in LIST_FILES.items():
        rels = sorted(rel for voice_hash, rels in files.items() if splits[voice_hash] == split for rel in rels)
        (out / list_name).write_text("".join(f"{rel}\n" for rel in rels))
    manifest = {"settings": settings.identity(), "engines": engines,
                "voices": [dict(asdict(v), hash=v.hash, split=split) for v, split in voice_splits],
                "note": "generated speech: accuracy on it ranks models, it does not predict accuracy on people"}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    (out / MARKER).write_text(json.dumps(settings.identity(), sort_keys=True) + "\n")
    (out / IN_PROGRESS).unlink()
    return out


def _babble_bed(voice_splits: list[tuple[Voice, str]], settings: SynthSettings) -> np.ndarray:
    """The speech babble bed: short phrases of training voices (never a keyword), at the beds' RMS."""
    rng = np.random.default_rng([settings.seed, 8])
    voices = [v for v, split in voice_splits if split == "train"] or [v for v, _ in voice_splits]
    words = UNKNOWN_WORDS + BABBLE_FILLERS
    utterances = []
    with tempfile.TemporaryDirectory(prefix="kws-babble-") as workdir:
        for _ in range(UTTERANCES):
            phrase = " ".join(words[i] for i in rng.integers(len(words), size=int(rng.integers(3, 7))))
            speech, rate = speak(voices[rng.integers(len(voices))], phrase, workdir)
            utterances.append(_trim(resample(speech, rate, SAMPLE_RATE) if rate != SAMPLE_RATE else speech))
    bed = speech_babble(utterances, settings.noise_seconds, rng, SAMPLE_RATE)
    return (bed * NOISE_RMS / max(float(np.sqrt(np.mean(bed**2))), 1e-9)).astype(np.float32)


def _consume(results, tasks, files: dict[str, list[str]], bar) -> None:
    for (_, voice), written in zip(tasks, results):
        files[voice.hash] = written
        bar.update(len(written))


def is_complete(folder: Path, settings: SynthSettings) -> bool:
    """True when ``folder`` holds a finished generation with these settings."""
    marker = folder / MARKER
    return marker.is_file() and json.loads(marker.read_text()) == json.loads(
        json.dumps(settings.identity(), sort_keys=True))


def default_dataset_dir() -> Path:
    """``$KWS_NAS_DATA_DIR``, else ``speech_commands_synth`` in `nas.paths.data_home` (git-ignored)."""
    env = os.environ.get("KWS_NAS_DATA_DIR")
    return Path(env) if env else data_home() / "speech_commands_synth"


def ensure_default_dataset(settings: SynthSettings = SynthSettings(), progress: bool = True) -> Path:
    """The default generated dataset: made on first use, reused after (concurrent callers wait)."""
    folder = default_dataset_dir()
    if is_complete(folder, settings):
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / f".{folder.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two search workers starting together generate it once
        if not is_complete(folder, settings):
            logger.info("generating the default dataset into %s (first use only)", folder)
            generate(folder, settings, progress)
    return folder
