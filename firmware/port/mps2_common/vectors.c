/* Vector table and reset handler for Cortex-M boards whose memory needs no clock set-up (the
 * MPS2 FPGA images that QEMU emulates): copy .data, zero .bss, enable the FPU, call main. */
#include <stdint.h>

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
extern int main(void);
void port_uart_rx_irq(void);
void port_systick_irq(void);
void port_fault(const char *what);

void Reset_Handler(void)
{
    uint32_t *src = &_sidata;
    for (uint32_t *dst = &_sdata; dst < &_edata;) *dst++ = *src++;
    for (uint32_t *dst = &_sbss; dst < &_ebss;) *dst++ = 0;
    /* CPACR: full access to CP10/CP11 (the FPU) before any float instruction runs. */
    *(volatile uint32_t *)0xE000ED88 |= 0xFu << 20;
    __asm volatile("dsb\n isb");
    main();
    for (;;) __asm volatile("wfi");
}

static void hard_fault(void) { port_fault("hardfault"); }
static void other_fault(void) { port_fault("fault"); }

__attribute__((section(".isr_vector"), used)) static void (*const vectors[])(void) = {
    (void (*)(void))&_estack,
    Reset_Handler,
    other_fault,       /* NMI */
    hard_fault,        /* HardFault */
    other_fault,       /* MemManage */
    other_fault,       /* BusFault */
    other_fault,       /* UsageFault */
    0, 0, 0, 0,
    other_fault,       /* SVCall */
    other_fault,       /* DebugMonitor */
    0,
    other_fault,       /* PendSV */
    port_systick_irq,  /* SysTick */
    port_uart_rx_irq,  /* IRQ 0: UART0 RX (QEMU hw/arm/mps2.c wires UART0 RX to IRQ 0) */
};
