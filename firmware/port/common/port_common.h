/* What the ports share (internal to firmware/port/): the reset and fault handlers their vector tables
 * name, and the receive ring their UART interrupts fill, which port_getc() drains. */
#ifndef KWS_PORT_COMMON_H
#define KWS_PORT_COMMON_H

#include <stdint.h>

/* Copies .data, zeroes .bss, enables the FPU, calls main. */
void Reset_Handler(void);

/* Report the fault over the UART (port_fault()) and stop. */
void port_hard_fault_handler(void);
void port_other_fault_handler(void);

/* Queues one received byte for port_getc(); drops it when the ring is full (the host waits for
 * replies, so that does not happen in practice). Called from the UART RX interrupt. */
void port_rx_push(uint8_t byte);

/* Writes "e-fault-<what>" on a line of its own, then sleeps with interrupts off for good. */
void port_fault(const char *what);

/* Defined by each port, named in its vector table. */
void port_uart_rx_irq(void);

#endif
