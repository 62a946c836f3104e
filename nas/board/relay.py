"""One board, many clients in turn: a TCP relay in front of the emulated board's UART.

QEMU's ``-serial tcp:...,server=on`` gives the guest a UART with no notion of connections: whatever
a dropped client left half-sent (a partial command, an unfinished upload) is glued to the next
client's first command, and a second client waits in QEMU's backlog in silence. So ``kws-nas board
serve`` lets QEMU serve a private port that only this relay connects to, and accepts the clients
itself:

- the listening socket is bound before anything starts, so a port in use is one clear error;
- one client at a time; another one gets ``e-[busy: ...]`` and is closed (after a short grace, so
  that a client reconnecting at once is not refused for its own old connection);
- when a client leaves (and once at start), the relay sends the firmware's resync byte
  (``KWS_PROTO_RESET``, firmware/src/protocol.h): the board drops the partial command, abandons an
  upload in progress and answers ``m-reset-done``. Everything the board sends until then (replies to
  the departed client) is discarded, and the next client's bytes are forwarded only after it (a
  board still running a departed client's long `infer` finishes it first);
- a client's own resync bytes are dropped, so that the relay's acknowledgement is the only one.

An abandoned ``model load`` keeps the model that was running: the firmware stages uploads (harness.c).
"""
from __future__ import annotations

import socket
import threading
import time

from nas.board.protocol import READY, RESET, RESET_DONE
from nas.errors import BoardError, ConfigError

RESET_ACK = f"{RESET_DONE}\r\n{READY}\r\n".encode()
BUSY = b"e-[busy: another client is connected to this board; try again when it disconnects]\r\n"


def listen_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (0: any free port); ConfigError if it is taken."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    try:
        sock.bind((host, port))
        sock.listen(8)
    except OSError as err:
        sock.close()
        raise ConfigError(f"--listen {host}:{port}: cannot listen there ({err.strerror}); "
                          "pick another port or stop what holds it") from None
    return sock


class BoardRelay:
    """Relays one client at a time between ``listener`` and the board's UART at ``board_address``.

    Args:
        listener: a bound, listening socket (``listen_socket``); the relay owns it from now on.
        board_address: (host, port) of QEMU's serial server; the relay stays its only client.
        sync_timeout_s: how long the board may take to acknowledge the first resync.
        handover_s: how long a new client waits for the current one's disconnect to be noticed
            before it is refused as busy (a client that reconnects at once is not refused).
    """

    def __init__(self, listener: socket.socket, board_address: tuple[str, int], sync_timeout_s: float = 30.0,
                 handover_s: float = 1.0) -> None:
        self.listener = listener
        self.board_address = board_address
        self.sync_timeout_s = sync_timeout_s
        self.handover_s = handover_s
        self._board: socket.socket | None = None
        self._client: socket.socket | None = None
        self._synced = threading.Condition()  # guards _client, _syncing, _board_output
        self._syncing = False
        self._board_output = b""  # read while syncing, scanned for RESET_ACK
        self._board_lost = threading.Event()

    @property
    def port(self) -> int:
        return self.listener.getsockname()[1]

    def connect(self) -> None:
        """Connect to the board and resync it; BoardError if it does not acknowledge in time."""
        deadline = time.monotonic() + self.sync_timeout_s
        while True:
            try:
                self._board = socket.create_connection(self.board_address, timeout=2)
                break
            except OSError as err:
                if time.monotonic() > deadline:
                    raise BoardError(f"board at {self.board_address[0]}:{self.board_address[1]}: cannot connect: {err}") from None
                time.sleep(0.05)
        self._board.settimeout(None)
        self._board.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._resync()
        threading.Thread(target=self._read_board, daemon=True, name="board-to-client").start()
        with self._synced:
            if not self._synced.wait_for(lambda: not self._syncing or self._board_lost.is_set(),
                                         timeout=max(0.0, deadline - time.monotonic())):
                raise BoardError(f"board at {self.board_address[0]}:{self.board_address[1]}: "
                                 f"no answer to the resync byte within {self.sync_timeout_s:.0f} s")
        if self._board_lost.is_set():
            raise BoardError("the board closed its serial connection while resyncing")

    def serve_forever(self, alive=lambda: True, poll_s: float = 0.5) -> None:
        """Accept clients until the board connection is lost or ``alive()`` is false."""
        self.listener.settimeout(poll_s)
        while alive() and not self._board_lost.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            with self._synced:  # a client that just left may not have been noticed yet
                self._synced.wait_for(lambda: self._client is None, timeout=self.handover_s)
                busy = self._client is not None
                if not busy:
                    self._client = client
            if busy:
                self._refuse(client)
            else:
                threading.Thread(target=self._read_client, args=(client,), daemon=True, name="client-to-board").start()

    def close(self) -> None:
        for sock in (self._client, self._board, self.listener):
            if sock is not None:
                sock.close()

    @staticmethod
    def _refuse(client: socket.socket) -> None:
        try:
            client.sendall(BUSY)
            client.setblocking(False)
            client.recv(65536)  # what it sent already: closing with unread bytes would reset the
        except OSError:         # connection and could discard BUSY before the client read it
            pass
        client.close()

    def _resync(self) -> None:
        """Forget the client; the next one gets only what the board sends after RESET_ACK."""
        with self._synced:
            self._client = None  # in the same step as _syncing, so a new client waits for the ack
            self._syncing = True
            self._board_output = b""
            self._synced.notify_all()
        self._board.sendall(RESET)  # outside the lock: a busy board may not read for a while

    def _read_client(self, client: socket.socket) -> None:
        with self._synced:
            self._synced.wait_for(lambda: not self._syncing or self._board_lost.is_set())
        try:
            while data := client.recv(4096):
                self._board.sendall(data.replace(RESET, b""))
        except OSError:
            pass  # the client went away (or the board did: _read_board notices)
        finally:
            client.close()
            try:
                self._resync()
            except OSError:
                self._board_lost.set()

    def _read_board(self) -> None:
        try:
            while data := self._board.recv(4096):
                with self._synced:
                    if self._syncing:
                        self._board_output += data
                        _, found, data = self._board_output.partition(RESET_ACK)
                        if not found:
                            self._board_output = self._board_output[-len(RESET_ACK):]
                            continue
                        self._syncing = False
                        self._synced.notify_all()
                    client = self._client
                if client is not None and data:
                    try:
                        client.sendall(data)
                    except OSError:
                        pass  # its reader thread resyncs
        except OSError:
            pass
        with self._synced:
            self._board_lost.set()
            self._synced.notify_all()
