"""The synthesizers behind the generated dataset: espeak-ng (required); flite, festival, MBROLA and
SVOX Pico (optional, each used when installed).

A `Voice` is one synthesizer setting: an espeak-ng accent × variant × pitch × speed; a flite or festival
voice × mean F0 × duration stretch; an MBROLA voice (diphones of a recorded speaker, driven by
espeak-ng's `mb-` voices) × espeak pitch × speed; or a Pico language × pitch × speed (percent).
`speak_words` says several words in one voice; festival says them all from one process, since its
start-up costs more than a word.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from nas.data.wav import decode_wav
from nas.errors import DataError

# espeak-ng English accents whose `+variant` takes effect (`en-gb+variant` silently ignores it).
ESPEAK_ACCENTS = ["en", "en-us", "en-us-nyc", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan",
                  "en-gb-x-gbcwmd", "en-029"]
# Human-sounding espeak-ng variants; robotic, whispered and effect voices are left out.
ESPEAK_VARIANTS = ["m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "f1", "f2", "f3", "f4", "f5",
                   "adam", "Alex", "Alicia", "Andrea", "Andy", "Annie", "AnxiousAndy", "antonio", "aunty",
                   "belinda", "benjamin", "boris", "caleb", "david", "Denis", "Diogo", "ed", "edward",
                   "edward2", "Gene", "Gene2", "grandma", "grandpa", "gustave", "Henrique", "Hugo", "iven",
                   "iven2", "iven3", "iven4", "Jacky", "john", "kaukovalta", "klatt", "klatt2", "klatt3",
                   "klatt4", "klatt5", "klatt6", "Lee", "linda", "marcelo", "Marco", "Mario", "max",
                   "Michael", "michel", "miguel", "Mike", "Nguyen", "norbert", "pablo", "paul", "pedro",
                   "quincy", "rob", "robert", "sandro", "shelby", "steph", "steph2", "steph3", "travis",
                   "victor", "zac", "anika"]
# flite voices at 16 kHz with their usual pitch range in Hz (kal is 8 kHz and robotic: left out).
FLITE_VOICES = {"awb": (85, 140), "rms": (80, 130), "slt": (150, 230), "kal16": (85, 135)}
# festival's English voices in Debian main (festvox-kallpc16k, festvox-kdlpc16k, festvox-us-slt-hts) with
# a pitch range in Hz; None: an HTS voice, whose F0 comes from its own model and is not set.
FESTIVAL_VOICES = {"kal_diphone": (80, 140), "ked_diphone": (80, 140), "cmu_us_slt_arctic_hts": None}
FESTIVAL_VOICE_DIRS = [Path("/usr/share/festival/voices")]
# MBROLA's English voices (Debian contrib/non-free mbrola-en1, -us1, -us2, -us3): British male, US female,
# US male, US male.
MBROLA_VOICES = ["en1", "us1", "us2", "us3"]
MBROLA_DIR = Path("/usr/share/mbrola")
PICO_VOICES = ["en-US", "en-GB"]  # SVOX Pico's English languages (Debian non-free libttspico-utils)


@dataclass(frozen=True)
class Voice:
    engine: str  # "espeak-ng", "flite", "festival", "mbrola" or "pico"
    name: str  # espeak "accent+variant", or the voice of the other engines
    pitch: float  # espeak (and mbrola) -p 0..99; flite / festival mean F0 in Hz (0: the voice's own); pico %
    speed: float  # espeak (and mbrola) words/minute; flite / festival duration stretch; pico %
    salt: int = 0  # varied until the hash rule puts the voice hash in the split it was given

    @property
    def hash(self) -> str:
        """The file-name prefix of this voice's clips, as a speaker hash in Speech Commands."""
        text = f"{self.engine}|{self.name}|{self.pitch}|{self.speed}|{self.salt}"
        return hashlib.sha1(text.encode()).hexdigest()[:8]


@lru_cache(maxsize=None)
def available_engines() -> dict[str, str]:
    """Installed synthesizers and their versions (espeak-ng is required, flite and festival optional).

    festival counts only with at least one of `FESTIVAL_VOICES` installed."""
    engines = {}
    for engine in ("espeak-ng", "flite", "festival"):
        if shutil.which(engine) and (engine != "festival" or installed_voices(engine)):
            done = subprocess.run([engine, "--version"], capture_output=True, text=True, check=False)
            lines = [line for line in done.stdout.splitlines()
                     if "version" in line or "text-to-speech:" in line or "System:" in line]
            engines[engine] = lines[0].split("Data at:")[0].strip() if lines else "unknown"
    for engine in ("mbrola", "pico"):  # neither prints a version: name the voices found
        if installed_voices(engine):
            engines[engine] = "voices " + " ".join(installed_voices(engine))
    if "espeak-ng" not in engines:
        raise DataError("espeak-ng: not found on PATH; expected the Debian package espeak-ng "
                        "(scripts/bootstrap.sh installs it)")
    return engines


