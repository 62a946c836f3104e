/* Reset handler, fault reporting and the UART receive ring, the same on every Cortex-M port. */
#include "common/port_common.h"
#include "port.h"

#ifndef KWS_BOARD_NAME
#error "the port's port.mk must define KWS_BOARD_NAME"
#endif

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss;
extern int main(void);

/* No clock set-up: the MPS2 images QEMU emulates need none, and the STM32 runs from its reset clock. */
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

void port_hard_fault_handler(void) { port_fault("hardfault"); }

void port_other_fault_handler(void) { port_fault("fault"); }

void port_fault(const char *what)
{
    static const char prefix[] = "\r\ne-fault-";
    port_write(prefix, sizeof prefix - 1);
    const char *end = what;
    while (*end) end++;
    port_write(what, (size_t)(end - what));
    port_write("\r\n", 2);
    for (;;) __asm volatile("cpsid i\n wfi");
}

static volatile uint8_t rx_ring[256];
static volatile uint8_t rx_head, rx_tail; /* uint8_t indices wrap at the ring size */

void port_rx_push(uint8_t byte)
{
    if ((uint8_t)(rx_head + 1) != rx_tail) {
        rx_ring[rx_head] = byte;
        rx_head++;
    }
}

int port_getc(void)
{
    for (;;) {
        __asm volatile("cpsid i" ::: "memory");
        if (rx_head != rx_tail) {
            uint8_t byte = rx_ring[rx_tail];
            rx_tail++;
            __asm volatile("cpsie i" ::: "memory");
            return byte;
        }
        /* WFI wakes on a pending interrupt even with PRIMASK set: no lost wake-up. */
        __asm volatile("wfi\n cpsie i" ::: "memory");
    }
}

const char *port_board_name(void) { return KWS_BOARD_NAME; }
