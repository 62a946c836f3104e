"""`kws-nas plot-audio`: real HTML and PNG files whose data are the clip's front-end stages."""
from __future__ import annotations

import base64
import json
import struct
from pathlib import Path

import numpy as np
import pytest
import scipy.io.wavfile
import torch

from nas.cli import main
from nas.data.frontend import MfccFrontEnd
from nas.data.frontend_config import FrontEndConfig
from nas.report.audio_plots import FIGURE_NAMES
from tests.data.bad_wavs import write_long_wav, write_nan_wav

RATE = 16000
TONE_HZ = 1000.0


def plotly_traces(html: Path) -> list[dict]:
    """The trace list passed to Plotly.newPlot in an HTML file, typed arrays decoded to numpy."""
    text = html.read_text()
    call = text.index("Plotly.newPlot(")
    after_id = text.index(",", call) + 1
    traces, _ = json.JSONDecoder().raw_decode(text[after_id:].lstrip())
    return [{k: decode(v) for k, v in trace.items()} for trace in traces]


def decode(value):
    if isinstance(value, dict) and "bdata" in value:
        array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        return array.reshape([int(n) for n in value["shape"].split(",")]) if "shape" in value else array
    if isinstance(value, list):
        return np.asarray(value)
    return value


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def tone_wav(tmp_path_factory) -> tuple[Path, np.ndarray]:
    t = np.arange(RATE) / RATE
    samples = (0.4 * np.sin(2 * np.pi * TONE_HZ * t) * (t > 0.2) * (t < 0.8) * 32767).astype(np.int16)
    path = tmp_path_factory.mktemp("wav") / "tone.wav"
    scipy.io.wavfile.write(path, RATE, samples)
    return path, samples.astype(np.float32) / 32768


@pytest.fixture(scope="module")
def plots(tone_wav, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("plots")
    args = ["plot-audio", str(tone_wav[0]), "--out", str(out), "--window-ms", "30", "--stride-ms", "10", "--n-mfcc", "13"]
    assert main(args) == 0
    return out


def test_every_figure_is_written_as_html_and_a_real_png(plots):
    for name in FIGURE_NAMES:
        assert (plots / f"{name}.html").stat().st_size > 1000
        png = plots / f"{name}.png"
        assert png_size(png) == (900, 420)
        assert png.stat().st_size > 10_000  # a drawn figure, not an empty canvas


def test_html_holds_the_clip_and_its_mfcc(plots, tone_wav):
    _, samples = tone_wav
    (waveform,) = plotly_traces(plots / "waveform.html")
    np.testing.assert_allclose(waveform["y"], samples, atol=1e-6)

    cfg = FrontEndConfig(window_ms=30.0, stride_ms=10.0, n_mfcc=13)
    (mfcc,) = plotly_traces(plots / "mfcc.html")
    expected = MfccFrontEnd(cfg)(torch.from_numpy(samples[None]))[0].numpy().T
    assert mfcc["z"].shape == (13, cfg.num_frames) == (13, 98)
    np.testing.assert_allclose(mfcc["customdata"], expected, atol=1e-5)  # the values, shown on hover


def test_mfcc_colours_each_coefficient_on_its_own_scale(plots):
    (mfcc,) = plotly_traces(plots / "mfcc.html")
    raw, z = mfcc["customdata"], mfcc["z"]
    assert np.ptp(raw[0]) > 5 * np.median(np.ptp(raw[1:], axis=1))  # c0 would swamp one shared scale
    np.testing.assert_allclose(z.mean(axis=1), 0, atol=1e-4)
    np.testing.assert_allclose(z.std(axis=1), 1, atol=1e-3)
    np.testing.assert_allclose(z, (raw - raw.mean(1, keepdims=True)) / raw.std(1, keepdims=True), atol=1e-4)
    assert "z-score" in (plots / "mfcc.html").read_text()


def test_spectra_put_the_tone_where_it_is(plots):
    (spectrum,) = plotly_traces(plots / "spectrum.html")
    assert spectrum["x"][np.argmax(spectrum["y"])] == pytest.approx(TONE_HZ, abs=2)

    (spectrogram,) = plotly_traces(plots / "spectrogram.html")
    z, freqs, times = spectrogram["z"], spectrogram["y"], spectrogram["x"]
    assert z.shape == (len(freqs), len(times)) == (257, 98)  # 30 ms → 480 samples → 512-point FFT
    during, before = np.argmin(abs(times - 0.5)), np.argmin(abs(times - 0.05))
    assert freqs[np.argmax(z[:, during])] == pytest.approx(TONE_HZ, abs=16)  # bins are 31.25 Hz apart; 1 kHz is bin 32
    assert z[:, during].max() > z[:, before].max() + 60  # tone on vs silence, in dB

    (mel,) = plotly_traces(plots / "mel_spectrogram.html")
    assert mel["z"].shape == (40, 98)
    assert mel["y"][np.argmax(mel["z"][:, during])] == pytest.approx(TONE_HZ, rel=0.1)


def test_not_a_wav_is_one_clear_error(tmp_path, capsys):
    bad = tmp_path / "notes.wav"
    bad.write_text("this is not audio")
    assert main(["plot-audio", str(bad), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"kws-nas plot-audio: error: {bad}") and "WAV" in err
    assert "Traceback" not in err


def test_clip_shorter_than_a_window_is_one_clear_error(tmp_path, capsys):
    short = tmp_path / "short.wav"
    scipy.io.wavfile.write(short, RATE, np.zeros(100, dtype=np.int16))
    assert main(["plot-audio", str(short), "--out", str(tmp_path / "out")]) == 2
    assert "expected at least one 40 ms window (640 samples" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_bad_front_end_setting_is_a_config_error(tone_wav, tmp_path, capsys):
    assert main(["plot-audio", str(tone_wav[0]), "--out", str(tmp_path), "--n-mfcc", "60"]) == 2
    assert "n_mfcc 60 exceeds n_mels 40" in capsys.readouterr().err


def test_a_ten_minute_file_is_plotted_from_its_start_in_small_files(tmp_path, caplog):
    """In full it made 353 MB of HTML (every sample a point); now 5 s of it, and every title says so."""
    long_wav = write_long_wav(tmp_path / "session.wav", 600.0)
    assert main(["plot-audio", str(long_wav), "--out", str(tmp_path / "out")]) == 0
    assert "session.wav: 600.0 s long; plotting its first 5 s" in caplog.text
    for name in FIGURE_NAMES:
        html = tmp_path / "out" / f"{name}.html"
        assert html.stat().st_size < 2_000_000, f"{html}: {html.stat().st_size} bytes"
        assert "session.wav (first 5 s of 600.0 s)" in html.read_text()
    (waveform,) = plotly_traces(tmp_path / "out" / "waveform.html")
    assert len(waveform["y"]) == 5 * RATE and waveform["x"][-1] < 5.0


def test_a_wav_with_nan_samples_is_one_clear_error(tmp_path, capsys):
    bad = write_nan_wav(tmp_path / "nan.wav")
    assert main(["plot-audio", str(bad), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"kws-nas plot-audio: error: {bad}: 101 of 16000 samples are NaN or infinite")
    assert not (tmp_path / "out").exists()
