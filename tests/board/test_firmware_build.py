"""Every port builds; the M4 image boots in QEMU too; sizes come from the ELF."""
import pytest

from nas.board.emulated import EmulatedBoard
from nas.board.firmware_build import build_firmware, ports
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
