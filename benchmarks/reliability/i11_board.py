"""Issue 11, point 6: `kws-nas board serve` against careless clients, over real sockets.

Each case starts its own `python -m nas board serve` of a small int8 CNN (made with TensorFlow once,
cached in the temp folder) and returns (outcome, detail): "ok" when the board behaved as it should,
"error" for a clear one-line refusal, "silent" for a wrong answer given without complaint, "hang" for
no answer within the deadline, "traceback" when one was printed.
"""
from __future__ import annotations

import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEADLINE_S = 60


sys.path.insert(0, str(REPO))
from nas.board.emulated import free_tcp_port  # noqa: E402
from tests.board.serve_client import client as _client, command as _command, serve as serve_model  # noqa: E402
from tests.board.tf_models import cached_tflite  # noqa: E402


def _serve(port: int) -> subprocess.Popen:
    return serve_model(cached_tflite(Path(tempfile.gettempdir()) / "kws-reliability-models", "cnn"), port)


def _with_server(check):
    """Runs check(port) against a fresh server; its outcome, or how the server failed."""
    def run(tmpdir: Path):
        port = free_tcp_port()
        serve = _serve(port)
        try:
            if "ready at" not in serve.stdout.readline():
                serve.kill()
                err = serve.communicate()[1]
                return ("traceback" if "Traceback" in err else "error"), err.strip()[-300:]
            return check(port, serve)
        except TimeoutError as err:
            return "hang", f"no reply: {err}"
        except ConnectionError as err:
            return "silent", str(err)
        finally:
            if serve.poll() is None:
                serve.send_signal(signal.SIGINT)
                serve.wait(timeout=20)
    return run


def _next_client_after_a_partial_command(port, serve):
    dropped = _client(port)
    dropped.sendall(b"db load 4%db 0102%mod")  # an upload and a command, both half-sent
    dropped.close()
    link = _client(port)
    name, upload = _command(link, b"name%"), _command(link, b"db 03%")
    link.close()
    clean = name[:1] == ["m-name-dut-[kws-nas mps2_an500]"] and upload[:1] != [] and upload[0].startswith("e-[db-without-load")
    return ("ok" if clean else "silent"), f"name% -> {name}; db 03% -> {upload}"


def _infer_after_an_abandoned_model_load(port, serve):
    dropped = _client(port)
    dropped.sendall(b"model load 5000%db " + b"00" * 38 + b"%")
    dropped.close()
    link = _client(port)
    _command(link, b"db load 490%")
    for start in range(0, 490, 38):
        _command(link, b"db " + b"01" * min(38, 490 - start) + b"%")
    reply = _command(link, b"infer 1 0%")
    link.close()
    ran = any(line.startswith("m-output-int8-") for line in reply)
    return ("ok" if ran else "silent"), reply[0] if reply else "only m-ready"


def _second_simultaneous_client(port, serve):
    first = _client(port)
    _command(first, b"name%")
    second = _client(port)
    second.settimeout(5)
    try:
        reply = second.recv(4096).decode(errors="replace").strip()
    except TimeoutError:
        return "silent", "the second client got no reply"
    finally:
        second.close()
        first.close()
    return ("error" if reply.startswith("e-[busy") else "silent"), reply


def _sigterm(port, serve):
    qemu = [int(pid) for task in Path(f"/proc/{serve.pid}/task").iterdir()
            for pid in (task / "children").read_text().split()]
    serve.send_signal(signal.SIGTERM)
    try:
        code = serve.wait(timeout=20)
    except subprocess.TimeoutExpired:
        return "hang", "board serve ignored SIGTERM"
    left = [pid for pid in qemu if Path(f"/proc/{pid}").exists()]
    for pid in left:
        subprocess.run(["kill", "-9", str(pid)])
    return ("ok" if code == 0 and not left else "silent"), f"exit {code}, QEMU processes left: {left}"


def _port_in_use(tmpdir: Path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        serve = _serve(holder.getsockname()[1])
        try:
            out, err = serve.communicate(timeout=DEADLINE_S)
        except subprocess.TimeoutExpired:
            serve.kill()
            return "hang", "board serve did not exit"
    if "Traceback" in err:
        return "traceback", err.strip()[-300:]
    last = err.strip().splitlines()[-1] if err.strip() else ""
    clear = serve.returncode != 0 and "ready" not in out and last.startswith("kws-nas board: error:")
    return ("error" if clear else "silent"), f"exit {serve.returncode}: {last or out.strip()}"


CASES = [
    {"name": "board serve: next client after a dropped client's partial command and upload",
     "run": _with_server(_next_client_after_a_partial_command), "expect": "ok"},
    {"name": "board serve: infer after a dropped client's abandoned model load",
     "run": _with_server(_infer_after_an_abandoned_model_load), "expect": "ok"},
    {"name": "board serve: a second simultaneous client",
     "run": _with_server(_second_simultaneous_client), "expect": "error"},
    {"name": "board serve: SIGTERM stops QEMU", "run": _with_server(_sigterm), "expect": "ok"},
    {"name": "board serve: --listen on a port in use", "run": _port_in_use, "expect": "error"},
]
