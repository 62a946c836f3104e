"""The emulated board: QEMU runs the firmware and serves its UART on a local TCP port.

``-icount shift=0`` makes every guest instruction advance virtual time by 1 ns, so SysTick counts
instructions deterministically (``shift=auto`` would re-tune against real time: never used).
``nodelay=on`` avoids ~45 ms per round trip. To the host this is a SerialBoard on
``socket://127.0.0.1:PORT``, indistinguishable from a real board on a serial port.
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
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


def qemu_command(image: FirmwareImage, host: str, port: int, icount_shift: int = 0,
                 wait_for_client: bool = False) -> list[str]:
    """QEMU's argv; ``wait_for_client`` holds the guest until a client connects (banner tests)."""
    wait = "on" if wait_for_client else "off"
    return [
        "qemu-system-arm", "-machine", image.qemu_machine(), "-nographic", "-monitor", "none",
        "-icount", f"shift={icount_shift}",
        "-serial", f"tcp:{host}:{port},server=on,wait={wait},nodelay=on",
        "-kernel", str(image.elf),
    ]


class EmulatedBoard(SerialBoard):
    """QEMU + firmware, started by ``open()`` and stopped by ``close()``.

    Args:
        board: firmware port with a QEMU machine (``mps2_an500`` Cortex-M7, ``mps2_an386`` M4).
        image: a prebuilt firmware; built (cached) when omitted.
        frontend: front-end specification the firmware's MFCC is generated from.
        port: TCP port to serve on; a free one when omitted.
        icount_shift: 2**shift ns of virtual time per instruction; 0 makes one SysTick tick (25 MHz)
            exactly 40 instructions, which the firmware's stage unit assumes.
    """

    def __init__(self, board: str = "mps2_an500", image: FirmwareImage | None = None,
                 frontend: FrontEndConfig | None = None, host: str = "127.0.0.1", port: int | None = None,
                 timeout_s: float = 30.0, ready_timeout_s: float = 15.0, icount_shift: int = 0) -> None:
        self.board = board
        self.image = image
        self.frontend = frontend
        self.host = host
        self.requested_port = port
        self.icount_shift = icount_shift
        self._process: subprocess.Popen | None = None
        self._log = None
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
        self._process = subprocess.Popen(qemu_command(self.image, self.host, port, self.icount_shift), stdin=subprocess.DEVNULL,
                                         stdout=self._log, stderr=subprocess.STDOUT)

    def open(self) -> None:
        self.start()
        try:
            super().open()
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
        if self._log is not None:
            self._log.close()
            self._log = None

    def close_connection(self) -> None:
        """Disconnect but keep QEMU running, so another client can connect (``board serve``)."""
        super().close()
        time.sleep(0.05)  # QEMU accepts the next client once it noticed this one left
