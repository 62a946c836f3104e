# QEMU -machine mps2-an386: Cortex-M4F, same memory map and UART as the AN500.
CPU_FLAGS := -mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard
PORT_DEFS := -DKWS_BOARD_NAME='"mps2_an386"' -DKWS_MODEL_BYTES=1048576 -DKWS_ARENA_BYTES=524288
PORT_SRCS := port/common/port_common.c port/mps2_common/vectors.c port/mps2_common/port_mps2.c
LDSCRIPT := port/mps2_common/mps2.ld
QEMU_MACHINE := mps2-an386
