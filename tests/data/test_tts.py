"""The synthesizers: every installed engine speaks, festival in one process per voice, at the pitch asked."""
# The optional engines skip where they are not installed; scripts/bootstrap.sh installs them all.
from __future__ import annotations

import numpy as np
import pytest

from nas.data.tts import FESTIVAL_VOICES, MBROLA_VOICES, PICO_VOICES, Voice, available_engines, installed_voices, speak, speak_words
from nas.errors import DataError

needs_festival = pytest.mark.skipif("festival" not in available_engines(),
                                    reason="festival or its voices not installed (scripts/bootstrap.sh installs them)")


def _f0(x: np.ndarray, rate: int) -> float:
    """Pitch of the loudest 100 ms, by the autocorrelation peak between 60 and 400 Hz."""
    centre = int(np.argmax(np.abs(x)))
    seg = x[max(0, centre - rate // 20): centre + rate // 20].astype(np.float64)
    ac = np.correlate(seg, seg, "full")[len(seg) - 1:]
    lo, hi = rate // 400, rate // 60
    return rate / (lo + int(np.argmax(ac[lo:hi])))


@pytest.mark.parametrize("voice", [Voice("espeak-ng", "en-us+m3", 50, 160), Voice("flite", "slt", 180, 1.0),
                                   *[Voice("festival", name, 0, 1.0) for name in FESTIVAL_VOICES],
                                   *[Voice("mbrola", name, 50, 160) for name in MBROLA_VOICES],
                                   *[Voice("pico", name, 100, 100) for name in PICO_VOICES]],
                         ids=lambda v: f"{v.engine}-{v.name}")
def test_every_installed_voice_says_a_word(voice, tmp_path):
    if voice.engine != "espeak-ng" and voice.name not in installed_voices(voice.engine):
        pytest.skip(f"{voice.engine} {voice.name} not installed")
    samples, rate = speak(voice, "left", str(tmp_path))
    assert samples.dtype == np.float32 and samples.ndim == 1 and rate >= 16000
    assert 0.2 < len(samples) / rate < 2.0
    assert np.sqrt(np.mean(samples**2)) > 0.01  # speech, not silence


@needs_festival
def test_festival_says_every_word_from_one_process_at_the_pitch_asked(tmp_path):
    low, high = (Voice("festival", "ked_diphone", f0, 1.0) for f0 in (85, 160))
    words = ["yes", "no", "backward"]
    spoken = speak_words(low, words, str(tmp_path))
    assert len(spoken) == 3 and len(spoken[2][0]) > len(spoken[0][0])  # "backward" is the longest
    assert (tmp_path / "speak.scm").read_text().count("utt.synth") == 3
    f_low = _f0(*speak(low, "no", str(tmp_path)))
    f_high = _f0(*speak(high, "no", str(tmp_path)))
    assert abs(f_low - 85) < 15 and abs(f_high - 160) < 25


@needs_festival
def test_festival_duration_stretch_slows_the_voice(tmp_path):
    fast, slow = (speak(Voice("festival", "kal_diphone", 100, s), "seven", str(tmp_path))[0] for s in (0.8, 1.3))
    assert len(slow) > 1.3 * len(fast)


@pytest.mark.skipif(not installed_voices("pico"), reason="pico2wave not installed")
def test_pico_takes_pitch_and_speed_in_percent(tmp_path):
    low, high = (speak(Voice("pico", "en-US", p, s), "no", str(tmp_path)) for p, s in ((70, 80), (130, 125)))
    assert _f0(*high) > 1.4 * _f0(*low)
    assert len(high[0]) < len(low[0])


def test_a_voice_the_engine_lacks_is_one_clear_error_line(tmp_path):
    engine = "festival" if "festival" in available_engines() else "espeak-ng"
    with pytest.raises(DataError) as err:
        speak(Voice(engine, "no_such_voice", 50, 1.0 if engine == "festival" else 150), "go", str(tmp_path))
    assert f"{engine}: failed to say 'go' with voice no_such_voice" in str(err.value)
    assert "\n" not in str(err.value)
