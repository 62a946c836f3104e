# QEMU -machine mps2-an500: Cortex-M7 (single-precision FPU as on STM32F7), 25 MHz.
CPU_FLAGS := -mcpu=cortex-m7 -mthumb -mfpu=fpv5-sp-d16 -mfloat-abi=hard
PORT_DEFS := -DKWS_BOARD_NAME='"mps2_an500"' -DKWS_MODEL_BYTES=1048576 -DKWS_ARENA_BYTES=524288
PORT_SRCS := port/common/port_common.c port/mps2_common/vectors.c port/mps2_common/port_mps2.c
LDSCRIPT := port/mps2_common/mps2.ld
QEMU_MACHINE := mps2-an500
