"""WAV files in and out: any common RIFF/WAVE encoding in, mono float32 at the wanted rate out.

A small RIFF reader of our own instead of the stdlib ``wave`` module, because ``wave`` (Python ≤ 3.11)
rejects IEEE-float and WAVE_FORMAT_EXTENSIBLE files and says little about why a file is bad.
"""
from __future__ import annotations

import logging
import struct
from math import gcd
from pathlib import Path

import numpy as np

from nas.errors import DataError

logger = logging.getLogger(__name__)

WAVE_FORMAT_PCM = 0x0001
WAVE_FORMAT_IEEE_FLOAT = 0x0003
WAVE_FORMAT_EXTENSIBLE = 0xFFFE
_EXPECTED = "a RIFF/WAVE file with PCM 8/16/24/32-bit or float samples"
# Audio is recorded at 8 kHz (telephone) to 384 kHz (studio interfaces). A header outside that is damaged,
# and resampling from it to 16 kHz would make the clip silence (4 GHz) or a smear (10 Hz).
MIN_RATE, MAX_RATE = 8000, 384000


def read_wav(path: str | Path, expected_rate: int = 16000, max_seconds: float | None = None) -> np.ndarray:
    """Reads a WAV file as mono float32 in [-1, 1] at ``expected_rate``.

    Stereo (or more channels) is averaged to mono and other sample rates are resampled; both are
    logged, because either usually means the file did not come from the dataset it sits in.

    Raises:
        DataError: the file is missing, truncated, not a WAV, in an encoding we cannot read, holds NaN or
            infinite samples, claims an implausible sample rate, or lasts longer than ``max_seconds``.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise DataError(f"{path}: cannot read ({err.strerror}); expected {_EXPECTED}") from err
    samples, rate = decode_wav(data, str(path), max_seconds)
    for note in conversion_notes(rate, samples.shape[1], expected_rate):
        logger.warning("%s: %s", path, note)
    mono = samples.mean(axis=1, dtype=np.float32)
    if rate != expected_rate:
        mono = resample(mono, rate, expected_rate)
    return mono


def conversion_notes(rate: int, channels: int, expected_rate: int) -> list[str]:
    """What ``read_wav`` changes about a file of ``rate`` Hz and ``channels`` channels."""
    notes = [f"{rate} Hz, resampled to {expected_rate} Hz"] * (rate != expected_rate)
    return notes + [f"{channels} channels, down-mixed to mono"] * (channels > 1)


def decode_wav(data: bytes, name: str, max_seconds: float | None = None) -> tuple[np.ndarray, int]:
    """Decodes WAV bytes to float32 samples [frames, channels] in [-1, 1] and the sample rate.

    ``max_seconds`` refuses longer audio from the header's length, before decoding it.
    """
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise DataError(f"{name}: not a WAV file (no RIFF/WAVE header); expected {_EXPECTED}")
    fmt = None
    pos = 12
    while pos + 8 <= len(data):
        chunk_id = data[pos : pos + 4]
        (size,) = struct.unpack_from("<I", data, pos + 4)
        body = pos + 8
        if chunk_id == b"fmt ":
            if size < 16 or body + 16 > len(data):
                raise DataError(f"{name}: truncated 'fmt ' chunk; expected {_EXPECTED}")
            fmt = _parse_fmt(data[body : body + size], name)
        elif chunk_id == b"data":
            if fmt is None:
                raise DataError(f"{name}: 'data' chunk before 'fmt ' chunk; expected {_EXPECTED}")
            if body + size > len(data):
                raise DataError(
                    f"{name}: truncated: header announces {size} bytes of audio, the file holds "
                    f"{len(data) - body}; expected a complete WAV file"
                )
            _check_duration(size, fmt, name, max_seconds)
            return _samples(data[body : body + size], fmt, name), fmt[1]
        pos = body + size + (size & 1)  # chunks are word-aligned
    what = "'fmt ' chunk" if fmt is None else "'data' chunk"
    raise DataError(f"{name}: no {what} (truncated or not audio); expected {_EXPECTED}")


def _parse_fmt(body: bytes, name: str) -> tuple[int, int, int, int]:
    """Returns (format tag, sample rate, channels, bits per sample)."""
    tag, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", body, 0)
    if tag == WAVE_FORMAT_EXTENSIBLE and len(body) >= 26:
        (tag,) = struct.unpack_from("<H", body, 24)  # first two bytes of the sub-format GUID
    if channels < 1:
        raise DataError(f"{name}: {channels} channels; expected {_EXPECTED}")
    if not MIN_RATE <= rate <= MAX_RATE:
        raise DataError(f"{name}: header claims a sample rate of {rate} Hz; expected {MIN_RATE} to {MAX_RATE} Hz "
                        f"(a damaged header: resampling would make the clip silence or noise)")
    return tag, rate, channels, bits


def _check_duration(size: int, fmt: tuple[int, int, int, int], name: str, max_seconds: float | None) -> None:
    _, rate, channels, bits = fmt
    seconds = size // max(1, bits // 8 * channels) / rate
    if max_seconds is not None and seconds > max_seconds:
        raise DataError(f"{name}: {seconds:.4g} s of audio; expected a clip of at most {max_seconds:g} s")


def _samples(raw: bytes, fmt: tuple[int, int, int, int], name: str) -> np.ndarray:
    tag, _, channels, bits = fmt
    width = bits // 8
    frame = width * channels
    raw = raw[: len(raw) - len(raw) % frame] if frame else raw
    if tag == WAVE_FORMAT_PCM and bits == 8:
        x = (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0
    elif tag == WAVE_FORMAT_PCM and bits == 16:
        x = np.frombuffer(raw, "<i2").astype(np.float32) / 32768.0
    elif tag == WAVE_FORMAT_PCM and bits == 24:
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        ints = (b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)) << 8 >> 8  # sign-extend 24 → 32 bits
        x = ints.astype(np.float32) / 8388608.0
    elif tag == WAVE_FORMAT_PCM and bits == 32:
        x = (np.frombuffer(raw, "<i4").astype(np.float64) / 2147483648.0).astype(np.float32)
    elif tag == WAVE_FORMAT_IEEE_FLOAT and bits in (32, 64):
        x = np.frombuffer(raw, "<f4" if bits == 32 else "<f8")
        bad = np.flatnonzero(~np.isfinite(x))
        if bad.size:  # NaN would pass the clip below and become all-zero int8 features
            raise DataError(f"{name}: {bad.size} of {x.size} samples are NaN or infinite (the first at sample "
                            f"{bad[0] // channels}); expected finite float samples")
        x = np.clip(x, -1.0, 1.0).astype(np.float32)
    else:
        raise DataError(f"{name}: format tag {tag:#06x} with {bits}-bit samples; expected {_EXPECTED}")
    if x.size == 0:
        raise DataError(f"{name}: no audio samples; expected {_EXPECTED}")
    return x.reshape(-1, channels)


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Polyphase resampling (scipy), exact for rational ratios such as 44.1 kHz → 16 kHz."""
    from scipy.signal import resample_poly

    g = gcd(from_rate, to_rate)
    return resample_poly(samples, to_rate // g, from_rate // g).astype(np.float32)


def fit_length(samples: np.ndarray, length: int) -> np.ndarray:
    """Zero-pads at the end or crops to exactly ``length`` samples (Speech Commands clips run short)."""
    if len(samples) >= length:
        return samples[:length]
    return np.pad(samples, (0, length - len(samples)))


def to_pcm16(samples: np.ndarray) -> np.ndarray:
    """float samples in [-1, 1] → int16 PCM (clipped), the inverse of read_wav's x / 32768: exact for
    samples read from a 16-bit wav, within half a step otherwise."""
    return np.clip(np.round(np.asarray(samples, np.float64) * 32768.0), -32768, 32767).astype("<i2")


def write_wav(path: str | Path, samples: np.ndarray, rate: int = 16000) -> None:
    """Writes mono 16-bit PCM, the Speech Commands encoding; samples are clipped to [-1, 1]."""
    pcm = to_pcm16(samples).tobytes()
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF", 36 + len(pcm), b"WAVE", b"fmt ", 16, WAVE_FORMAT_PCM, 1, rate, rate * 2, 2, 16,
        b"data", len(pcm),
    )
    Path(path).write_bytes(header + pcm)
