"""Babble from generated voices: the crowd a real microphone hears under a keyword.

The coloured "babble" bed of `nas.data.noise` only has speech's band and syllable rate; real babble is
speech. `speech_babble` lays synthesized utterances end to end in several talker tracks and sums them;
the number of talkers heard changes every couple of seconds between ``TALKERS`` (4-8, as in the babble
noise used to test speech recognisers, where fewer talkers stay intelligible and more become noise).
"""
from __future__ import annotations

import numpy as np

TALKERS = (4, 8)
SEGMENT_SECONDS = 2.0  # how long one talker count lasts
UTTERANCES = 48  # synthesized once per dataset and reused by every track


def speech_babble(utterances: list[np.ndarray], seconds: float, rng: np.random.Generator,
                  rate: int = 16000) -> np.ndarray:
    """``seconds`` of babble (float32, unscaled) from ``utterances`` (float32 at ``rate``)."""
    if not utterances:
        raise ValueError("speech_babble: no utterances to build babble from")
    n = int(seconds * rate)
    tracks = np.zeros((TALKERS[1], n))
    for track in tracks:
        at = int(rng.integers(0, rate))  # talkers do not start together
        while at < n:
            u = utterances[rng.integers(len(utterances))]
            u = u / max(float(np.sqrt(np.mean(u**2))), 1e-9) * 10 ** (rng.uniform(-6, 6) / 20)
            end = min(n, at + len(u))
            track[at:end] += u[: end - at]
            at = end + int(rng.uniform(0.05, 0.4) * rate)  # the pause between two of a talker's words
    segment = int(SEGMENT_SECONDS * rate)
    talkers = rng.integers(TALKERS[0], TALKERS[1] + 1, size=n // segment + 1)
    heard = np.arange(TALKERS[1])[:, None] < np.repeat(talkers, segment)[None, :n]
    return (tracks * heard).sum(axis=0).astype(np.float32)
