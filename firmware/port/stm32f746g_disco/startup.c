/* STM32F746 vector table (core exceptions + USART1) and reset handler. */
#include <stdint.h>

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
extern int main(void);
void port_uart_rx_irq(void);
void port_fault(const char *what);

void Reset_Handler(void)
{
    uint32_t *src = &_sidata;
    for (uint32_t *dst = &_sdata; dst < &_edata;) *dst++ = *src++;
    for (uint32_t *dst = &_sbss; dst < &_ebss;) *dst++ = 0;
    *(volatile uint32_t *)0xE000ED88 |= 0xFu << 20; /* CPACR: enable the FPU */
    __asm volatile("dsb\n isb");
    main();
    for (;;) __asm volatile("wfi");
}

static void hard_fault(void) { port_fault("hardfault"); }
static void other_fault(void) { port_fault("fault"); }
static void unused_irq(void) {}

#define USART1_IRQ 37

__attribute__((section(".isr_vector"), used)) static void (*const vectors[16 + USART1_IRQ + 1])(void) = {
    [0] = (void (*)(void))&_estack,
    [1] = Reset_Handler,
    [2] = other_fault, [3] = hard_fault, [4] = other_fault, [5] = other_fault, [6] = other_fault,
    [11] = other_fault, [12] = other_fault, [14] = other_fault, [15] = unused_irq,
    [16 ... 16 + USART1_IRQ - 1] = unused_irq,
    [16 + USART1_IRQ] = port_uart_rx_irq,
};
