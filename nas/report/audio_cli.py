"""`kws-nas plot-audio WAV --out DIR`: the front end's stages of one clip as plotly HTML and PNG."""
from __future__ import annotations

import argparse
from pathlib import Path

from nas.data.frontend_config import FrontEndConfig
from nas.report.audio_plots import MAX_PLOT_SECONDS

_DEFAULTS = FrontEndConfig()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("wav", type=Path, help="a wav file (resampled to 16 kHz and down-mixed if needed; "
                                               f"of a longer file, the first {MAX_PLOT_SECONDS:g} s)")
    parser.add_argument("--out", type=Path, required=True, help="folder for the .html and .png files")
    parser.add_argument("--window-ms", type=float, default=_DEFAULTS.window_ms,
                        help=f"analysis window (default {_DEFAULTS.window_ms:g})")
    parser.add_argument("--stride-ms", type=float, default=_DEFAULTS.stride_ms,
                        help=f"hop between windows (default {_DEFAULTS.stride_ms:g})")
    parser.add_argument("--n-mfcc", type=int, default=_DEFAULTS.n_mfcc,
                        help=f"MFCCs kept (default {_DEFAULTS.n_mfcc})")


def run(args: argparse.Namespace) -> int:
    from nas.report.audio_plots import write_audio_plots

    config = FrontEndConfig(window_ms=args.window_ms, stride_ms=args.stride_ms, n_mfcc=args.n_mfcc)
    for path in write_audio_plots(args.wav, args.out, config):
        print(path)
    return 0
