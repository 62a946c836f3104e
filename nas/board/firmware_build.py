"""Build the firmware for one board port with its Makefile, and read flash/RAM from the ELF.

Builds are cached per (board, front-end fingerprint) under ``firmware/build/`` (or the user's cache
folder when the package is installed read-only) and serialised by a
file lock, so parallel search workers share one build.
"""
from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from nas.data.frontend_config import FrontEndConfig
from nas.errors import BoardError, ConfigError
from nas.paths import FIRMWARE_DIR, firmware_build_root



def ports() -> list[str]:
    return sorted(p.parent.name for p in (FIRMWARE_DIR / "port").glob("*/port.mk"))


@dataclass(frozen=True)
class FirmwareImage:
    board: str
    elf: Path
    text_bytes: int
    data_bytes: int
    bss_bytes: int

    @property
    def flash_bytes(self) -> int:
        """Code, constants and the initial values of .data."""
        return self.text_bytes + self.data_bytes

    @property
    def ram_bytes(self) -> int:
        """Static RAM: .data + .bss (the model upload buffer and tensor arena included)."""
        return self.data_bytes + self.bss_bytes

    def qemu_machine(self) -> str:
        for line in (FIRMWARE_DIR / "port" / self.board / "port.mk").read_text().splitlines():
            if line.startswith("QEMU_MACHINE"):
                return line.split(":=")[1].strip()
        raise BoardError(f"board {self.board}: port.mk names no QEMU_MACHINE, so it cannot be emulated")


def elf_sizes(elf: Path) -> tuple[int, int, int]:
    """(text, data, bss) as ``arm-none-eabi-size`` reports them (Berkeley format)."""
    out = subprocess.run(["arm-none-eabi-size", str(elf)], capture_output=True, text=True, check=True).stdout
    text, data, bss = (int(v) for v in out.splitlines()[1].split()[:3])
    return text, data, bss


def build_firmware(board: str = "mps2_an500", frontend: FrontEndConfig | None = None,
                   build_root: Path | None = None) -> FirmwareImage:
    """Run ``make`` for ``board``; returns the ELF and its section sizes.

    Raises:
        ConfigError: unknown board port.
        BoardError: the cross compiler is missing or the build fails (with the compiler's output).
    """
    if board not in ports():
        raise ConfigError(f"board {board!r}: no firmware port; expected one of {ports()}")
    if shutil.which("arm-none-eabi-gcc") is None or shutil.which("make") is None:
        raise BoardError("firmware build needs make and gcc-arm-none-eabi: run scripts/bootstrap.sh")
    frontend = frontend or FrontEndConfig()
    root = Path(build_root) if build_root else firmware_build_root()
    build = (root / f"{board}-{frontend.fingerprint()}").resolve()
    build.mkdir(parents=True, exist_ok=True)
    config_json = build / "frontend.json"
    text = json.dumps(frontend.to_dict(), sort_keys=True)
    if not config_json.exists() or config_json.read_text() != text:
        config_json.write_text(text)
    with open(build / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result = subprocess.run(
            ["make", "-C", str(FIRMWARE_DIR), f"BOARD={board}", f"BUILD={build}",
             f"PYTHON={sys.executable}", f"FRONTEND_CONFIG={config_json}"],
            capture_output=True, text=True,
        )
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-25:])
        raise BoardError(f"firmware build for {board} failed:\n{tail}")
    elf = build / "kws.elf"
    return FirmwareImage(board, elf, *elf_sizes(elf))
