"""Build the firmware for one board port with its Makefile, and read flash/RAM from the ELF.

Builds are cached per (board, front-end fingerprint) under ``firmware/build/`` (or the user's cache
folder when the package is installed read-only) and serialised by a file lock, so parallel search
workers share one build. A flash-mode image (``model=``: a model description compiled into flash) is
one build per model, cached under the model's hash as well; only the ``FLASH_IMAGES_KEPT`` most recently
used ones per board and front end stay, since a search would otherwise leave one (~1.7 MB) per trial.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from nas.data.frontend_config import FrontEndConfig
from nas.errors import BoardError, ConfigError
from nas.paths import FIRMWARE_DIR, firmware_build_root


FLASH_IMAGES_KEPT = 16


def ports() -> list[str]:
    return sorted(p.parent.name for p in (FIRMWARE_DIR / "port").glob("*/port.mk"))


@dataclass(frozen=True)
class FirmwareImage:
    board: str
    elf: Path
    text_bytes: int
    data_bytes: int
    bss_bytes: int
    model_in_flash: bool = False

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


def symbol_sizes(elf: Path) -> dict[str, int]:
    """Bytes of each sized symbol in ``elf`` (``arm-none-eabi-nm -S``), e.g. the firmware's buffers."""
    out = subprocess.run(["arm-none-eabi-nm", "-S", str(elf)], capture_output=True, text=True, check=True).stdout
    fields = (line.split() for line in out.splitlines())
    return {f[3]: int(f[1], 16) for f in fields if len(f) == 4}


_OVERFLOW = re.compile(r"region `(\w+)' overflowed by (\d+) bytes")


def build_firmware(board: str = "mps2_an500", frontend: FrontEndConfig | None = None,
                   build_root: Path | None = None, model: bytes | None = None) -> FirmwareImage:
    """Run ``make`` for ``board``; returns the ELF and its section sizes. With ``model`` (a model
    description, :mod:`nas.board.model_blob`) the image is a flash-mode one that runs that model.

    Raises:
        ConfigError: unknown board port.
        BoardError: the cross compiler is missing, the image overflows a memory region of the port's
            linker script, or the build fails (with the compiler's output).
    """
    if board not in ports():
        raise ConfigError(f"board {board!r}: no firmware port; expected one of {ports()}")
    if shutil.which("arm-none-eabi-gcc") is None or shutil.which("make") is None:
        raise BoardError("firmware build needs make and gcc-arm-none-eabi: run scripts/bootstrap.sh")
    frontend = frontend or FrontEndConfig()
    root = Path(build_root) if build_root else firmware_build_root()
    name = f"{board}-{frontend.fingerprint()}"
    if model is not None:
        name += f"-flash-{hashlib.sha256(model).hexdigest()[:12]}"
    build = (root / name).resolve()
    build.mkdir(parents=True, exist_ok=True)
    config_json = build / "frontend.json"
    text = json.dumps(frontend.to_dict(), sort_keys=True)
    if not config_json.exists() or config_json.read_text() != text:
        config_json.write_text(text)
    argv = ["make", "-C", str(FIRMWARE_DIR), f"BOARD={board}", f"BUILD={build}",
            f"PYTHON={sys.executable}", f"FRONTEND_CONFIG={config_json}"]
    with open(build / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if model is not None:
            model_file = build / "model.bin"
            if not model_file.exists() or model_file.read_bytes() != model:  # same bytes: nothing to rebuild
                model_file.write_bytes(model)
            argv.append(f"MODEL={model_file}")
        result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode != 0:
        output = result.stdout + result.stderr
        overflow = _OVERFLOW.search(output)
        if overflow:
            what = f"the {len(model):,} B model" if model is not None else "the firmware"
            raise BoardError(f"firmware for {board}: {what} does not fit: the image overflows the port's "
                             f"{overflow[1]} region by {int(overflow[2]):,} B (firmware/port/{board})")
        tail = "\n".join(output.splitlines()[-25:])
        raise BoardError(f"firmware build for {board} failed:\n{tail}")
    elf = build / "kws.elf"
    image = FirmwareImage(board, elf, *elf_sizes(elf), model_in_flash=model is not None)
    if model is not None:
        elf.touch()  # its mtime says when it was last used, for prune_flash_images
        prune_flash_images(root, f"{board}-{frontend.fingerprint()}-flash-", FLASH_IMAGES_KEPT)
    return image


def prune_flash_images(root: Path, prefix: str, keep: int) -> list[Path]:
    """Removes all but the ``keep`` most recently used flash-mode builds ``root/prefix*``; returns the
    removed ones. A build another process holds locked (building it) stays."""
    builds = [b for b in root.glob(prefix + "*") if (b / "kws.elf").is_file()]
    builds.sort(key=lambda b: (b / "kws.elf").stat().st_mtime, reverse=True)
    removed = []
    for old in builds[keep:]:
        with open(old / ".lock", "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            shutil.rmtree(old)
            removed.append(old)
    return removed
