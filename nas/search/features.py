"""Feature sets for the trials of one search, held in memory per front end.

``nas.data.cache.load_features`` keeps extracted features on disk (keyed by dataset and front-end
fingerprints); this adds an in-process memo so consecutive trials with the same front end reuse the
same tensors instead of reloading them.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

from nas.errors import ConfigError

log = logging.getLogger("nas.search.detail")  # on the console only when verbose (nas.search.console)


def dataset_root(data_conf) -> Path:
    """The dataset folder named by a DataConf: ``synth`` generates the default set on first use."""
    if data_conf.kind == "synth":
        if data_conf.root:
            return Path(data_conf.root)
        from nas.data.synth import ensure_default_dataset

        return Path(ensure_default_dataset())
    if data_conf.kind == "folder":
        if not data_conf.root:
            raise ConfigError("data=folder: data.root is not set; expected data.root=DIR, a folder in the Speech "
                              "Commands layout")
        return Path(data_conf.root)
    raise ConfigError(f"data.kind: expected 'synth' or 'folder', got {data_conf.kind!r}")


class CachedFeatures:
    """FeatureSets of one dataset, loaded once per (front end, split).

    Args:
        root: dataset folder (Speech Commands layout).
        split_test_archive: root holds the official test-set archive's layout: split it by speaker.
        augment_copies: augmented copies of the training split (``load_features`` caches them).
        seed: augmentation seed.
        cache_dir: None: the user's cache folder (``nas.paths.features_cache_dir``).
    """

    def __init__(self, root: Path, augment_copies: int = 0, seed: int = 0, cache_dir: str | None = None,
                 split_test_archive: bool = False):
        self.root, self.augment_copies, self.seed, self.cache_dir = Path(root), augment_copies, seed, cache_dir
        self.split_test_archive = split_test_archive
        self._memo: dict[tuple[str, str], object] = {}
        self._dataset = None  # the SpeechCommands index, built on first use

    def split(self, frontend, split: str):
        from nas.data.cache import load_features
        from nas.data.speech_commands import SpeechCommands

        key = (frontend.fingerprint(), split)
        if key not in self._memo:
            if self._dataset is None:
                self._dataset = SpeechCommands(self.root, seed=self.seed, split_test_archive=self.split_test_archive)
            copies = self.augment_copies if split == "train" else 0
            started = time.perf_counter()
            features = load_features(self._dataset, frontend, split, augment_copies=copies, seed=self.seed,
                                     cache_dir=self.cache_dir, progress=False)  # the search has its own display
            if features.extracted_clips:
                log.info("%s: %d clips to %d MFCCs (%g/%g ms) in %.1f s", split, features.extracted_clips,
                         frontend.n_mfcc, frontend.window_ms, frontend.stride_ms, time.perf_counter() - started)
            self._memo[key] = features
        return self._memo[key]

    def check(self, frontend) -> None:
        """Loads every split for ``frontend`` (one the search trains on): a missing folder, an empty class folder
        or a file that cannot be decoded fails here with the dataset's DataError, before any trial."""
        from nas.data.splits import SPLITS

        for split in SPLITS:
            self.split(frontend, split)
