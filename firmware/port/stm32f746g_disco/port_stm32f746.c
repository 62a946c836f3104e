/* STM32F746G-DISCO: USART1 at 115200 (ST-LINK virtual COM port) and the DWT cycle counter.
 *
 * The core runs from the 16 MHz HSI as after reset (no PLL set-up: fewer ways to brick a board);
 * stage times are reported in microseconds from DWT->CYCCNT, so they are real whatever the clock.
 */
#include "common/port_common.h"
#include "port.h"

#define CORE_HZ 16000000u

#define RCC_BASE 0x40023800u
#define RCC_AHB1ENR (*(volatile uint32_t *)(RCC_BASE + 0x30))
#define RCC_APB2ENR (*(volatile uint32_t *)(RCC_BASE + 0x44))
#define GPIOA_BASE 0x40020000u
#define GPIOB_BASE 0x40020400u
#define GPIO_MODER(b) (*(volatile uint32_t *)((b) + 0x00))
#define GPIO_AFRL(b) (*(volatile uint32_t *)((b) + 0x20))
#define GPIO_AFRH(b) (*(volatile uint32_t *)((b) + 0x24))
#define USART1_BASE 0x40011000u
#define USART_CR1 (*(volatile uint32_t *)(USART1_BASE + 0x00))
#define USART_BRR (*(volatile uint32_t *)(USART1_BASE + 0x0C))
#define USART_ISR (*(volatile uint32_t *)(USART1_BASE + 0x1C))
#define USART_ICR (*(volatile uint32_t *)(USART1_BASE + 0x20))
#define USART_RDR (*(volatile uint32_t *)(USART1_BASE + 0x24))
#define USART_TDR (*(volatile uint32_t *)(USART1_BASE + 0x28))
#define USART_ISR_RXNE (1u << 5)
#define USART_ISR_TXE (1u << 7)
#define USART_ISR_ORE (1u << 3)
#define NVIC_ISER1 (*(volatile uint32_t *)0xE000E104)
#define DEMCR (*(volatile uint32_t *)0xE000EDFC)
#define DWT_CTRL (*(volatile uint32_t *)0xE0001000)
#define DWT_CYCCNT (*(volatile uint32_t *)0xE0001004)
#define DWT_LAR (*(volatile uint32_t *)0xE0001FB0)

static uint32_t cycles_last, cycles_high; /* CYCCNT extended to 64 bits by the readers */

void port_uart_rx_irq(void)
{
    if (USART_ISR & USART_ISR_ORE) USART_ICR = USART_ISR_ORE;
    while (USART_ISR & USART_ISR_RXNE) {
        port_rx_push((uint8_t)USART_RDR);
    }
}

void port_init(void)
{
    RCC_AHB1ENR |= (1u << 0) | (1u << 1); /* GPIOA, GPIOB */
    RCC_APB2ENR |= 1u << 4;               /* USART1 */
    /* PA9 = USART1_TX, PB7 = USART1_RX: alternate function 7 */
    GPIO_MODER(GPIOA_BASE) = (GPIO_MODER(GPIOA_BASE) & ~(3u << 18)) | (2u << 18);
    GPIO_AFRH(GPIOA_BASE) = (GPIO_AFRH(GPIOA_BASE) & ~(15u << 4)) | (7u << 4);
    GPIO_MODER(GPIOB_BASE) = (GPIO_MODER(GPIOB_BASE) & ~(3u << 14)) | (2u << 14);
    GPIO_AFRL(GPIOB_BASE) = (GPIO_AFRL(GPIOB_BASE) & ~(15u << 28)) | (7u << 28);
    USART_BRR = (CORE_HZ + 115200u / 2) / 115200u;
    USART_CR1 = (1u << 5) | (1u << 3) | (1u << 2) | 1u; /* RXNEIE, TE, RE, UE */
    NVIC_ISER1 = 1u << (37 - 32);
    DEMCR |= 1u << 24; /* TRCENA */
    DWT_LAR = 0xC5ACCE55u;
    DWT_CYCCNT = 0;
    DWT_CTRL |= 1u;
}

void port_write(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        while (!(USART_ISR & USART_ISR_TXE)) {
        }
        USART_TDR = (uint8_t)s[i];
    }
}

/* Callers read the timer at least once per 2^32 cycles (268 s at 16 MHz): every command does. */
uint64_t port_ticks(void)
{
    uint32_t now = DWT_CYCCNT;
    if (now < cycles_last) cycles_high++;
    cycles_last = now;
    return ((uint64_t)cycles_high << 32) | now;
}

uint64_t port_ticks_to_us(uint64_t ticks) { return ticks / (CORE_HZ / 1000000u); }

uint64_t port_ticks_to_stage_units(uint64_t ticks) { return port_ticks_to_us(ticks); }

const char *port_stage_unit(void) { return "us"; }
