"""`kws-nas board serve MODEL.tflite --board mps2_an500 --listen 127.0.0.1:PORT`.

Binds HOST:PORT first (a port in use is one error line, before anything starts), builds the
firmware, starts the emulated board with the model preloaded, then keeps the board reachable at
``socket://HOST:PORT`` for outside tools that speak the MLPerf Tiny harness protocol. Clients are
served one at a time through :mod:`nas.board.relay`, each from a clean command state. One line is
printed once the board is ready; the board sends nothing unprompted after a client connects (its boot
banner went to our own readiness check). Ctrl-C and SIGTERM both stop QEMU and free the port.
"""
from __future__ import annotations

import argparse
import signal
from pathlib import Path

from nas.errors import BoardError, ConfigError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    serve = sub.add_parser("serve", help="serve the emulated board with a model on a TCP port")
    serve.add_argument("model", type=Path, help="int8 .tflite whose ops the firmware supports")
    serve.add_argument("--board", default="mps2_an500", help="emulated port: mps2_an500 (M7) or mps2_an386 (M4)")
    serve.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT (port 0: any free port)")


def _listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise ConfigError(f"--listen {text!r}: expected HOST:PORT, e.g. 127.0.0.1:5555")
    return host, int(port)


def _interrupt(signum, frame):
    raise KeyboardInterrupt  # SIGTERM takes Ctrl-C's way out, through the cleanup below


def run(args) -> int:
    from nas.board.emulated import EmulatedBoard
    from nas.board.model_blob import tflite_to_blob
    from nas.board.relay import BoardRelay, listen_socket

    host, port = _listen(args.listen)
    listener = listen_socket(host, port)
    previous_handler = signal.signal(signal.SIGTERM, _interrupt)
    board = relay = None
    try:
        blob = tflite_to_blob(args.model)  # refuse unsupported models before starting QEMU
        board = EmulatedBoard(args.board, model=blob)  # on a private port: only the relay connects
        board.open()
        board.close_connection()
        relay = BoardRelay(listener, (board.host, board.port))
        relay.connect()
        print(f"kws-nas board: {args.board} ready at socket://{host}:{relay.port} "
              f"(model {board.preloaded['name']}, {board.preloaded['ops']} ops)", flush=True)
        relay.serve_forever(alive=lambda: board.process.poll() is None)
        raise BoardError(f"emulated board {args.board}: QEMU exited on its own with code "
                         f"{board.process.poll()}; the board is no longer served")
    except KeyboardInterrupt:
        return 0
    finally:
        if relay is not None:
            relay.close()
        listener.close()
        if board is not None:
            board.close()
        signal.signal(signal.SIGTERM, previous_handler)
