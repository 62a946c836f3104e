/* STM32F746 vector table: the core exceptions and USART1 (handlers in common/port_common.c and
 * port_stm32f746.c). */
#include "common/port_common.h"

extern uint32_t _estack;

static void unused_irq(void) {}

#define USART1_IRQ 37

__attribute__((section(".isr_vector"), used)) static void (*const vectors[16 + USART1_IRQ + 1])(void) = {
    [0] = (void (*)(void))&_estack,
    [1] = Reset_Handler,
    [2] = port_other_fault_handler, [3] = port_hard_fault_handler, [4] = port_other_fault_handler,
    [5] = port_other_fault_handler, [6] = port_other_fault_handler, [11] = port_other_fault_handler,
    [12] = port_other_fault_handler, [14] = port_other_fault_handler, [15] = unused_irq,
    [16 ... 16 + USART1_IRQ - 1] = unused_irq,
    [16 + USART1_IRQ] = port_uart_rx_irq,
};
