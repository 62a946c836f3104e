"""Detections against a label table: hit rate, false alarms per hour, delay from word end to detection.

A detection *hits* the first unmatched keyword of its label that started before it and ended at most
``match_ms`` before it; every other detection (a wrong word, a non-keyword, nothing) is a false alarm.
Each word is hit at most once. Only keywords count toward the hit rate; the other words are there to be
ignored.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from nas.errors import ConfigError

MATCH_MS = 1000  # how long after a keyword ends a detection still counts as finding it


@dataclass(frozen=True)
class Detection:
    time_s: float
    label: str
    score: int  # averaged score 0..255

    def to_dict(self) -> dict:
        return {"time_s": self.time_s, "label": self.label, "score": self.score}


@dataclass(frozen=True)
class Word:
    time_s: float  # start
    end_s: float
    label: str


def keyword_detections(decisions, class_names: list[str], keywords: list[str]) -> list[Detection]:
    """The new commands among post-processing decisions (`nas.stream.postprocess.Decision`) whose class is a keyword."""
    return [Detection(int(d.time_ms) / 1000, class_names[d.top_class], d.score) for d in decisions
            if d.is_new_command and class_names[d.top_class] in keywords]


def read_labels(path: str | Path) -> list[Word]:
    """The label CSV (``time_s,end_s,label``; ``end_s`` may be left out: the word then ends where it starts)."""
    path = Path(path)
    try:
        with path.open(newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as err:
        raise ConfigError(f"labels {path}: cannot read ({err.strerror}); expected a CSV time_s,end_s,label") from None
    words = []
    for line, row in enumerate(rows, start=2):
        try:
            start = float(row["time_s"])
            end = float(row.get("end_s") or start)
            label = row["label"].strip()
        except (KeyError, TypeError, ValueError, AttributeError):
            raise ConfigError(f"labels {path}:{line}: expected columns time_s,end_s,label with times in "
                              f"seconds, got {row}") from None
        if end < start:
            raise ConfigError(f"labels {path}:{line}: end_s {end} is before time_s {start}")
        words.append(Word(start, end, label))
    return sorted(words, key=lambda w: w.time_s)


def score(detections: list[Detection], words: list[Word], keywords: list[str], duration_s: float,
          match_ms: int = MATCH_MS) -> dict:
    """hits, keywords, hit_rate, false_alarms, false_alarms_per_hour, mean_delay_s (None without hits)."""
    targets = [w for w in words if w.label in keywords]
    matched = [False] * len(targets)
    delays, false_alarms = [], 0
    for det in sorted(detections, key=lambda d: d.time_s):
        found = next((i for i, w in enumerate(targets) if not matched[i] and w.label == det.label
                      and w.time_s <= det.time_s <= w.end_s + match_ms / 1000), None)
        if found is None:
            false_alarms += 1
        else:
            matched[found] = True
            delays.append(det.time_s - targets[found].end_s)
    hours = duration_s / 3600
    return {
        "keywords": len(targets), "hits": len(delays),
        "hit_rate": len(delays) / len(targets) if targets else None,
        "false_alarms": false_alarms,
        "false_alarms_per_hour": false_alarms / hours if hours > 0 else None,
        "mean_delay_s": sum(delays) / len(delays) if delays else None,
        "duration_s": duration_s, "match_ms": match_ms,
    }
