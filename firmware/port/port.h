/* What a board port provides to the firmware (mlcommons/tiny calls these the th_* hooks).
 *
 * A port is one folder under firmware/port/ with a port.mk (CPU flags, linker script, sources).
 * Reset and fault handlers, the UART receive ring, port_getc() and port_board_name() are shared
 * by every port (common/port_common.c); a port adds its vector table, UART and timer.
 * The emulated boards (mps2_an500, mps2_an386) time with SysTick under QEMU -icount shift=0, where
 * one guest instruction is one nanosecond of virtual time: their stage unit is "instructions".
 * Real boards time with the DWT cycle counter and report microseconds.
 */
#ifndef KWS_PORT_H
#define KWS_PORT_H

#include <stddef.h>
#include <stdint.h>

/* Clocks, UART, timer; called once before anything else. */
void port_init(void);

/* Next received byte; sleeps (WFI) until one arrives. */
int port_getc(void);

/* Sends n bytes; returns when they are queued in the UART. */
void port_write(const char *s, size_t n);

/* Monotonic timer ticks since port_init (64 bits: never wraps in practice). */
uint64_t port_ticks(void);

/* Ticks → microseconds of (virtual, on the emulator) time. */
uint64_t port_ticks_to_us(uint64_t ticks);

/* Ticks → the unit per-stage timings are reported in, named by port_stage_unit(). */
uint64_t port_ticks_to_stage_units(uint64_t ticks);
const char *port_stage_unit(void);

/* Short board name for the `name%` reply. */
const char *port_board_name(void);

#endif
