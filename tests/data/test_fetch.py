"""fetch_speech_commands against a real HTTP server on 127.0.0.1 serving a tar.gz built here."""
from __future__ import annotations

import hashlib
import http.server
import io
import socket
import tarfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from nas.data.fetch import ARCHIVES, fetch_speech_commands
from nas.errors import ConfigError, DataError

FILES = {
    "yes/0a7c2a8d_nohash_0.wav": b"RIFF-yes-" + bytes(range(256)) * 40,
    "no/0b09edd3_nohash_1.wav": b"RIFF-no-" + bytes(range(255, -1, -1)) * 40,
    "validation_list.txt": b"no/0b09edd3_nohash_1.wav\n",
}


def build_archive() -> bytes:
    # Incompressible noise makes the archive ~100 KB, so a cut-off lands mid-stream.
    members = {**FILES, "_background_noise_/noise.bin": np.random.default_rng(0).bytes(100_000)}
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


class ArchiveServer(http.server.ThreadingHTTPServer):
    """Serves one payload with Range support; can cut the connection after N bytes, once."""

    def __init__(self, payload: bytes) -> None:
        super().__init__(("127.0.0.1", 0), RangeHandler)
        self.payload = payload
        self.cut_after: int | None = None
        self.range_headers: list[str | None] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/speech_commands_v0.02.tar.gz"


class RangeHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        server: ArchiveServer = self.server  # type: ignore[assignment]
        header = self.headers.get("Range")
        server.range_headers.append(header)
        start = int(header.removeprefix("bytes=").rstrip("-")) if header else 0
        body = server.payload[start:]
        self.send_response(206 if header else 200)
        if header:
            self.send_header("Content-Range", f"bytes {start}-{len(server.payload) - 1}/{len(server.payload)}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if server.cut_after is not None:
            body, server.cut_after = body[: server.cut_after], None
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server():
    srv = ArchiveServer(build_archive())
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def assert_unpacked(root: Path) -> None:
    for name, data in FILES.items():
        assert (root / name).read_bytes() == data


def test_download_verifies_and_unpacks(server, tmp_path):
    root = fetch_speech_commands("v0.02", tmp_path, url=server.url, sha256=sha(server.payload))
    assert root == tmp_path / "speech_commands_v0.02"
    assert_unpacked(root)
    assert (tmp_path / "speech_commands_v0.02.tar.gz").read_bytes() == server.payload
    assert not list(tmp_path.glob("*.part")) and not list(tmp_path.glob("*.unpacking"))


def test_cut_off_download_resumes_with_range(server, tmp_path):
    server.cut_after = 40_000
    with pytest.raises(DataError, match="run again to resume"):
        fetch_speech_commands("v0.02", tmp_path, url=server.url, sha256=sha(server.payload), timeout_s=5)
    part = tmp_path / "speech_commands_v0.02.tar.gz.part"
    assert part.stat().st_size == 40_000
    assert not (tmp_path / "speech_commands_v0.02").exists()

    root = fetch_speech_commands("v0.02", tmp_path, url=server.url, sha256=sha(server.payload))
    assert server.range_headers == [None, "bytes=40000-"]
    assert (tmp_path / "speech_commands_v0.02.tar.gz").read_bytes() == server.payload
    assert_unpacked(root)


def test_checksum_mismatch_unpacks_nothing_and_keeps_the_file(server, tmp_path):
    wrong = "0" * 64
    with pytest.raises(DataError, match=f"does not match the expected {wrong}"):
        fetch_speech_commands("v0.02", tmp_path, url=server.url, sha256=wrong)
    assert not (tmp_path / "speech_commands_v0.02").exists()
    assert (tmp_path / "speech_commands_v0.02.tar.gz.sha256-mismatch").read_bytes() == server.payload


def test_official_size_is_checked_before_downloading(server, tmp_path):
    # No --sha256: the official v0.02 size applies, and this 100 KB "mirror" does not have it.
    with pytest.raises(DataError, match=f"official archive has {ARCHIVES['v0.02'].size}"):
        fetch_speech_commands("v0.02", tmp_path, url=server.url)
    assert not list(tmp_path.glob("*.part"))


def test_unreachable_host_fails_within_seconds(tmp_path):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/speech_commands_v0.02.tar.gz"
    start = time.monotonic()
    with pytest.raises(DataError, match=rf"offline: could not reach {url}.*by hand"):
        fetch_speech_commands("v0.02", tmp_path, url=url, timeout_s=2)
    assert time.monotonic() - start < 5


def test_silent_host_times_out_instead_of_hanging(tmp_path):
    with socket.socket() as silent:  # accepts connections (backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/speech_commands_v0.02.tar.gz"
        start = time.monotonic()
        with pytest.raises(DataError, match="could not reach"):
            fetch_speech_commands("v0.02", tmp_path, url=url, timeout_s=1)
        assert time.monotonic() - start < 5


def test_archive_given_by_hand_needs_no_network_and_second_call_is_instant(server, tmp_path):
    manual = tmp_path / "downloaded.tar.gz"
    manual.write_bytes(server.payload)
    dest = tmp_path / "data"
    root = fetch_speech_commands("test_v0.02", dest, archive=manual, sha256=sha(server.payload), url="http://0.0.0.0:9/")
    assert root == dest / "speech_commands_test_v0.02"
    assert_unpacked(root)
    assert server.range_headers == []
    # Already unpacked: returned without reading the archive again.
    manual.unlink()
    assert fetch_speech_commands("test_v0.02", dest, archive=manual) == root


def test_corrupt_archive_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(b"not a tarball at all")
    with pytest.raises(DataError, match="cannot unpack"):
        fetch_speech_commands("v0.01", tmp_path, archive=bad, sha256=sha(bad.read_bytes()))
    assert not (tmp_path / "speech_commands_v0.01").exists()


def test_unknown_version_names_the_choices(tmp_path):
    with pytest.raises(ConfigError, match="v0.01"):
        fetch_speech_commands("v0.03", tmp_path)


def test_cli_fetch_takes_a_hand_downloaded_archive(tmp_path, capsys):
    from nas.cli import main

    payload = build_archive()
    manual = tmp_path / "by_hand.tar.gz"
    manual.write_bytes(payload)
    dest = tmp_path / "data"
    argv = ["data", "fetch", "--version", "test_v0.02", "--dest", str(dest), "--archive", str(manual)]
    assert main(argv + ["--sha256", sha(payload)]) == 0
    assert_unpacked(dest / "speech_commands_test_v0.02")
    assert str(dest / "speech_commands_test_v0.02") in capsys.readouterr().out


def test_cli_fetch_with_wrong_checksum_is_one_clear_error(tmp_path, capsys):
    from nas.cli import main

    manual = tmp_path / "by_hand.tar.gz"
    manual.write_bytes(build_archive())
    argv = ["data", "fetch", "--dest", str(tmp_path), "--archive", str(manual), "--sha256", "0" * 64]
    assert main(argv) == 2
    last_line = capsys.readouterr().err.strip().splitlines()[-1]  # after the sha256 progress bar
    assert last_line.startswith("kws-nas data: error:") and str(manual) in last_line
