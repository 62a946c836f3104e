"""A `kws-nas board serve` process and a raw TCP client of it: for tests/board/test_cli.py and the
reliability benchmark (benchmarks/reliability/i11_board.py), which both talk to the relay byte by byte."""
from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def serve(model: Path, port: int) -> subprocess.Popen:
    """`python -m nas board serve MODEL --listen 127.0.0.1:PORT`; its first stdout line says when it is ready."""
    return subprocess.Popen([sys.executable, "-m", "nas", "board", "serve", str(model), "--listen", f"127.0.0.1:{port}"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def client(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def command(link: socket.socket, data: bytes) -> list[str]:
    """Sends ``data``; the reply's lines up to the board's `m-ready`, which is left out.

    Raises:
        ConnectionError: the relay closed the connection before `m-ready`.
    """
    link.sendall(data)
    reply = b""
    while not reply.endswith(b"m-ready\r\n"):
        chunk = link.recv(4096)
        if not chunk:
            raise ConnectionError(f"connection closed after {reply!r}")
        reply += chunk
    return reply.decode(errors="replace").splitlines()[:-1]
