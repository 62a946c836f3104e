"""Connecting to the board a profile names: the emulator for an emulated port, else a serial port.

The profiles themselves (clock, flash, SRAM) are ``nas.cost.budget.BoardProfile``s in
``constraints/<board>.yaml``, loaded with ``nas.cost.budget.load_board``.
"""
from __future__ import annotations

from nas.board.serial_board import SerialBoard
from nas.data.frontend_config import FrontEndConfig
from nas.errors import ConfigError

EMULATED = {"mps2_an500", "mps2_an386"}  # firmware ports with a QEMU machine


def open_board(name: str, port: str | None = None, frontend: FrontEndConfig | None = None) -> SerialBoard:
    """An unopened board: a real one on ``port`` when given, else the emulator for ``name`` (its
    firmware built for ``frontend``, the default front end when None)."""
    if port:
        return SerialBoard(port)
    if name not in EMULATED:
        raise ConfigError(f"board {name!r} is not emulated ({sorted(EMULATED)}): give its serial port")
    from nas.board.emulated import EmulatedBoard

    return EmulatedBoard(name, frontend=frontend)
