# STM32F746G-DISCO: Cortex-M7 with single-precision FPU; ST-LINK virtual COM port on USART1 (PA9/PB7).
# No RAM for a second model buffer: a serial model upload overwrites the running model (harness.c).
# Flash: arm-none-eabi-objcopy -O binary kws.elf kws.bin, then copy kws.bin to the DIS_F746NG drive.
CPU_FLAGS := -mcpu=cortex-m7 -mthumb -mfpu=fpv5-sp-d16 -mfloat-abi=hard
PORT_DEFS := -DKWS_BOARD_NAME='"stm32f746g_disco"' -DKWS_MODEL_STAGING=0
# Upload mode: a 160 KB model buffer and an 80 KB arena. Flash mode (make MODEL=...): the model stays in
# flash, its RAM goes to the arena (224 KB: the large class's activations) and a 16 KB buffer is left
# for small uploads.
PORT_RAM_DEFS := -DKWS_MODEL_BYTES=163840 -DKWS_ARENA_BYTES=81920
PORT_FLASH_DEFS := -DKWS_MODEL_BYTES=16384 -DKWS_ARENA_BYTES=229376
PORT_SRCS := port/common/port_common.c port/stm32f746g_disco/vectors.c \
             port/stm32f746g_disco/port_stm32f746.c
LDSCRIPT := port/stm32f746g_disco/stm32f746.ld
