"""read_wav on real files written by the stdlib `wave` module (an independent writer) and by hand."""
from __future__ import annotations

import logging
import struct
import wave

import numpy as np
import pytest

from nas.data.wav import fit_length, read_wav, write_wav
from nas.errors import DataError
from tests.data.bad_wavs import write_long_wav, write_nan_wav, write_wav_claiming_rate


def _sine(rate: int, hz: float = 440.0, seconds: float = 1.0, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return amplitude * np.sin(2 * np.pi * hz * t)


def _write_pcm(path, samples: np.ndarray, rate: int, width: int) -> None:
    """[frames, channels] floats → integer PCM of ``width`` bytes via the stdlib writer."""
    samples = samples.reshape(len(samples), -1)
    if width == 1:
        raw = np.round(samples * 127 + 128).astype(np.uint8).tobytes()
    elif width == 3:
        ints = np.round(samples * (2**23 - 1)).astype("<i4")
        raw = ints.view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
    else:
        raw = np.round(samples * (2 ** (8 * width - 1) - 1)).astype(f"<i{width}").tobytes()
    with wave.open(str(path), "wb") as w:
        w.setnchannels(samples.shape[1])
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(raw)


def _dominant_hz(x: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(x))
    return float(np.fft.rfftfreq(len(x), 1 / rate)[spectrum.argmax()])


@pytest.mark.parametrize("width, tolerance", [(1, 1 / 100), (2, 1e-4), (3, 1e-6), (4, 1e-6)])
def test_pcm_widths_decode_to_the_written_signal(tmp_path, width, tolerance):
    signal = _sine(16000)
    path = tmp_path / f"pcm{width}.wav"
    _write_pcm(path, signal, 16000, width)
    out = read_wav(path)
    assert out.dtype == np.float32 and out.shape == (16000,)
    np.testing.assert_allclose(out, signal, atol=tolerance)


def test_ieee_float_wav_decodes(tmp_path):
    signal = _sine(16000).astype("<f4")
    body = signal.tobytes()
    header = struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + len(body), b"WAVE", b"fmt ", 16, 3, 1, 16000,
                         64000, 4, 32, b"data", len(body))
    (tmp_path / "float.wav").write_bytes(header + body)
    np.testing.assert_array_equal(read_wav(tmp_path / "float.wav"), signal)


def test_write_then_read_round_trips_through_the_stdlib_reader(tmp_path):
    signal = _sine(16000, amplitude=0.9)
    write_wav(tmp_path / "x.wav", signal)
    with wave.open(str(tmp_path / "x.wav")) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()) == (1, 2, 16000, 16000)
    np.testing.assert_allclose(read_wav(tmp_path / "x.wav"), signal, atol=1 / 32767)


def test_stereo_is_down_mixed_with_a_log_line(tmp_path, caplog):
    left, right = _sine(16000, 440, amplitude=0.6), _sine(16000, 1000, amplitude=0.2)
    _write_pcm(tmp_path / "stereo.wav", np.stack([left, right], axis=1), 16000, 2)
    with caplog.at_level(logging.WARNING):
        out = read_wav(tmp_path / "stereo.wav")
    np.testing.assert_allclose(out, (left + right) / 2, atol=1e-4)
    assert "stereo.wav" in caplog.text and "down-mixed" in caplog.text


@pytest.mark.parametrize("rate", [8000, 22050, 44100])
def test_other_rates_are_resampled_to_16k_with_a_log_line(tmp_path, caplog, rate):
    _write_pcm(tmp_path / "r.wav", _sine(rate, 440), rate, 2)
    with caplog.at_level(logging.WARNING):
        out = read_wav(tmp_path / "r.wav")
    assert len(out) == 16000  # one second stays one second
    assert abs(_dominant_hz(out, 16000) - 440) <= 1.0  # and 440 Hz stays 440 Hz
    assert f"{rate} Hz" in caplog.text and "resampled" in caplog.text


def test_truncated_file_names_the_file_and_the_problem(tmp_path):
    write_wav(tmp_path / "full.wav", _sine(16000))
    (tmp_path / "cut.wav").write_bytes((tmp_path / "full.wav").read_bytes()[:10000])
    with pytest.raises(DataError, match=r"cut\.wav: truncated.*expected a complete WAV"):
        read_wav(tmp_path / "cut.wav")


def test_header_only_file_is_rejected(tmp_path):
    write_wav(tmp_path / "full.wav", _sine(16000))
    (tmp_path / "stub.wav").write_bytes((tmp_path / "full.wav").read_bytes()[:30])
    with pytest.raises(DataError, match=r"stub\.wav"):
        read_wav(tmp_path / "stub.wav")


def test_non_wav_file_is_rejected(tmp_path):
    (tmp_path / "notes.wav").write_text("this is not audio\n")
    with pytest.raises(DataError, match=r"notes\.wav: not a WAV file.*expected a RIFF/WAVE"):
        read_wav(tmp_path / "notes.wav")


def test_missing_file_is_rejected(tmp_path):
    with pytest.raises(DataError, match=r"absent\.wav: cannot read"):
        read_wav(tmp_path / "absent.wav")


def test_unsupported_encoding_is_rejected(tmp_path):
    body = bytes(1600)
    header = struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + len(body), b"WAVE", b"fmt ", 16, 6, 1, 8000,
                         8000, 1, 8, b"data", len(body))  # format 6: A-law
    (tmp_path / "alaw.wav").write_bytes(header + body)
    with pytest.raises(DataError, match=r"alaw\.wav: format tag 0x0006"):
        read_wav(tmp_path / "alaw.wav")


def test_fit_length_pads_short_clips_and_crops_long_ones():
    short = np.ones(12000, dtype=np.float32)
    padded = fit_length(short, 16000)
    assert padded.shape == (16000,) and padded[:12000].all() and not padded[12000:].any()
    assert fit_length(np.arange(20000.0), 16000)[-1] == 15999


def test_nan_samples_are_refused_naming_the_file(tmp_path):
    """NaN passed the clip to [-1, 1] and became all-zero features that were trained on."""
    write_nan_wav(tmp_path / "nan.wav")
    with pytest.raises(DataError, match=r"nan\.wav: 101 of 16000 samples are NaN or infinite \(the first at "
                                        r"sample 4000\); expected finite float samples"):
        read_wav(tmp_path / "nan.wav")


@pytest.mark.parametrize("rate", [4_000_000_000, 100, 400_000])
def test_an_implausible_sample_rate_is_refused_naming_the_file_and_the_rate(tmp_path, rate):
    """A header claiming 4 GHz was resampled to 16 kHz: 1 s of audio became 0 samples, then silence."""
    write_wav_claiming_rate(tmp_path / "ghz.wav", rate)
    with pytest.raises(DataError, match=rf"ghz\.wav: header claims a sample rate of {rate} Hz; expected 8000 to "
                                        rf"384000 Hz"):
        read_wav(tmp_path / "ghz.wav")


def test_max_seconds_refuses_longer_audio_and_none_reads_it(tmp_path):
    write_long_wav(tmp_path / "long.wav", 3.0)
    with pytest.raises(DataError, match=r"long\.wav: 3 s of audio; expected a clip of at most 2 s"):
        read_wav(tmp_path / "long.wav", max_seconds=2.0)
    assert len(read_wav(tmp_path / "long.wav", max_seconds=3.0)) == len(read_wav(tmp_path / "long.wav")) == 48000
