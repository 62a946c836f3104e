"""`kws-nas board calibrate` and nas.board.calibrate: measuring networks on the emulated board, the
transfer of a stored model to another board, and the bad inputs that must keep the stored model."""
from __future__ import annotations

import socket
import threading

import pytest

from nas.board.calibrate import CalibrationError, calibration_set, fit_points, measure
from nas.cli import main
from nas.cost import latency

pytestmark = pytest.mark.firmware

STORED = '{"kept": true}'


@pytest.fixture
def stored_model(tmp_path):
    path = tmp_path / "board.latency.json"
    path.write_text(STORED)
    return path


@pytest.fixture
def silent_port():
    """A TCP port that accepts a connection and never says anything: a board that does not answer."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    accepted = []
    thread = threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    for connection, _ in accepted:
        connection.close()
    listener.close()


def test_a_silent_board_is_one_line_and_keeps_the_stored_model(silent_port, stored_model, capsys):
    code = main(["board", "calibrate", "--board", "mps2_an500", "--port", f"socket://127.0.0.1:{silent_port}",
                 "--count", "80", "--out", str(stored_model)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "failed at opening the board" in err and "no answer" in err and "stored latency model is kept" in err
    assert stored_model.read_text() == STORED


def test_too_few_networks_are_refused_before_measuring(stored_model, capsys):
    code = main(["board", "calibrate", "--board", "mps2_an500", "--count", "3", "--out", str(stored_model)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "3 networks are too few to fit the" in err and "stored latency model is kept" in err
    assert stored_model.read_text() == STORED


def test_transfer_from_an_uncalibrated_board_is_refused(capsys):
    assert main(["board", "calibrate", "--board", "mps2_an386", "--transfer-from", "nano33ble"]) == 2
    assert "--transfer-from nano33ble: no stored latency model" in capsys.readouterr().err


def test_a_board_failing_halfway_names_the_model_it_failed_at(firmware_image):
    """The board dies while the second network is being prepared: the run stops with one error."""
    from nas.board.emulated import EmulatedBoard
    from nas.export.tflite import untrained_int8

    candidates = calibration_set(3, seed=0, spaces=("dnn",))
    with EmulatedBoard("mps2_an500", image=firmware_image) as board:
        board.close_connection()  # QEMU keeps running; calibration connects to it as to a real board

        def convert_then_kill(candidate):
            if candidate is candidates[1]:
                board.process.kill()
                board.process.wait()
            return untrained_int8(candidate)

        done = []
        with pytest.raises(CalibrationError, match=r"failed at model 2/3 \(dnn") as caught:
            measure("mps2_an500", candidates, convert_then_kill, port=board.url, on_point=lambda i, p: done.append(p))
    assert len(done) == 1 and done[0].unit == "instructions" and done[0].value > 1000
    assert "stored latency model is kept" in str(caught.value)


def test_the_stored_m7_model_moves_to_the_m4_from_a_few_networks(firmware_image):
    """Scales refitted from 3 measured M4 networks predict a 4th, unseen one within 10 %."""
    from nas.cost.budget import load_board
    from nas.export.tflite import untrained_int8

    base = latency.load("mps2_an500")
    assert base is not None, "constraints/mps2_an500.latency.json is committed"
    candidates = calibration_set(4, seed=5, spaces=("dnn", "cnn", "ds_cnn", "dnn"))
    points = measure("mps2_an386", candidates, untrained_int8)
    moved = fit_points(points[:3], "mps2_an386", base=base)
    assert moved.calibrated_from == "mps2_an500" and moved.unit == "instructions"
    held_out = candidates[3]
    predicted = moved.predict(held_out.spec.layers(held_out.input_shape))
    assert predicted == pytest.approx(points[3].value, rel=0.10)
    assert load_board("mps2_an386").to_ms(predicted, "instructions") > 0


def test_calibrate_moves_the_m7_model_to_the_m4_end_to_end_and_it_predicts_held_out_networks(
        firmware_image, tmp_path, capsys):
    """`kws-nas board calibrate --board mps2_an386 --transfer-from mps2_an500 --count 10`: measures ten
    networks and the front end, writes the model, and that model predicts networks it has not seen
    (and a streaming inference's front end) on the M4 within 10 %."""
    import json

    from nas.board.calibrate import measure_frontend
    from nas.export.tflite import untrained_int8

    out = tmp_path / "mps2_an386.latency.json"
    assert main(["board", "calibrate", "--board", "mps2_an386", "--transfer-from", "mps2_an500",
                 "--count", "10", "--seed", "4", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "fit error |predicted/measured - 1| on 10 networks" in printed and "front end:" in printed
    model = latency.LatencyModel.from_dict(json.loads(out.read_text()))
    assert (model.board, model.calibrated_from, model.points) == ("mps2_an386", "mps2_an500", 10)
    held_out = calibration_set(2, seed=9, spaces=("ds_cnn", "cnn"), published=False)
    points = measure("mps2_an386", held_out, untrained_int8)
    for candidate, point in zip(held_out, points):
        assert model.predict(candidate.spec.layers(candidate.input_shape)) == pytest.approx(point.value, rel=0.10)
    (frames, value, unit), = measure_frontend("mps2_an386", untrained_int8, frames=(3,))[1:]
    assert unit == model.unit and model.frontend_value(frames) == pytest.approx(value, rel=0.03)
