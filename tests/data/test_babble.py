"""Speech babble: length, reproducibility, and a talker count that changes between 4 and 8."""
from __future__ import annotations

import numpy as np
import pytest

from nas.data.babble import SEGMENT_SECONDS, TALKERS, speech_babble

RATE = 16000


def _utterances():
    rng = np.random.default_rng(0)
    return [rng.standard_normal(int(rng.uniform(0.3, 0.8) * RATE)).astype(np.float32) for _ in range(10)]


def test_babble_has_the_length_asked_and_is_reproducible():
    a = speech_babble(_utterances(), 10.0, np.random.default_rng(5))
    b = speech_babble(_utterances(), 10.0, np.random.default_rng(5))
    c = speech_babble(_utterances(), 10.0, np.random.default_rng(6))
    assert a.dtype == np.float32 and len(a) == 10 * RATE
    assert np.array_equal(a, b) and not np.allclose(a, c)


def test_several_talkers_overlap_and_their_count_changes():
    # unit-RMS utterances with ±6 dB gains: n overlapping talkers have a power of about n
    x = speech_babble(_utterances(), 40.0, np.random.default_rng(2))
    segment = int(SEGMENT_SECONDS * RATE)
    power = (x[: len(x) // segment * segment].reshape(-1, segment) ** 2).mean(axis=1)
    assert TALKERS[0] * 0.3 < np.median(power) < TALKERS[1] * 3
    assert power.max() > 1.3 * power.min()  # not one fixed crowd


def test_no_utterances_is_an_error():
    with pytest.raises(ValueError, match="no utterances"):
        speech_babble([], 1.0, np.random.default_rng(0))
