"""Flash mode: the model compiled into the image. The F746 image links with Hello Edge's large DS-CNN
within the board's flash and SRAM; the emulated board runs a flash-mode image with the outputs of
upload mode; models too large for the board's flash or RAM buffer are refused with the sizes."""
from __future__ import annotations

import dataclasses
import re
import shlex
from pathlib import Path

import numpy as np
import pytest

from nas.board.emulated import EmulatedBoard
from nas.board.firmware_build import FirmwareImage, symbol_sizes
from nas.board.flash_image import BoardImage, build_board_image, flash_command
from nas.board.flash_model_source import c_source, model_description
from nas.board.model_blob import HEADER, MAGIC, VERSION, tflite_to_blob
from nas.cli import main
from nas.cost.budget import load_board
from nas.errors import BoardError, ConfigError

F746 = "stm32f746g_disco"


def _synthetic_blob(name: str, size: int, arena: int = 1024) -> bytes:
    """A header and zeros: enough for the size checks, which read only the header and the length."""
    return HEADER.pack(MAGIC, VERSION, 1, 0, 0, 0, arena, size, name.encode()) + bytes(size - HEADER.size)


def test_the_generated_source_holds_the_description_byte_for_byte(tmp_path):
    blob = bytes(range(256)) * 3 + b"\x7f"
    source = c_source(blob)
    body = source[source.index("=\n") : source.rindex(";")]
    assert bytes(int(v, 16) for v in re.findall(r"\\x([0-9a-f]{2})", body)) == blob
    assert f"kws_flash_model_bytes = {len(blob)}u" in source and "const uint8_t kws_flash_model" in source
    path = tmp_path / "m.bin"
    path.write_bytes(_synthetic_blob("m", 64))
    assert model_description(path) == path.read_bytes()  # a description is taken as it is
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(ConfigError, match=f"m.bin: a model description of 20 B, shorter than its {HEADER.size} B header"):
        model_description(path)


def test_the_profile_names_the_model_storage():
    assert load_board(F746).model_storage == "flash"
    assert load_board("mps2_an500").model_storage == "ram"
    with pytest.raises(ConfigError, match="model_storage must be one of"):
        dataclasses.replace(load_board(F746), model_storage="sdcard")


def test_flash_commands_for_pyocd_and_openocd():
    elf = Path("/images/kws.elf")
    image = BoardImage(load_board(F746), FirmwareImage(F746, elf, 1, 0, 0, True), "m", 1, 1, 1)
    assert flash_command(image) == ["pyocd", "load", "--target", "stm32f746nghx", str(elf)]
    assert flash_command(image, "pyocd", "0670FF") == ["pyocd", "load", "--target", "stm32f746nghx",
                                                       "--uid", "0670FF", str(elf)]
    assert flash_command(image, "openocd", "0670FF") == [
        "openocd", "-f", "board/stm32f746g-disco.cfg", "-c", "adapter serial 0670FF",
        "-c", f"program {elf} verify reset exit"]
    emulated = dataclasses.replace(image, profile=load_board("mps2_an500"))
    with pytest.raises(ConfigError, match="mps2_an500.yaml: no pyocd_target"):
        flash_command(emulated)


@pytest.fixture(scope="module")
def build_root(tmp_path_factory, firmware_image):  # firmware_image: skips without the toolchain
    return tmp_path_factory.mktemp("flash-builds")


@pytest.fixture(scope="module")
def large_ds_cnn(pytestconfig) -> bytes:
    """Hello Edge's large DS-CNN (random weights) as a model description, cached across sessions."""
    from nas.export.tflite import untrained_int8
    from nas.spaces.hello_edge import HELLO_EDGE_BEST

    path = Path(pytestconfig.cache.mkdir("kws_board_models")) / "hello_edge_ds_cnn_large.bin"
    if not path.exists():
        published = next(m for m in HELLO_EDGE_BEST if (m.arch, m.budget) == ("ds_cnn", "large"))
        path.write_bytes(tflite_to_blob(untrained_int8(published.candidate()), name="ds_cnn_large"))
    return path.read_bytes()



@pytest.mark.firmware
def test_f746_flash_image_links_the_large_ds_cnn_within_the_board(large_ds_cnn, build_root):
    profile = load_board(F746)
    image = build_board_image(large_ds_cnn, profile, build_root=build_root)
    assert image.image.model_in_flash and image.model_bytes == len(large_ds_cnn) > 400_000
    sizes = symbol_sizes(image.image.elf)
    assert sizes["kws_flash_model"] == len(large_ds_cnn) + 1  # and the string literal's NUL
    assert len(large_ds_cnn) < image.image.flash_bytes <= profile.flash_bytes
    assert image.image.ram_bytes <= profile.sram_bytes
    assert image.arena_bytes <= image.arena_capacity
    report = image.report()
    print(report)
    assert f"flash {image.image.flash_bytes:>9,} B of 1,048,576 B" in report
    assert f"RAM   {image.image.ram_bytes:>9,} B of   327,680 B" in report
    # the same model cannot go the upload way: it does not fit the 160 KB RAM model buffer
    upload = dataclasses.replace(profile, model_storage="ram")
    with pytest.raises(BoardError, match=f"{len(large_ds_cnn):,} B > 163,840 B; a board profile with model_storage: flash"):
        build_board_image(large_ds_cnn, upload, build_root=build_root)