@lru_cache(maxsize=None)
def espeak_variants() -> list[str]:
    """`ESPEAK_VARIANTS` that this espeak-ng has."""
    out = subprocess.run(["espeak-ng", "--voices=variant"], capture_output=True, text=True, check=False).stdout
    present = {line.split("!v/", 1)[1].strip() for line in out.splitlines() if "!v/" in line}
    return [v for v in ESPEAK_VARIANTS if v in present]


@lru_cache(maxsize=None)
def installed_voices(engine: str) -> list[str]:
    """The voices of an optional engine that are installed (empty when the engine is not)."""
    if engine == "flite":
        return sorted(FLITE_VOICES) if shutil.which("flite") else []
    if engine == "festival":  # a voice is a folder under festival's voices/<language>/
        found = {p.name for root in FESTIVAL_VOICE_DIRS if root.is_dir() for p in root.glob("*/*") if p.is_dir()}
        return [v for v in FESTIVAL_VOICES if v in found] if shutil.which("festival") else []
    if engine == "mbrola":  # espeak-ng's mb-<voice> needs the mbrola program and the voice's diphone file
        return [v for v in MBROLA_VOICES if (MBROLA_DIR / v / v).is_file()] if shutil.which("mbrola") else []
    if engine == "pico":
        return list(PICO_VOICES) if shutil.which("pico2wave") else []
    raise ValueError(f"installed_voices: unknown engine {engine!r}")


def speak(voice: Voice, text: str, workdir: str) -> tuple[np.ndarray, int]:
    """Says ``text``; returns mono float32 samples and their rate."""
    return speak_words(voice, [text], workdir)[0]


def speak_words(voice: Voice, texts: list[str], workdir: str) -> list[tuple[np.ndarray, int]]:
    """Says each of ``texts`` on its own (one recording each); returns mono float32 samples and rates."""
    paths = [os.path.join(workdir, f"speech{i}.wav") for i in range(len(texts))]
    if voice.engine == "festival":
        _run(voice, ["festival", "--batch", _festival_script(voice, texts, paths, workdir)], texts)
    else:
        for text, path in zip(texts, paths):
            if voice.engine in ("espeak-ng", "mbrola"):  # -w, not --stdout: --stdout leaves 0x7fff.... in the size fields
                name = f"mb-{voice.name}" if voice.engine == "mbrola" else voice.name
                cmd = ["espeak-ng", "-v", name, "-p", str(voice.pitch), "-s", str(voice.speed), "-w", path, text]
            elif voice.engine == "pico":  # pitch and speed in percent of the voice's own, by Pico's markup
                markup = f'<pitch level="{voice.pitch}"><speed level="{voice.speed}">{text}</speed></pitch>'
                cmd = ["pico2wave", "-l", voice.name, "-w", path, markup]
            else:
                cmd = ["flite", "-voice", voice.name, "--setf", f"int_f0_target_mean={voice.pitch}",
                       "--setf", f"duration_stretch={voice.speed}", "-t", text, "-o", path]
            _run(voice, cmd, [text])
    spoken = []
    for text, path in zip(texts, paths):
        samples, rate = decode_wav(Path(path).read_bytes(), f"{voice.engine} {voice.name} '{text}'")
        os.unlink(path)  # a missing file next time is the engine's failure, not a stale recording
        spoken.append((samples.mean(axis=1), rate))
    return spoken


def _festival_script(voice: Voice, texts: list[str], paths: list[str], workdir: str) -> str:
    lines = [f"(voice_{voice.name})", f"(Parameter.set 'Duration_Stretch {voice.speed})"]
    if voice.pitch:  # the diphone voices' F0 targets (linear-regression intonation)
        lines.append(f"(set! int_lr_params '((target_f0_mean {voice.pitch}) (target_f0_std {voice.pitch / 7:.1f}) "
                     "(model_f0_mean 170) (model_f0_std 34)))")
    for text, path in zip(texts, paths):
        quoted = text.replace("\\", "").replace('"', "")
        lines.append(f'(utt.save.wave (utt.synth (Utterance Text "{quoted}")) "{path}" \'riff)')
    script = os.path.join(workdir, "speak.scm")
    Path(script).write_text("\n".join(lines) + "\n")
    return script


def _run(voice: Voice, cmd: list[str], texts: list[str]) -> None:
    done = subprocess.run(cmd, capture_output=True, check=False)
    if done.returncode != 0:
        raise DataError(f"{voice.engine}: failed to say '{' / '.join(texts)}' with voice {voice.name} (exit "
                        f"{done.returncode}: {' '.join(done.stderr.decode(errors='replace').split())[:200]})")
