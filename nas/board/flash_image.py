"""One firmware image for a board and a model, checked against the board's profile before flashing.

The profile's ``model_storage`` says where the model lives on the board:

- ``ram``: the board's one firmware, and the model uploaded over serial (``model load``) into its RAM
  buffer, which must hold the model;
- ``flash``: one image per model, the model description compiled into flash
  (firmware/src/flash_model.h), for boards whose RAM cannot hold the model.

Either way the ELF's flash (.text + .data) and RAM (.data + .bss, buffers and arena included) are
reported against the profile's ``flash_bytes`` / ``sram_bytes``, and a model that does not fit is
refused with one line naming the limit and the sizes. pyOCD (PyPI) or OpenOCD (Debian) writes the
image to the board.
"""
from __future__ import annotations

import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from nas.board.firmware_build import FirmwareImage, build_firmware, symbol_sizes
from nas.board.model_blob import HEADER
from nas.cost.budget import BoardProfile
from nas.data.frontend_config import FrontEndConfig
from nas.errors import BoardError, ConfigError

FLASH_TOOLS = ("pyocd", "openocd")
INSTALL_HINT = {"pyocd": "pip install pyocd", "openocd": "apt-get install openocd"}
ARENA_SYMBOL, MODEL_BUFFER_SYMBOL = "arena", "kws_model_buf"  # firmware/src/harness.c


@dataclass(frozen=True)
class BoardImage:
    """A built image, what it runs, and the board it is for."""

    profile: BoardProfile
    image: FirmwareImage
    model_name: str
    model_bytes: int  # the model description
    arena_bytes: int  # the model's planned activations
    arena_capacity: int  # the image's activation arena

    def report(self) -> str:
        p, image = self.profile, self.image
        where = "compiled into flash" if image.model_in_flash else "uploaded into RAM over serial"
        return "\n".join([
            f"{p.name}: model {self.model_name} ({self.model_bytes:,} B, {where}), ELF {image.elf}",
            f"  flash {image.flash_bytes:>9,} B of {p.flash_bytes:>9,} B ({100 * image.flash_bytes / p.flash_bytes:.1f} %)",
            f"  RAM   {image.ram_bytes:>9,} B of {p.sram_bytes:>9,} B ({100 * image.ram_bytes / p.sram_bytes:.1f} %)"
            f"; activations {self.arena_bytes:,} B of the {self.arena_capacity:,} B arena",
        ])


def _header(blob: bytes) -> tuple[str, int]:
    """(name, planned arena bytes) of a model description."""
    fields = HEADER.unpack_from(blob)
    return fields[-1].rstrip(b"\0").decode("ascii", "replace"), fields[6]


def _refuse(profile: BoardProfile, what: str) -> BoardError:
    return BoardError(f"{profile.name}: {what} (board profile constraints/{profile.name}.yaml)")


def build_board_image(blob: bytes, profile: BoardProfile, frontend: FrontEndConfig | None = None,
                      build_root: Path | None = None) -> BoardImage:
    """The image ``profile.model_storage`` asks for, with ``blob`` (a model description) checked to fit.

    Raises:
        BoardError: the model, the image or its activations exceed the board (one line with the sizes).
    """
    name, arena_bytes = _header(blob)
    firmware = build_firmware(profile.name, frontend, build_root)
    if profile.model_storage == "flash":
        # refused before compiling the model in: the firmware alone already takes this much flash
        if firmware.flash_bytes + len(blob) > profile.flash_bytes:
            raise _refuse(profile, f"model {name} does not fit the flash: {len(blob):,} B model + "
                                   f"{firmware.flash_bytes:,} B firmware > {profile.flash_bytes:,} B flash")
        firmware = build_firmware(profile.name, frontend, build_root, model=blob)
    sizes = symbol_sizes(firmware.elf)
    if profile.model_storage == "ram" and len(blob) > sizes[MODEL_BUFFER_SYMBOL]:
        raise _refuse(profile, f"model {name} does not fit the RAM model buffer: {len(blob):,} B > "
                               f"{sizes[MODEL_BUFFER_SYMBOL]:,} B; a board profile with model_storage: flash "
                               "compiles it into flash")
    if firmware.flash_bytes > profile.flash_bytes:
        raise _refuse(profile, f"image {firmware.elf} takes {firmware.flash_bytes:,} B flash > {profile.flash_bytes:,} B")
    if firmware.ram_bytes > profile.sram_bytes:
        raise _refuse(profile, f"image {firmware.elf} takes {firmware.ram_bytes:,} B RAM > {profile.sram_bytes:,} B SRAM")
    if arena_bytes > sizes[ARENA_SYMBOL]:
        raise _refuse(profile, f"model {name} needs {arena_bytes:,} B of activations > the image's "
                               f"{sizes[ARENA_SYMBOL]:,} B arena")
    return BoardImage(profile, firmware, name, len(blob), arena_bytes, sizes[ARENA_SYMBOL])


def flash_command(image: BoardImage, tool: str = "pyocd", probe: str | None = None) -> list[str]:
    """The command that writes ``image`` to the board through ``tool``; ``probe`` selects the debug
    probe by its serial number (pyOCD's ``--uid``, OpenOCD's ``adapter serial``)."""
    profile, elf = image.profile, str(image.image.elf)
    if tool not in FLASH_TOOLS:
        raise ConfigError(f"flash tool {tool!r}: expected one of {FLASH_TOOLS}")
    target = profile.pyocd_target if tool == "pyocd" else profile.openocd_config
    if not target:
        key = "pyocd_target" if tool == "pyocd" else "openocd_config"
        raise ConfigError(f"constraints/{profile.name}.yaml: no {key}, so {tool} cannot flash {profile.name}")
    if tool == "pyocd":
        return ["pyocd", "load", "--target", target, *(["--uid", probe] if probe else []), elf]
    return ["openocd", "-f", target, *(["-c", f"adapter serial {probe}"] if probe else []),
            "-c", f"program {elf} verify reset exit"]


def flash(image: BoardImage, tool: str, probe: str) -> None:
    """Run the flash command; BoardError with the tool's last lines if it fails."""
    argv = flash_command(image, tool, probe)
    if shutil.which(argv[0]) is None:
        raise BoardError(f"{argv[0]} is not installed ({INSTALL_HINT[tool]}); the command would be: {shlex.join(argv)}")
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode != 0:
        tail = " | ".join((result.stdout + result.stderr).strip().splitlines()[-5:])
        raise BoardError(f"{shlex.join(argv)} failed with code {result.returncode}: {tail}")
