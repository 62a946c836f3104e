"""`kws-nas bench` and `kws-nas board serve` against the emulated board."""
from __future__ import annotations

import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
import serial

from nas.board.emulated import free_tcp_port
from nas.cli import main
from .tf_models import run_tflm

pytestmark = pytest.mark.firmware


def test_bench_prints_the_stage_breakdown_and_writes_table_and_chart(firmware_image, tflite_models, tmp_path, capsys):
    assert main(["bench", str(tflite_models["dnn"]), "--board", "mps2_an500", "--count", "2", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "estimate at 216 MHz" in printed and "features" in printed and "network" in printed
    table = pd.read_csv(tmp_path / "breakdown.csv")
    assert list(table["stage"]) == ["features", "network", "post", "total"]
    parts = table.set_index("stage")["instructions"]
    assert parts["total"] == pytest.approx(parts[["features", "network", "post"]].sum())
    assert f"{int(parts['network']):,}" in printed  # whole instructions, with thousands separators
    assert (tmp_path / "breakdown.html").stat().st_size > 1000


def test_bench_rejects_a_file_that_is_not_a_tflite(tmp_path, capsys):
    bogus = tmp_path / "model.tflite"
    bogus.write_bytes(b"not a flatbuffer")
    assert main(["bench", str(bogus)]) == 2
    assert "kws-nas bench: error: model" in capsys.readouterr().err


def test_board_serve_is_ready_then_answers_an_outside_client_with_no_unprompted_lines(firmware_image, tflite_models):
    port = free_tcp_port()
    serve = subprocess.Popen([sys.executable, "-m", "nas", "board", "serve", str(tflite_models["cnn"]),
                              "--listen", f"127.0.0.1:{port}"], stdout=subprocess.PIPE, text=True)
    try:
        ready = serve.stdout.readline()
        assert f"ready at socket://127.0.0.1:{port}" in ready
        link = serial.serial_for_url(f"socket://127.0.0.1:{port}", timeout=10)
        time.sleep(0.3)
        assert link.in_waiting == 0  # no late banner
        link.write(b"name%")
        assert link.readline().strip() == b"m-name-dut-[kws-nas mps2_an500]"
        assert link.readline().strip() == b"m-ready"
        x = np.arange(490, dtype=np.int64).astype(np.int8)
        link.write(b"db load 490%")
        link.read_until(b"m-ready\r\n")
        for start in range(0, 490, 31):  # MLPerf Tiny's runner sends 31 bytes per db command
            link.write(b"db " + x[start:start + 31].tobytes().hex().encode() + b"%")
            link.read_until(b"m-ready\r\n")
        link.write(b"infer 1 0%")
        reply = link.read_until(b"m-ready\r\n").decode().splitlines()
        outputs = [line for line in reply if line.startswith("m-output-int8-")][0]
        expected = run_tflm(tflite_models["cnn"], x.reshape(1, 49, 10))[0]
        assert outputs == "m-output-int8-[" + ",".join(map(str, expected)) + "]"
        link.close()
    finally:
        serve.send_signal(signal.SIGINT)
        assert serve.wait(timeout=20) == 0
