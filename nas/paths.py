"""Where kws-nas finds the files it ships and where it writes what it makes.

In a source checkout the config groups, the firmware and the reference data live at the repository
root (``search_spaces/``, ``constraints/``, ``firmware/``, ``results/reference/``); symlinks inside the
package point there, and an installed wheel holds copies at the same package paths. So one set of
package paths serves both. Generated data and firmware builds go into the checkout when there is
one, else into the user's data and cache folders (an installed package's folder may be read-only).
MFCC feature caches always go to the user's cache folder: a dataset folder may be read-only or shared,
and kws-nas never writes into it unless asked (``--cache-dir``, ``data.cache_dir``).
"""
from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
CONF_DIR = PACKAGE_DIR / "conf"
SEARCH_SPACES_DIR = CONF_DIR / "search_space"  # → search_spaces/ in a checkout
CONSTRAINTS_DIR = CONF_DIR / "constraints"  # → constraints/
BOARDS_DIR = CONF_DIR / "board"
FIRMWARE_DIR = (PACKAGE_DIR / "firmware").resolve()  # → firmware/
REFERENCE_DIR = PACKAGE_DIR / "reference"  # → results/reference/


def checkout_root() -> Path | None:
    """The repository root when the package runs from a source checkout, else None."""
    root = PACKAGE_DIR.parent
    return root if (root / "pyproject.toml").is_file() and (root / "firmware").is_dir() else None


def data_home() -> Path:
    """``<checkout>/data`` (git-ignored), or ``$XDG_DATA_HOME/kws-nas`` for an installed package."""
    root = checkout_root()
    if root is not None:
        return root / "data"
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "kws-nas"


def cache_home() -> Path:
    """``$XDG_CACHE_HOME/kws-nas`` (default ``~/.cache/kws-nas``): what can be rebuilt at any time."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "kws-nas"


def features_cache_dir() -> Path:
    """``<cache_home>/features``: extracted MFCCs of every dataset, keyed by the dataset's fingerprint."""
    return cache_home() / "features"


def firmware_build_root() -> Path:
    """``firmware/build`` when writable, else ``<cache_home>/firmware``."""
    if os.access(FIRMWARE_DIR, os.W_OK):
        return FIRMWARE_DIR / "build"
    return cache_home() / "firmware"
