"""Generate ``frontend_tables.h``: the front-end specification as C for the firmware's MFCC.

The tables are :func:`nas.data.frontend.frontend_tables` — the same float32 arrays the training
front end multiplies by — plus FFT twiddles and the sparse form of the mel filterbank, so the
board computes the function training saw (``python -m nas.board.frontend_header --out FILE``).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from nas.atomic import write_text_atomic
from nas.data.frontend_config import FrontEndConfig


def _c_floats(values: np.ndarray) -> str:
    # repr of a float32 round-trips exactly through a C float literal with the 'f' suffix.
    items = [f"{float(v)!r}f" for v in np.asarray(values, dtype=np.float32).ravel()]
    return ",\n".join("    " + ", ".join(items[i : i + 6]) for i in range(0, len(items), 6))


def _c_ints(values) -> str:
    items = [str(int(v)) for v in values]
    return ",\n".join("    " + ", ".join(items[i : i + 12]) for i in range(0, len(items), 12))


def fft_plan(config: FrontEndConfig) -> tuple[int, list[int]]:
    """The firmware's FFT of the ``n_fft // 2`` packed complex samples: the radix of its first stage,
    which reads the windowed samples (8 when log2 of the length is odd, else 4), then the spans L of
    the radix-4 stages after it (sub-DFTs of 4L points), the last one's 1."""
    half = config.n_fft // 2
    first_radix = 8 if (half.bit_length() - 1) % 2 == 1 and half >= 8 else 4
    spans, size = [], half // first_radix
    while size >= 4:
        spans.append(size // 4)
        size //= 4
    return first_radix, spans


def first_stage_reads(config: FrontEndConfig) -> int:
    """Samples the first FFT stage reads: its inputs n + q·S (S = half / radix) for the q whose block
    holds some windowed sample; past the window the (zero-extended) window table gives 0."""
    first_radix, _ = fft_plan(config)
    span = config.n_fft // 2 // first_radix
    nonzero = (config.fft_window_samples + 1) // 2
    return 2 * span * -(-nonzero // span)


def fft_output_position(config: FrontEndConfig) -> np.ndarray:
    """[half]: where the in-place decimation-in-frequency FFT leaves bin k (mixed-radix digit reversal).

    Position p has digits d1 (radix r1, most significant), d2, ... and holds bin d1 + r1·d2 + r1·r2·d3 …
    """
    first_radix, spans = fft_plan(config)
    radices = [first_radix] + [4] * len(spans)
    half = config.n_fft // 2
    position = np.empty(half, dtype=np.int64)
    for p in range(half):
        rest, size, k, weight = p, half, 0, 1
        for radix in radices:
            size //= radix
            digit, rest = divmod(rest, size)
            k += digit * weight
            weight *= radix
        position[k] = p
    return position


def ln_mantissa_poly(degree: int = 6) -> np.ndarray:
    """Coefficients c0.. of ln(m) ≈ Σ c_i (m - 1.5)^i on [1, 2): the board's log without libm
    (ln x = e·ln 2 + ln m for x = m·2^e; max error ≈ 1e-6, far below an int8 step of the MFCC)."""
    m = np.linspace(1.0, 2.0, 4001)
    fit = np.polynomial.chebyshev.Chebyshev.fit(m - 1.5, np.log(m), degree, domain=[-0.5, 0.5])
    return fit.convert(kind=np.polynomial.Polynomial).coef


def mel_segments(config: FrontEndConfig, first_bin: int, end_bin: int) -> tuple[np.ndarray, np.ndarray]:
    """The filterbank as the board applies it, in one pass over bins first_bin..end_bin - 1: each bin's
    rising weight w, of the band whose lower half holds it, and per segment
    s (between mel edges s and s + 1) the end of its bins, relative to first_bin. Band s - 1 falls
    with 1 - w over segment s: TF's triangles reach their neighbours' centres."""
    from nas.data.frontend import frontend_tables, hz_to_mel

    filterbank = frontend_tables(config, np.float64)["mel_filterbank"]
    edges = np.linspace(hz_to_mel(config.fmin_hz), hz_to_mel(config.fmax_hz), config.n_mels + 2)
    bins = np.arange(first_bin, end_bin)
    bin_mel = hz_to_mel(np.linspace(0.0, config.fft_sample_rate / 2, config.n_fft // 2 + 1))[bins]
    segment = np.clip(np.searchsorted(edges, bin_mel, side="right") - 1, 0, config.n_mels)
    # Below the first centre and above the last, the partner band is a virtual one, discarded.
    rising = (bin_mel - edges[segment]) / (edges[segment + 1] - edges[segment])
    rises, falls = segment < config.n_mels, segment > 0
    error = max(np.abs(filterbank[bins[rises], segment[rises]] - rising[rises]).max(initial=0.0),
                np.abs(filterbank[bins[falls], segment[falls] - 1] - (1.0 - rising[falls])).max(initial=0.0))
    if error > 1e-9 or np.any(np.diff(segment) < 0):
        raise AssertionError("front end: the mel triangles do not meet at their neighbours' centres")
    segment_end = np.searchsorted(segment, np.arange(config.n_mels + 1), side="right")
    return rising, segment_end


def _c_complex(values: np.ndarray) -> str:
    values = np.asarray(values, dtype=np.complex128).ravel()
    items = [f"{{{float(np.float32(v.real))!r}f, {float(np.float32(v.imag))!r}f}}" for v in values]
    return ",\n".join("    " + ", ".join(items[i : i + 3]) for i in range(0, len(items), 3))


def _decimator_c(config: FrontEndConfig) -> str:
    """The decimator's Q15 taps (nas/data/decimate.py) for firmware/src/fe_decimate.c, when it is used."""
    if config.decimation == 1:
        return ""
    from nas.data.decimate import TAPS, halfband_taps

    taps = halfband_taps()
    centre = TAPS // 2
    return f"""/* The 2:1 decimator: a half band of {TAPS} Q15 taps h[k] (nas/data/decimate.py), output n =
 * sat16((sum_k h[k] x[2n - k] + 2^14) >> 15). h[k] = h[{TAPS - 1} - k]; the nonzero ones are the centre
 * h[{centre}] and the pairs h[2p] = h[{TAPS - 1} - 2p], p < KWS_FE_DEC_PAIRS. */
#define KWS_FE_DEC_TAPS {TAPS}
#define KWS_FE_DEC_PAIRS {(centre + 1) // 2}
#define KWS_FE_DEC_CENTRE_TAP {int(taps[centre])}
static const int16_t kws_fe_dec_pair_taps[KWS_FE_DEC_PAIRS] = {{
{_c_ints(taps[0:centre:2])}
}};
"""


def render_header(config: FrontEndConfig) -> str:
    """C header text for one front-end configuration."""
    from nas.data.frontend import frontend_tables  # pulls in torch; kept out of module import

    tables = frontend_tables(config)
    filterbank = tables["mel_filterbank"]  # [bins, n_mels]
    used = np.flatnonzero(filterbank.any(axis=1))
    first_bin, end_bin = int(used[0]), int(used[-1]) + 1
    rising, segment_end = mel_segments(config, first_bin, end_bin)
    half = config.n_fft // 2
    first_radix, spans = fft_plan(config)
    first_span = half // first_radix
    # First stage: W^(q n) for q = 1 .. radix - 1 per n < S (W = exp(-2 pi i / half)); then the radix-4
    # stages but the last (whose are all 1), in order: W^j, W^2j, W^3j per j < L (W = exp(-2 pi i / 4L)).
    first_tw = [np.exp(-2j * np.pi * q * n / half) for n in range(first_span) for q in range(1, first_radix)]
    radix4_tw = [np.exp(-2j * np.pi * q * j / (4 * span)) for span in spans[:-1] for j in range(span) for q in (1, 2, 3)]
    reads = first_stage_reads(config)
    # The real transform from the packed complex one, at the bins the filterbank uses: bin k needs
    # Z[k] and Z[half - k] (indices mod half) and the twiddle exp(-2 pi i k / n_fft).
    bins = np.arange(first_bin, end_bin)
    position = fft_output_position(config)
    split_pos = np.stack([position[bins % half], position[(half - bins) % half]], axis=1)
    split_tw = np.exp(-2j * np.pi * bins / config.n_fft)
    # Scalings by powers of two are exact in float: int16 → [-1, 1) and the split's factor 1/2 (the
    # real transform is half the sum of two packed ones) both go into the window.
    # Zero past the window, up to the samples the first stage reads.
    window_q16 = np.zeros(reads, np.float32)
    window_q16[: config.fft_window_samples] = tables["window"].astype(np.float32) * np.float32(2.0**-16)
    # In the first stage's read order, [n][q][re, im] for sample 2 (n + q S) (+ 1): one butterfly's
    # weights are contiguous, one vldm on the board.
    window_q16 = window_q16.reshape(-1, first_span, 2).transpose(1, 0, 2).ravel()
    return f"""/* Generated by nas/board/frontend_header.py from nas.data.frontend.frontend_tables: do not edit.
 * Front end {config.fingerprint()}: {json.dumps(config.to_dict(), sort_keys=True)} */
#ifndef KWS_FRONTEND_TABLES_H
#define KWS_FRONTEND_TABLES_H

#define KWS_FE_FINGERPRINT "{config.fingerprint()}"
#define KWS_FE_SAMPLE_RATE {config.sample_rate}
/* clip, window and stride in input samples; the FFT_ ones at the FFT's rate (after the decimator) */
#define KWS_FE_CLIP_SAMPLES {config.clip_samples}
#define KWS_FE_WINDOW_SAMPLES {config.window_samples}
#define KWS_FE_STRIDE_SAMPLES {config.stride_samples}
#define KWS_FE_DECIMATION {config.decimation}
#define KWS_FE_FFT_CLIP_SAMPLES {-(-config.clip_samples // config.decimation)}
#define KWS_FE_FFT_WINDOW_SAMPLES {config.fft_window_samples}
#define KWS_FE_FFT_STRIDE_SAMPLES {config.fft_stride_samples}
#define KWS_FE_N_FFT {config.n_fft}
#define KWS_FE_NUM_FRAMES {config.num_frames}
#define KWS_FE_N_MELS {config.n_mels}
#define KWS_FE_N_MFCC {config.n_mfcc}
#define KWS_FE_FIRST_BIN {first_bin}
#define KWS_FE_END_BIN {end_bin}
#define KWS_FE_LOG_FLOOR {float(np.float32(config.log_floor))!r}f
#define KWS_FE_INT8_SCALE {float(2 ** config.int8_frac_bits)!r}f
/* The FFT: {half} packed complex samples (even samples real, odd imaginary); a radix-{first_radix} first
 * stage of span {first_span} on the windowed samples, whose inputs n + q * span are zero from
 * q = KWS_FE_FFT_FIRST_INPUTS on, then radix-4 stages of spans {", ".join(map(str, spans)) or "(none)"}.
 * A frame's samples are read up to KWS_FE_FRAME_READ_SAMPLES (the window table is 0 past the window). */
#define KWS_FE_FFT_HALF {half}
#define KWS_FE_FFT_FIRST_RADIX {first_radix}
#define KWS_FE_FFT_FIRST_SPAN {first_span}
#define KWS_FE_FFT_FIRST_INPUTS {reads // (2 * first_span)}
#define KWS_FE_FRAME_READ_SAMPLES {reads}
#define KWS_FE_LN2 {float(np.float32(np.log(2.0)))!r}f

typedef struct {{
    float re, im;
}} kws_fe_cpx_t;

/* periodic Hann window times 2^-16 (int16 PCM to [-1, 1) and the split's 1/2 on the way), in the
 * first stage's read order: entry (n KWS_FE_FFT_FIRST_INPUTS + q) 2 + c weights sample 2 (n + q S) + c */
static const float kws_fe_first_window[KWS_FE_FRAME_READ_SAMPLES] = {{
{_c_floats(window_q16)}
}};

/* first stage: exp(-2 pi i q n / KWS_FE_FFT_HALF), q = 1 .. radix - 1, for each n < its span */
static const kws_fe_cpx_t kws_fe_first_tw[] = {{
{_c_complex(first_tw)}
}};
/* radix-4 stages but the last, in order: for span L, W^j, W^2j, W^3j (W = exp(-2 pi i / 4L)), j < L */
static const kws_fe_cpx_t kws_fe_radix4_tw[] = {{
{_c_complex(np.asarray(radix4_tw) if radix4_tw else np.ones(1))}
}};

/* bin k = KWS_FE_FIRST_BIN + i: the byte offsets in the FFT buffer of Z[k] and Z[half - k] at [2i], [2i + 1]
 * (one 32-bit load on the board) */
static const unsigned short kws_fe_split_offset[2 * (KWS_FE_END_BIN - KWS_FE_FIRST_BIN)] = {{
{_c_ints(8 * split_pos.ravel())}
}};

/* The triangles overlap pairwise: segment s (bins up to KWS_FE_FIRST_BIN + kws_fe_mel_segment_end[s])
 * lies between band edges s and s + 1, where band s rises with weight w and band s - 1 falls with
 * 1 - w; kws_fe_bin_coef[3 i + 2] is w of bin KWS_FE_FIRST_BIN + i. */
static const unsigned short kws_fe_mel_segment_end[KWS_FE_N_MELS + 1] = {{
{_c_ints(segment_end)}
}};
/* Per bin, as the loop reads them (one vldm): exp(-2 pi i k / N_FFT) (re, im), then w. */
static const float kws_fe_bin_coef[3 * (KWS_FE_END_BIN - KWS_FE_FIRST_BIN)] = {{
{_c_floats(np.stack([split_tw.real, split_tw.imag, rising], axis=1))}
}};

{_decimator_c(config)}
/* ln(m) for m in [1, 2) as a polynomial in (m - 1.5), lowest power first */
static const float kws_fe_ln_poly[] = {{
{_c_floats(ln_mantissa_poly())}
}};

/* orthonormal DCT-II [N_MELS][N_MFCC] */
static const float kws_fe_dct[KWS_FE_N_MELS * KWS_FE_N_MFCC] = {{
{_c_floats(tables["dct"])}
}};

#endif
"""


def write_header(config: FrontEndConfig, path: Path) -> Path:
    return write_text_atomic(path, render_header(config))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--config", type=Path, help="front-end JSON (FrontEndConfig.to_dict); default: defaults")
    args = parser.parse_args(argv)
    config = FrontEndConfig.from_dict(json.loads(args.config.read_text())) if args.config else FrontEndConfig()
    write_header(config, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
