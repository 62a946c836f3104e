"""The torch MFCC against an independent numpy/scipy MFCC, and the int8 form the board reproduces."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import scipy.fft
import scipy.io.wavfile
import scipy.signal
import torch

from nas.data.frontend import MfccFrontEnd, frontend_tables, mel_filterbank, round_half_away
from nas.data.frontend_config import FrontEndConfig
from nas.errors import DataError

REAL_CLIPS = Path(__file__).resolve().parents[3] / "shared" / "data" / "speech_commands_test_v2_half_a"


def reference_mfcc(wave: np.ndarray, cfg: FrontEndConfig) -> np.ndarray:
    """MFCC in float64 written from the specification, sharing no code with nas.data.frontend."""
    win, hop, nfft = cfg.window_samples, cfg.stride_samples, cfg.n_fft
    hann = scipy.signal.get_window("hann", win, fftbins=True)  # periodic Hann

    def mel(f: float) -> float:  # HTK: the 2595·log10 form (TF writes 1127·ln; same ratios)
        return 2595.0 * math.log10(1.0 + f / 700.0)

    edges = np.linspace(mel(cfg.fmin_hz), mel(cfg.fmax_hz), cfg.n_mels + 2)
    bank = np.zeros((nfft // 2 + 1, cfg.n_mels))
    for b in range(1, nfft // 2 + 1):  # DC gets no weight
        m = mel(b * cfg.sample_rate / nfft)
        for j in range(cfg.n_mels):
            lo, mid, hi = edges[j], edges[j + 1], edges[j + 2]
            if lo < m <= mid:
                bank[b, j] = (m - lo) / (mid - lo)
            elif mid < m < hi:
                bank[b, j] = (hi - m) / (hi - mid)
    frames = []
    for t in range(1 + (len(wave) - win) // hop):
        spectrum = np.fft.rfft(wave[t * hop : t * hop + win].astype(np.float64) * hann, nfft)
        log_mel = np.log(np.abs(spectrum) ** 2 @ bank + cfg.log_floor)
        frames.append(scipy.fft.dct(log_mel, type=2, norm="ortho")[: cfg.n_mfcc])
    return np.array(frames)


def generated_clips(tmp_path: Path, sample_rate: int = 16000) -> np.ndarray:
    """Tones, chirp, noise and silence, written to 16-bit wav and read back as the loader would."""
    rng = np.random.default_rng(0)
    t = np.arange(sample_rate) / sample_rate
    signals = [
        0.5 * np.sin(2 * np.pi * 440 * t),
        0.3 * scipy.signal.chirp(t, 100, 1.0, 3900),
        0.1 * rng.standard_normal(sample_rate),
        np.zeros(sample_rate),
        0.01 * rng.standard_normal(sample_rate) * (t > 0.5),
    ]
    clips = []
    for i, sig in enumerate(signals):
        path = tmp_path / f"clip{i}.wav"
        scipy.io.wavfile.write(path, sample_rate, np.clip(sig * 32768, -32768, 32767).astype(np.int16))
        clips.append(scipy.io.wavfile.read(path)[1].astype(np.float32) / 32768)
    return np.stack(clips)


def real_clips(count: int) -> np.ndarray:
    if not REAL_CLIPS.is_dir():
        pytest.skip(f"real Speech Commands clips not found at {REAL_CLIPS} (only on development machines)")
    files = sorted(REAL_CLIPS.glob("*/*.wav"))
    clips = []
    for path in files[:: max(1, len(files) // count)][:count]:  # spread over every class folder
        audio = scipy.io.wavfile.read(path)[1].astype(np.float32) / 32768
        clips.append(np.pad(audio, (0, max(0, 16000 - len(audio))))[:16000])
    return np.stack(clips)


def assert_matches_reference(clips: np.ndarray, cfg: FrontEndConfig) -> None:
    ours = MfccFrontEnd(cfg)(torch.from_numpy(clips)).numpy()
    reference = np.stack([reference_mfcc(clip, cfg) for clip in clips])
    assert ours.shape == reference.shape == (len(clips), cfg.num_frames, cfg.n_mfcc)
    assert np.abs(ours - reference).max() <= 1e-4


def test_mfcc_matches_independent_reference_on_generated_wavs(tmp_path):
    assert_matches_reference(generated_clips(tmp_path), FrontEndConfig())


def test_mfcc_matches_independent_reference_on_real_clips():
    assert_matches_reference(real_clips(60), FrontEndConfig())


@pytest.mark.parametrize(
    "settings",
    [
        {"window_ms": 30.0, "stride_ms": 10.0, "n_mfcc": 13},
        {"window_ms": 40.0, "stride_ms": 40.0},
        {"window_ms": 64.0, "stride_ms": 32.0, "n_mfcc": 40},
        {"window_ms": 20.0, "n_mfcc": 5},
        {"fmin_hz": 0.0, "fmax_hz": 8000.0, "n_mels": 20},  # the whole band, DC to Nyquist
    ],
)
def test_mfcc_matches_reference_for_other_settings(tmp_path, settings):
    assert_matches_reference(generated_clips(tmp_path)[:3], FrontEndConfig(**settings))


@pytest.mark.parametrize(
    "window_ms, stride_ms, n_mfcc, frames", [(40, 20, 10, 49), (40, 40, 10, 25), (30, 10, 13, 98), (25, 10, 40, 98)]
)
def test_output_shape_follows_window_stride_and_mfcc_count(window_ms, stride_ms, n_mfcc, frames):
    cfg = FrontEndConfig(window_ms=window_ms, stride_ms=stride_ms, n_mfcc=n_mfcc)
    out = MfccFrontEnd(cfg)(torch.zeros(3, cfg.clip_samples))
    assert out.shape == (3, frames, n_mfcc) and cfg.input_shape == (frames, n_mfcc)
    assert out.dtype == torch.float32


def test_batch_split_across_chunks_gives_per_clip_results():
    # 70 clips span several internal chunks and both worker threads; each row must be its own clip.
    waves = torch.from_numpy(np.random.default_rng(1).uniform(-0.5, 0.5, (70, 16000)).astype(np.float32))
    fe = MfccFrontEnd()
    batched = fe(waves)
    for i in (0, 17, 33, 69):
        assert torch.allclose(batched[i], fe(waves[i : i + 1])[0], atol=1e-5)
    # Worker threads do not inherit the caller's inference mode; the result must not depend on it.
    with torch.inference_mode():
        assert torch.equal(fe(waves), batched)


def test_tables_have_firmware_shapes_and_are_float32():
    cfg = FrontEndConfig(window_ms=30.0, n_mfcc=13)
    tables = frontend_tables(cfg)
    assert tables["window"].shape == (480,)
    assert tables["mel_filterbank"].shape == (cfg.n_fft // 2 + 1, cfg.n_mels)
    assert tables["dct"].shape == (cfg.n_mels, 13)
    assert all(t.dtype == np.float32 for t in tables.values())
    # Orthonormal DCT: its columns are orthonormal.
    np.testing.assert_allclose(tables["dct"].T @ tables["dct"], np.eye(13), atol=1e-6)
    # Filters vanish outside [fmin, fmax]: no weight above 4 kHz (bin 256 of a 1024 FFT).
    assert not tables["mel_filterbank"][257:].any() and not tables["mel_filterbank"][0].any()


def test_bad_waveform_shape_is_a_data_error():
    fe = MfccFrontEnd()
    with pytest.raises(DataError, match="expected waveforms"):
        fe(torch.zeros(16000))
    with pytest.raises(DataError, match="640"):
        fe(torch.zeros(2, 100))


def test_round_half_away_from_zero_like_c_roundf():
    x = torch.tensor([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999997, -0.49999997, 2.4, -2.6])
    assert round_half_away(x).tolist() == [1, 2, 3, -1, -2, -3, 0, 0, 2, -3]


@pytest.mark.parametrize("frac_bits", [0, 1, 3])
def test_int8_quantize_scales_rounds_and_saturates(frac_bits):
    fe = MfccFrontEnd(FrontEndConfig(int8_frac_bits=frac_bits))
    scale = 2.0**frac_bits
    mfcc = torch.tensor([0.0, 1.25, -1.25, 2.5 / scale, -2.5 / scale, 500.0, -500.0, 127.0 / scale])
    q = fe.quantize_int8(mfcc)
    assert q.dtype == torch.int8
    expected = [0, round_away(1.25 * scale), -round_away(1.25 * scale), 3, -3, 127, -128, 127]
    assert q.tolist() == [max(-128, min(127, v)) for v in expected]


def round_away(x: float) -> int:
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


def test_int8_round_trip_error_is_at_most_half_a_step_inside_range():
    fe = MfccFrontEnd(FrontEndConfig(int8_frac_bits=2))
    mfcc = torch.linspace(-31.0, 31.0, 10001)
    back = fe.dequantize_int8(fe.quantize_int8(mfcc))
    assert (back - mfcc).abs().max() <= 0.125 + 1e-6
    # Already-quantized values survive the round trip exactly.
    assert torch.equal(fe.dequantize_int8(fe.quantize_int8(back)), back)


def test_features_are_the_dequantized_int8_mfcc():
    fe = MfccFrontEnd()
    waves = torch.from_numpy(np.random.default_rng(2).uniform(-0.3, 0.3, (4, 16000)).astype(np.float32))
    feats = fe.features(waves)
    mfcc = fe(waves)
    assert torch.equal(feats, fe.dequantize_int8(fe.quantize_int8(mfcc)))
    # Features sit on the int8 grid and within half a step of the float MFCC.
    step = 2.0 ** -fe.config.int8_frac_bits
    assert torch.equal(feats / step, torch.round(feats / step))
    assert (feats - mfcc).abs().max() <= step / 2 + 1e-5


def test_default_scaling_does_not_saturate_real_speech():
    clips = torch.from_numpy(real_clips(300))
    fe = MfccFrontEnd()
    q = fe.quantize_int8(fe(clips))
    saturated = ((q == 127) | (q == -128)).float().mean().item()
    assert saturated < 1e-3, f"{saturated:.2%} of int8 features saturate with the default scaling"


def test_decimation_config_errors_name_the_field():
    from nas.errors import ConfigError

    with pytest.raises(ConfigError, match="decimation must be 1 or 2, got 3"):
        FrontEndConfig(decimation=3)
    with pytest.raises(ConfigError, match=r"decimation 2 needs fmax_hz <= sample_rate/4 = 4000, got 5000"):
        FrontEndConfig(decimation=2, fmax_hz=5000)
    with pytest.raises(ConfigError, match="decimation 2 needs an even window and stride in samples, got 640 and 161"):
        FrontEndConfig(decimation=2, stride_ms=10.0625)


def test_decimation_1_keeps_the_default_fingerprint_and_2_changes_it():
    # the default front end's identity (feature caches, firmware builds, model metadata) predates the field
    assert "decimation" not in FrontEndConfig().to_dict()
    assert FrontEndConfig().fingerprint() == FrontEndConfig.from_dict(FrontEndConfig().to_dict()).fingerprint()
    halved = FrontEndConfig(decimation=2)
    assert halved.to_dict()["decimation"] == 2 and FrontEndConfig.from_dict(halved.to_dict()) == halved
    assert halved.fingerprint() != FrontEndConfig().fingerprint()
    assert (halved.n_fft, halved.fft_window_samples, halved.fft_stride_samples) == (512, 320, 160)
    assert halved.input_shape == FrontEndConfig().input_shape


def test_decimation_2_keeps_the_filterbank_bins():
    # 15.625 Hz bins either way: the half-rate filterbank is the full-rate one's first n_fft/2 + 1 rows
    full = mel_filterbank(FrontEndConfig())
    half = mel_filterbank(FrontEndConfig(decimation=2))
    np.testing.assert_allclose(half, full[: len(half)], atol=1e-12)
    assert not full[len(half) :].any()

