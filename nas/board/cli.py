"""`kws-nas board serve MODEL.tflite --board mps2_an500 --listen 127.0.0.1:PORT`.

Builds the firmware, starts the emulated board, uploads the model, then keeps the board reachable at
``socket://HOST:PORT`` for outside tools that speak the MLPerf Tiny harness protocol. One line is
printed once the board is ready; the board sends nothing unprompted after a client connects (its boot
banner went to our own readiness check).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from nas.errors import ConfigError


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


def run(args) -> int:
    from nas.board.emulated import EmulatedBoard, free_tcp_port
    from nas.board.model_blob import tflite_to_blob

    host, port = _listen(args.listen)
    blob = tflite_to_blob(args.model)  # refuse unsupported models before starting anything
    board = EmulatedBoard(args.board, host=host, port=port or free_tcp_port(host))
    try:
        board.open()
        summary = board.load(blob)
        board.close_connection()
        print(f"kws-nas board: {args.board} ready at socket://{host}:{board.port} "
              f"(model {summary['name']}, {summary['ops']} ops)", flush=True)
        while board.process.poll() is None:
            time.sleep(0.5)
        return 1  # QEMU went away on its own
    except KeyboardInterrupt:
        return 0
    finally:
        board.close()
