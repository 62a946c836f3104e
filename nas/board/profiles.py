"""Board profiles (nas/conf/board/NAME.yaml) and opening the board a profile names."""
from __future__ import annotations


import yaml

from nas.board.base import BoardProfile
from nas.board.serial_board import SerialBoard
from nas.errors import ConfigError
from nas.paths import BOARDS_DIR

EMULATED = {"mps2_an500", "mps2_an386"}


def load_profile(name: str) -> BoardProfile:
    """The profile in nas/conf/board/NAME.yaml (its ``probe`` section, which the search composes)."""
    path = BOARDS_DIR / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in BOARDS_DIR.glob("*.yaml") if p.stem != "none")
        raise ConfigError(f"board {name!r}: no profile {path}; expected one of {known}")
    data = (yaml.safe_load(path.read_text()) or {}).get("probe") or {}
    return make_profile(name, data.get("clock_hz"), data.get("cycles_per_instruction", 1.0), str(path))


def make_profile(name: str, clock_hz, cycles_per_instruction=1.0, source: str = "board profile") -> BoardProfile:
    try:
        return BoardProfile(name=name, clock_hz=float(clock_hz), cycles_per_instruction=float(cycles_per_instruction),
                            estimate=name in EMULATED)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{source}: needs a numeric probe.clock_hz and cycles_per_instruction ({err})") from None


def open_board(name: str, port: str | None = None) -> SerialBoard:
    """An unopened board: a real one on ``port`` when given, else the emulator for ``name``."""
    if port:
        return SerialBoard(port)
    if name not in EMULATED:
        raise ConfigError(f"board {name!r} is not emulated ({sorted(EMULATED)}): give its serial port")
    from nas.board.emulated import EmulatedBoard

    return EmulatedBoard(name)
