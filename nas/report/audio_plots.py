"""The preprocessing figures of one clip: waveform, magnitude spectrum, spectrogram, mel, MFCC.

Each stage is computed from the front end's own tables (:func:`nas.data.frontend.frontend_tables`)
and the MFCC by :class:`~nas.data.frontend.MfccFrontEnd` itself, so the pictures show exactly what
a model is fed, step by step.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from nas.data.frontend_config import FrontEndConfig
from nas.errors import DataError

log = logging.getLogger("nas.report")

FIGURE_NAMES = ("waveform", "spectrum", "spectrogram", "mel_spectrogram", "mfcc")
# Five clips' worth shows a noise bed's character; a 10-minute file in full made 353 MB of HTML (every
# sample a point). Longer files are plotted from their start, and the titles say so: ≤ ~1.5 MB a figure.
MAX_PLOT_SECONDS = 5.0


def analyse_clip(waveform: np.ndarray, config: FrontEndConfig) -> dict[str, np.ndarray]:
    """Every intermediate of the front end for one mono clip (float32 in [-1, 1]).

    Returns:
        ``spectrum_db`` [N//2 + 1] (Hann-windowed whole clip), ``spectrogram_db`` [n_fft//2 + 1, T],
        ``log_mel`` [n_mels, T], ``mfcc`` [n_mfcc, T], and their axes ``spectrum_hz``, ``bin_hz``,
        ``frame_s``, ``mel_center_hz``.
    """
    import torch

    from nas.data.frontend import MfccFrontEnd, frontend_tables, hz_to_mel

    tables = frontend_tables(config)
    signal, rate = waveform, config.sample_rate
    if config.decimation == 2:  # the spectrogram the model sees: after the decimator, at half the rate
        from nas.data.decimate import decimate

        signal = decimate(torch.from_numpy(waveform[None].astype(np.float32)))[0].numpy()
        rate = config.fft_sample_rate
    frames = np.lib.stride_tricks.sliding_window_view(signal, config.fft_window_samples)[:: config.fft_stride_samples]
    power = np.abs(np.fft.rfft(frames * tables["window"], config.n_fft)) ** 2  # [T, bins]
    log_mel = np.log(power @ tables["mel_filterbank"] + config.log_floor)
    mfcc = MfccFrontEnd(config)(torch.from_numpy(waveform[None].astype(np.float32)))[0].numpy()

    whole = np.abs(np.fft.rfft(waveform * np.hanning(len(waveform))))
    mel_edges = np.linspace(hz_to_mel(config.fmin_hz), hz_to_mel(config.fmax_hz), config.n_mels + 2)
    return {
        "time_s": np.arange(len(waveform)) / config.sample_rate,
        "spectrum_hz": np.fft.rfftfreq(len(waveform), 1 / config.sample_rate),
        "spectrum_db": 20 * np.log10(whole + 1e-9),
        "bin_hz": np.fft.rfftfreq(config.n_fft, 1 / rate),
        "frame_s": (np.arange(len(frames)) * config.stride_samples + config.window_samples / 2) / config.sample_rate,
        "spectrogram_db": 10 * np.log10(power.T + 1e-12),
        "mel_center_hz": 700.0 * np.expm1(mel_edges[1:-1] / 1127.0),
        "log_mel": log_mel.T,
        "mfcc": mfcc.T,
    }


def audio_figures(waveform: np.ndarray, config: FrontEndConfig, title: str = "") -> dict[str, object]:
    """The five plotly figures, keyed by :data:`FIGURE_NAMES`."""
    import plotly.graph_objects as go

    a = analyse_clip(waveform, config)
    settings = (f"{config.window_ms:g} ms window, {config.stride_ms:g} ms stride, "
                f"{config.n_mels} mel bins {config.fmin_hz:g}-{config.fmax_hz:g} Hz, {config.n_mfcc} MFCC")
    figures = {
        "waveform": go.Figure(go.Scatter(x=a["time_s"], y=waveform, mode="lines", name="waveform")),
        "spectrum": go.Figure(go.Scatter(x=a["spectrum_hz"], y=a["spectrum_db"], mode="lines", name="|X(f)|")),
        "spectrogram": go.Figure(go.Heatmap(x=a["frame_s"], y=a["bin_hz"], z=a["spectrogram_db"],
                                            colorbar={"title": "dB"}, name="power")),
        "mel_spectrogram": go.Figure(go.Heatmap(x=a["frame_s"], y=a["mel_center_hz"], z=a["log_mel"],
                                                colorbar={"title": "ln"}, name="log mel")),
        # One colour scale would let coefficient 0 (log energy, tens of units) swamp the rest.
        "mfcc": go.Figure(go.Heatmap(x=a["frame_s"], y=np.arange(config.n_mfcc), z=per_coefficient(a["mfcc"]),
                                     customdata=a["mfcc"], colorscale="RdBu", zmid=0, name="MFCC",
                                     colorbar={"title": "z-score"},
                                     hovertemplate="t %{x:.3f} s, c%{y}: %{customdata:.3f} (z %{z:.2f})<extra></extra>")),
    }
    axes = {
        "waveform": ("time (s)", "amplitude", "waveform"),
        "spectrum": ("frequency (Hz)", "magnitude (dB)", "magnitude spectrum of the whole clip (Hann)"),
        "spectrogram": ("time (s)", "frequency (Hz)", f"power spectrogram, {config.n_fft}-point FFT"),
        "mel_spectrogram": ("time (s)", "mel band centre (Hz)", "log mel spectrogram"),
        "mfcc": ("time (s)", "coefficient", "MFCC fed to the model, colour = z-score per coefficient"),
    }
    for name, fig in figures.items():
        x_title, y_title, what = axes[name]
        fig.update_layout(
            title=f"{title}: {what}<br><sup>{settings}</sup>" if title else f"{what}<br><sup>{settings}</sup>",
            xaxis_title=x_title, yaxis_title=y_title, template="plotly_white", width=900, height=420,
        )
    # Log frequency spaces the mel bands nearly evenly, as the filterbank sees them.
    figures["mel_spectrogram"].update_yaxes(type="log", tickvals=[50, 100, 200, 500, 1000, 2000, 4000])
    return figures


def per_coefficient(mfcc: np.ndarray) -> np.ndarray:
    """Each row [n_mfcc, T] as its z-score over time (a constant row becomes 0): one colour scale for all."""
    spread = mfcc.std(axis=1, keepdims=True)
    return (mfcc - mfcc.mean(axis=1, keepdims=True)) / np.where(spread > 0, spread, 1.0)


def write_audio_plots(wav: str | Path, out_dir: str | Path, config: FrontEndConfig) -> list[Path]:
    """Reads ``wav`` and writes ``<name>.html`` and ``<name>.png`` for each figure into ``out_dir``.

    Only the first ``MAX_PLOT_SECONDS`` of a longer file are plotted (logged, and named in every title).
    """
    from nas.data.wav import read_wav
    from nas.report.figures import write_figure

    wav = Path(wav)
    waveform = read_wav(wav, expected_rate=config.sample_rate)
    if len(waveform) < config.window_samples:
        raise DataError(
            f"{wav}: {len(waveform)} samples, expected at least one {config.window_ms:g} ms window "
            f"({config.window_samples} samples at {config.sample_rate} Hz)"
        )
    title = wav.name
    shown = int(MAX_PLOT_SECONDS * config.sample_rate)
    if len(waveform) > shown:
        title += f" (first {MAX_PLOT_SECONDS:g} s of {len(waveform) / config.sample_rate:.1f} s)"
        log.warning("%s: %.1f s long; plotting its first %g s", wav, len(waveform) / config.sample_rate,
                    MAX_PLOT_SECONDS)
        waveform = waveform[:shown]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, fig in audio_figures(waveform, config, title=title).items():
        written += write_figure(fig, out_dir / name)
    return written