@pytest.mark.firmware
def test_a_model_too_large_for_flash_is_refused_with_the_sizes(build_root):
    huge = _synthetic_blob("huge", 1_100_000)
    with pytest.raises(BoardError) as refused:
        build_board_image(huge, load_board(F746), build_root=build_root)
    message = str(refused.value)
    assert "\n" not in message
    assert re.search(r"model huge does not fit the flash: 1,100,000 B model \+ [\d,]+ B firmware > 1,048,576 B flash",
                     message), message
    # a profile promising more flash than the chip has: the linker's overflow, in the same terms
    generous = dataclasses.replace(load_board(F746), flash_bytes=4 << 20)
    with pytest.raises(BoardError, match=r"the 1,100,000 B model does not fit: the image overflows the port's "
                                         r"FLASH region by [\d,]+ B"):
        build_board_image(huge, generous, build_root=build_root)


def _features(count: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(-128, 128, (count, 49 * 10), dtype=np.int8)


@pytest.mark.firmware
def test_emulated_flash_image_gives_the_outputs_of_serial_upload(tflite_models, board, build_root):
    blob = tflite_to_blob(tflite_models["cnn"])  # its outputs move with the input (the tiny ds_cnn's barely do)
    profile = dataclasses.replace(load_board("mps2_an500"), model_storage="flash")
    image = build_board_image(blob, profile, build_root=build_root)
    assert symbol_sizes(image.image.elf)["kws_flash_model"] == len(blob) + 1
    features = _features(3)
    board.load(blob)
    uploaded = [board.infer(x).outputs for x in features]
    with EmulatedBoard(image=image.image) as flashed:
        assert flashed.command("profile").lines[1] == f"m-model-[{image.model_name}]"  # running from boot
        from_flash = [flashed.infer(x).outputs for x in features]
    assert len({o.tobytes() for o in uploaded}) > 1  # the inputs move the outputs
    for a, b in zip(uploaded, from_flash):
        np.testing.assert_array_equal(a, b)


@pytest.mark.firmware
def test_emulated_flash_image_of_the_large_ds_cnn_matches_the_ram_buffer(large_ds_cnn, firmware_image, build_root,
                                                                        monkeypatch):
    monkeypatch.setattr("nas.board.firmware_build.FLASH_IMAGES_KEPT", 1)
    profile = dataclasses.replace(load_board("mps2_an500"), model_storage="flash")
    image = build_board_image(large_ds_cnn, profile, build_root=build_root)
    # the previous test's flash image of the same board was the least recently used: removed
    assert [b.name for b in build_root.glob("mps2_an500-*-flash-*")] == [image.image.elf.parent.name]
    features = _features(2, seed=1)
    with EmulatedBoard(image=firmware_image, model=large_ds_cnn, timeout_s=120) as ram:
        in_ram = [ram.infer(x) for x in features]
    with EmulatedBoard(image=image.image, timeout_s=120) as flashed:
        in_flash = [flashed.infer(x) for x in features]
    assert in_ram[0].outputs.tobytes() != in_ram[1].outputs.tobytes()
    for a, b in zip(in_ram, in_flash):
        np.testing.assert_array_equal(a.outputs, b.outputs)
        assert a.scores == b.scores


@pytest.mark.firmware
def test_board_flash_cli_reports_sizes_then_prints_the_command(tflite_models, capsys):
    assert main(["board", "flash", str(tflite_models["cnn"]), "--board", F746, "--tool", "openocd"]) == 0
    printed = capsys.readouterr().out
    assert re.search(r"flash +[\d,]+ B of 1,048,576 B", printed) and "compiled into flash" in printed
    command = shlex.split(printed.split("flash with: ")[1].strip())
    assert command[:3] == ["openocd", "-f", "board/stm32f746g-disco.cfg"]
    assert command[-1].startswith("program ") and command[-1].endswith("kws.elf verify reset exit")


def test_board_flash_cli_refuses_a_probe_for_the_emulated_board(tmp_path, capsys):
    model = tmp_path / "m.bin"
    model.write_bytes(_synthetic_blob("m", 64))
    assert main(["board", "flash", str(model), "--board", "mps2_an500", "--port", "0670FF"]) == 2
    assert "mps2_an500 is emulated, there is no probe" in capsys.readouterr().err
