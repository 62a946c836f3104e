/* MPS2 vector table: the core exceptions, SysTick and UART0 RX (handlers in common/port_common.c
 * and port_mps2.c). */
#include "common/port_common.h"

extern uint32_t _estack;
void port_systick_irq(void);

__attribute__((section(".isr_vector"), used)) static void (*const vectors[])(void) = {
    (void (*)(void))&_estack,
    Reset_Handler,
    port_other_fault_handler, /* NMI */
    port_hard_fault_handler,  /* HardFault */
    port_other_fault_handler, /* MemManage */
    port_other_fault_handler, /* BusFault */
    port_other_fault_handler, /* UsageFault */
    0, 0, 0, 0,
    port_other_fault_handler, /* SVCall */
    port_other_fault_handler, /* DebugMonitor */
    0,
    port_other_fault_handler, /* PendSV */
    port_systick_irq,         /* SysTick */
    port_uart_rx_irq,         /* IRQ 0: UART0 RX (QEMU hw/arm/mps2.c wires UART0 RX to IRQ 0) */
};
