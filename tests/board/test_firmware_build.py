"""Every port builds; the M4 image boots in QEMU too; sizes come from the ELF; old flash-mode images go."""
import fcntl
import os

import pytest

from nas.board.emulated import EmulatedBoard
from nas.board.firmware_build import build_firmware, ports, prune_flash_images
from nas.errors import ConfigError

pytestmark = pytest.mark.firmware


def test_all_ports_are_listed():
    assert {"mps2_an500", "mps2_an386", "stm32f746g_disco"} <= set(ports())


def test_stm32_port_compiles_and_fits_the_board(firmware_image, tmp_path):
    image = build_firmware("stm32f746g_disco", build_root=tmp_path)
    assert image.elf.is_file()
    assert 10_000 < image.flash_bytes < 1024 * 1024
    assert image.ram_bytes <= 320 * 1024 - 0x4000  # minimum stack left
    with pytest.raises(Exception, match="QEMU_MACHINE"):
        image.qemu_machine()


def test_m4_port_boots_in_qemu(firmware_image, tmp_path):
    image = build_firmware("mps2_an386", build_root=tmp_path)
    with EmulatedBoard("mps2_an386", image=image) as m4:
        assert m4.name == "[kws-nas mps2_an386]"


def test_unknown_board_is_a_config_error():
    with pytest.raises(ConfigError, match="no firmware port"):
        build_firmware("arduino_uno")


def test_only_the_most_recently_used_flash_images_stay_and_a_locked_one_is_spared(tmp_path):
    def image(name: str, used: int):
        (tmp_path / name).mkdir()
        (tmp_path / name / "kws.elf").write_bytes(b"elf")
        os.utime(tmp_path / name / "kws.elf", (used, used))
        return tmp_path / name

    newest, middle, oldest, busy = (image(f"b-fe-flash-{n}", t) for n, t in (("a", 400), ("b", 300), ("c", 100), ("d", 50)))
    other_board = image("c-fe-flash-e", 10)
    with open(busy / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another worker is building it
        removed = prune_flash_images(tmp_path, "b-fe-flash-", keep=2)
    assert removed == [oldest]
    assert {p.name for p in tmp_path.iterdir()} == {newest.name, middle.name, busy.name, other_board.name}
