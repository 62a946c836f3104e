"""The emulated board: QEMU runs the firmware and serves its UART on a local TCP port.

``-icount shift=0`` makes every guest instruction advance virtual time by 1 ns, so SysTick counts
instructions deterministically (``shift=auto`` would re-tune against real time: never used).
``nodelay=on`` avoids ~45 ms per round trip. To the host this is a SerialBoard on
``socket://127.0.0.1:PORT``, indistinguishable from a real board on a serial port.

A model known when QEMU starts is preloaded instead of uploaded: ``-device loader`` writes its
description into the firmware's model buffer (address of the ELF symbol ``kws_model_buf``, a
section the reset handler does not zero) and ``model mem N%`` makes the board accept it. Serial
upload costs ~0.1 ms per byte on the emulator (tens of seconds for an unrolled recurrent model);
the preload costs nothing. Later models, and real boards, still go over serial.
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from nas.board.firmware_build import FirmwareImage, build_firmware
from nas.board.serial_board import SerialBoard
from nas.data.frontend_config import FrontEndConfig
from nas.errors import BoardError


def free_tcp_port(host: str = "127.0.0.1") -> int:
    """A port the OS just handed out (bind to port 0), for QEMU to listen on."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


MODEL_BUFFER_SYMBOL = "kws_model_buf"  # firmware/src/harness.c


def symbol_address(elf: Path, symbol: str) -> int:
    """Address of ``symbol`` in ``elf`` (``arm-none-eabi-nm``); BoardError if it is absent."""
    try:
        out = subprocess.run(["arm-none-eabi-nm", str(elf)], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as err:
        raise BoardError(f"cannot read the symbols of {elf} with arm-none-eabi-nm: {err}") from None
    for line in out.splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[2] == symbol:
            return int(fields[0], 16)
    raise BoardError(f"firmware {elf}: no symbol {symbol}; rebuild the firmware (it predates `model mem`)")


def qemu_command(image: FirmwareImage, host: str, port: int, icount_shift: int = 0,
                 wait_for_client: bool = False, preload: Path | None = None) -> list[str]:
    """QEMU's argv; ``wait_for_client`` holds the guest until a client connects (banner tests);
    ``preload`` is a model description file written into the firmware's model buffer."""
    wait = "on" if wait_for_client else "off"
    argv = [
        "qemu-system-arm", "-machine", image.qemu_machine(), "-nographic", "-monitor", "none",
        "-icount", f"shift={icount_shift}",
        "-serial", f"tcp:{host}:{port},server=on,wait={wait},nodelay=on",
        "-kernel", str(image.elf),
    ]
    if preload is not None:
        address = symbol_address(image.elf, MODEL_BUFFER_SYMBOL)
        argv += ["-device", f"loader,file={preload},addr={address:#x},force-raw=on"]
    return argv


class EmulatedBoard(SerialBoard):
    """QEMU + firmware, started by ``open()`` and stopped by ``close()``.

    Args:
        board: firmware port with a QEMU machine (``mps2_an500`` Cortex-M7, ``mps2_an386`` M4).
        image: a prebuilt firmware; built (cached) when omitted.
        frontend: front-end specification the firmware's MFCC is generated from.
        port: TCP port to serve on; a free one when omitted.
        icount_shift: 2**shift ns of virtual time per instruction; 0 makes one SysTick tick (25 MHz)
            exactly 40 instructions, which the firmware's stage unit assumes.
        model: a .tflite or model description to preload; ``open()`` then leaves it loaded
            (summary in ``preloaded``) without a serial upload.
    """

    def __init__(self, board: str = "mps2_an500", image: FirmwareImage | None = None,
                 frontend: FrontEndConfig | None = None, host: str = "127.0.0.1", port: int | None = None,
                 timeout_s: float = 30.0, ready_timeout_s: float = 15.0, icount_shift: int = 0,
                 model: bytes | Path | None = None) -> None:
        self.board = board
        self.image = image
        self.frontend = frontend
        self.host = host
        self.requested_port = port
        self.icount_shift = icount_shift
        self.model = model
        self.preloaded: dict | None = None
        self._process: subprocess.Popen | None = None
        self._log = None
        self._preload_file = None
        super().__init__(f"socket://{host}:{port or 0}", timeout_s=timeout_s, ready_timeout_s=ready_timeout_s)

    @property
    def process(self) -> subprocess.Popen | None:
        return self._process

    def start(self) -> None:
        """Build if needed and start QEMU, without connecting (``board serve`` uses this)."""
        if shutil.which("qemu-system-arm") is None:
            raise BoardError("the emulated board needs qemu-system-arm: run scripts/bootstrap.sh")
        if self.image is None:
            self.image = build_firmware(self.board, self.frontend)
        port = self.requested_port or free_tcp_port(self.host)
        self.url = f"socket://{self.host}:{port}"
        self.port = port
        self._log = tempfile.TemporaryFile()
        preload = self._write_preload()
        self._process = subprocess.Popen(qemu_command(self.image, self.host, port, self.icount_shift, preload=preload),
                                         stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT)

    def _write_preload(self) -> Path | None:
        if self.model is None:
            return None
        blob = self.model
        if isinstance(blob, (str, Path)):
            from nas.board.model_blob import tflite_to_blob

            blob = tflite_to_blob(Path(blob))
        self._preload_file = tempfile.NamedTemporaryFile(prefix="kws-model-", suffix=".bin")
        self._preload_file.write(bytes(blob))
        self._preload_file.flush()
        self._preload_bytes = len(blob)
        return Path(self._preload_file.name)

    def open(self) -> None:
        self.start()
        try:
            super().open()
            if self._preload_file is not None:
                self.preloaded = self.load_from_memory(self._preload_bytes)
        except BoardError:
            self.close()
            raise

    def _check_alive(self, doing: str, connection_lost: bool = False) -> None:
        if self._process is None:
            return
        if connection_lost:  # the socket closes a moment before the process can be reaped
            try:
                self._process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                return
        if self._process.poll() is None:
            return
        self._log.seek(0)
        log = self._log.read().decode(errors="replace").strip().splitlines()[-5:]
        raise BoardError(
            f"emulated board {self.board}: QEMU exited with code {self._process.returncode} while {doing}"
            + (f": {' | '.join(log)}" if log else "")
        )

    def close(self) -> None:
        super().close()
        if self._process is not None:
            if self._process.poll() is None:
                self._process.terminate()
                try:
                    self._process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait()
            self._process = None
        for handle in (self._log, self._preload_file):
            if handle is not None:
                handle.close()
        self._log = self._preload_file = None

    def close_connection(self) -> None:
        """Disconnect but keep QEMU running, so another client can connect (``board serve``'s relay;
        QEMU accepts it from its backlog once it noticed this one left)."""
        super().close()
