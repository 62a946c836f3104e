"""A tiny learnable feature problem and small trained models of every architecture, shared by the export tests."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from nas.data.frontend_config import FrontEndConfig

# half-second clips at a 40 ms stride → 12 frames: recurrent models unroll 12 steps, not 49
FRONTEND = FrontEndConfig(clip_ms=500.0, stride_ms=40.0)
SMALL_MODELS = {
    "dnn": [48, 32],
    "cnn": [8, 5, 4, 1, 1, 8, 3, 4, 2, 1, 16, 32],
    "basic_lstm": [24],
    "lstm": [12, 24],
    "gru": [2, 20],
    "crnn": [8, 3, 4, 1, 2, 2, 20, 24],
    "ds_cnn": [3, 16, 5, 4, 2, 2, 16, 3, 3, 2, 2, 16, 3, 3, 1, 1],
}


@dataclass
class Features:
    """Duck-types nas.data.cache.FeatureSet (features float [N, T, F], labels int64 [N])."""

    features: "object"
    labels: "object"


def synthetic_features(n: int, seed: int, frontend: FrontEndConfig = FRONTEND) -> Features:
    """12 classes, each a fixed random MFCC-like template plus noise, on the front end's int8 grid."""
    import torch

    t, f = frontend.input_shape
    templates = np.random.default_rng(1234).normal(0.0, 6.0, size=(12, t, f))
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 12, size=n)
    x = templates[labels] + rng.normal(0.0, 6.0, size=(n, t, f)) + rng.normal(0.0, 3.0, size=(n, 1, f))
    step = 2.0 ** -frontend.int8_frac_bits
    x = np.clip(np.round(x / step), -128, 127) * step
    return Features(torch.tensor(x, dtype=torch.float32), torch.tensor(labels, dtype=torch.int64))


def train_briefly(model, data: Features, steps: int = 120, seed: int = 0):
    """A few Adam steps: enough to make the model far better than chance on this problem."""
    import torch

    torch.manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(steps):
        idx = torch.randint(0, len(data.labels), (64,), generator=gen)
        loss = torch.nn.functional.cross_entropy(model(data.features[idx]), data.labels[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


@pytest.fixture(scope="session")
def export_frontend() -> FrontEndConfig:
    return FRONTEND


@pytest.fixture(scope="session")
def feature_sets() -> dict[str, Features]:
    return {"train": synthetic_features(768, seed=1), "validation": synthetic_features(192, seed=2)}


@pytest.fixture(scope="session")
def trained(feature_sets):
    """arch → (trained torch model, Candidate), built lazily and kept for the session."""
    from nas.spaces import build_model, candidate_from_model_size_info

    cache: dict = {}

    def get(arch: str):
        if arch not in cache:
            candidate = candidate_from_model_size_info(arch, SMALL_MODELS[arch], FRONTEND)
            import torch

            torch.manual_seed(0)
            cache[arch] = (train_briefly(build_model(candidate), feature_sets["train"]), candidate)
        return cache[arch]

    return get
