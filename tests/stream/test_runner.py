"""The stream's features: the streaming front end gives each window what the batch front end gives it."""
from __future__ import annotations

import numpy as np
import torch

from nas.data.frontend import MfccFrontEnd
from nas.data.frontend_config import FrontEndConfig
from nas.stream.runner import inference_ends, window_features


def test_window_features_equal_the_batch_front_end_on_each_window():
    frontend = FrontEndConfig()
    rng = np.random.default_rng(0)
    samples = (0.1 * rng.standard_normal(3 * frontend.sample_rate)).astype(np.float32)
    samples[20000:24000] += 0.5 * np.sin(np.arange(4000) * 0.3).astype(np.float32)  # a loud tone somewhere
    ends = inference_ends(len(samples), frontend, stride_ms=100)
    streamed = np.concatenate(list(window_features(samples, frontend, ends)))
    front = MfccFrontEnd(frontend)
    windows = torch.stack([torch.from_numpy(samples[end - frontend.clip_samples:end]) for end in ends])
    batch = front.quantize_int8(front(windows)).numpy()
    assert streamed.shape == batch.shape == (len(ends), frontend.num_frames, frontend.n_mfcc)
    assert np.array_equal(streamed, batch)
