/* MPS2 (QEMU mps2-an500 / mps2-an386): CMSDK APB UART0 and SysTick.
 *
 * Timing: SysTick counts the 25 MHz system clock. Under QEMU -icount shift=0 each guest
 * instruction advances virtual time by 1 ns, so one tick is 40 instructions. Reception is
 * interrupt driven into a ring buffer and the core sleeps in WFI meanwhile, so an idle board
 * costs the host no CPU.
 */
#include "common/port_common.h"
#include "port.h"

#define SYSCLK_HZ 25000000u
#define INSTRUCTIONS_PER_TICK 40u /* 1e9 instructions/s at shift=0 over the 25 MHz tick */

#define UART0_BASE 0x40004000u
#define UART_DATA (*(volatile uint32_t *)(UART0_BASE + 0x00))
#define UART_STATE (*(volatile uint32_t *)(UART0_BASE + 0x04))
#define UART_CTRL (*(volatile uint32_t *)(UART0_BASE + 0x08))
#define UART_INTSTATUS (*(volatile uint32_t *)(UART0_BASE + 0x0C))
#define UART_BAUDDIV (*(volatile uint32_t *)(UART0_BASE + 0x10))
#define UART_STATE_TXFULL 1u
#define UART_CTRL_TX_EN 1u
#define UART_CTRL_RX_EN 2u
#define UART_CTRL_RX_INT_EN 8u
#define UART_INT_RX 2u

#define SYST_CSR (*(volatile uint32_t *)0xE000E010)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018)
#define SYST_RELOAD 0x00FFFFFFu
#define NVIC_ISER0 (*(volatile uint32_t *)0xE000E100)

static volatile uint32_t systick_wraps;

void port_uart_rx_irq(void)
{
    UART_INTSTATUS = UART_INT_RX;
    port_rx_push((uint8_t)UART_DATA);
}

void port_systick_irq(void) { systick_wraps++; }

void port_init(void)
{
    UART_BAUDDIV = SYSCLK_HZ / 115200u;
    UART_CTRL = UART_CTRL_TX_EN | UART_CTRL_RX_EN | UART_CTRL_RX_INT_EN;
    NVIC_ISER0 = 1u << 0;
    SYST_RVR = SYST_RELOAD;
    SYST_CVR = 0;
    SYST_CSR = 7u; /* enable, interrupt on wrap, processor clock */
}

void port_write(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        while (UART_STATE & UART_STATE_TXFULL) {
        }
        UART_DATA = (uint8_t)s[i];
    }
}

uint64_t port_ticks(void)
{
    uint32_t wraps, value;
    do { /* re-read if the wrap interrupt ran between the two loads */
        wraps = systick_wraps;
        value = SYST_CVR;
    } while (wraps != systick_wraps);
    return (uint64_t)wraps * (SYST_RELOAD + 1u) + (SYST_RELOAD - value);
}

uint64_t port_ticks_to_us(uint64_t ticks) { return ticks / (SYSCLK_HZ / 1000000u); }

uint64_t port_ticks_to_stage_units(uint64_t ticks) { return ticks * INSTRUCTIONS_PER_TICK; }

const char *port_stage_unit(void) { return "instructions"; }
