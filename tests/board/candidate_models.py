"""Small int8 models of every architecture (the seven of Hello Edge and TC-ResNet), made the way the search makes them: a candidate from
`nas.spaces`, its torch model (random init), converted by `nas.export.tflite`. Cached on disk so a test
session converts each once. Recurrent models use a short clip (fewer frames): serial upload costs
~0.1 ms per byte on QEMU and an unrolled model grows with the frame count."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from nas.atomic import write_bytes_atomic
from nas.data.frontend_config import FrontEndConfig

SHORT_CLIP = FrontEndConfig(clip_ms=200.0)  # 9 frames
SPECS = {  # name: (arch, model_size_info, front end)
    "dnn": ("dnn", [16, 16], FrontEndConfig()),
    "cnn": ("cnn", [4, 10, 4, 1, 1, 4, 10, 4, 2, 1, 8, 16], FrontEndConfig()),
    "ds_cnn": ("ds_cnn", [3, 8, 10, 4, 2, 2, 8, 3, 3, 1, 1, 8, 3, 3, 2, 2], FrontEndConfig()),
    "ds_cnn_pad": ("ds_cnn", [2, 8, 10, 4, 2, 2, 8, 3, 3, 1, 1], FrontEndConfig()),
    "basic_lstm": ("basic_lstm", [12], SHORT_CLIP),
    "lstm": ("lstm", [8, 12], SHORT_CLIP),
    "gru": ("gru", [2, 10], SHORT_CLIP),
    "crnn": ("crnn", [4, 10, 4, 4, 2, 2, 8, 12], FrontEndConfig()),
    # beyond Hello Edge: an identity-shortcut block, then a strided projection block (two int8 ADDs
    # whose inputs carry different scales, ReLU fused)
    "tc_resnet": ("tc_resnet", [2, 8, 3, 8, 3, 1, 12, 3, 2], FrontEndConfig()),
}


def _mirror_first_padding(model) -> None:
    """Swap the first ZeroPad2d's sides: same output size, but no longer TF's SAME rule, so the
    converter must emit an explicit PAD."""
    from torch import nn

    pad = next(m for m in model.modules() if isinstance(m, nn.ZeroPad2d))
    left, right, top, bottom = pad.padding
    assert (left, top) != (right, bottom), "the first padding must be asymmetric to become a PAD"
    pad.padding = (right, left, bottom, top)


def make_tflite(name: str, seed: int = 0) -> bytes:
    import torch

    from nas.export.tflite import convert
    from nas.spaces import build_model, candidate_from_model_size_info

    arch, info, frontend = SPECS[name]
    torch.manual_seed(seed)
    model = build_model(candidate_from_model_size_info(arch, info, frontend)).eval()
    if name == "ds_cnn_pad":
        _mirror_first_padding(model)
    # features on the front end's int8 grid (scale 2**-int8_frac_bits), spread like MFCCs
    rng = np.random.default_rng(seed)
    representative = np.round(np.clip(rng.normal(0, 20, (64, *frontend.input_shape)), -128, 127))
    return convert(model, frontend, (representative * 2.0 ** -frontend.int8_frac_bits).astype(np.float32), arch)


def cached_tflite(cache_dir: Path, name: str, seed: int = 0) -> Path:
    import tensorflow as tf
    import torch

    arch, info, frontend = SPECS[name]
    key_text = json.dumps([tf.__version__, torch.__version__, arch, info, frontend.to_dict(), seed, name])
    path = Path(cache_dir) / f"{name}-{hashlib.sha256(key_text.encode()).hexdigest()[:16]}.tflite"
    if not path.exists():
        write_bytes_atomic(path, make_tflite(name, seed))
    return path
