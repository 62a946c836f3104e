/* Console output of the kernel benchmark images (port_write, no printf). */
#ifndef KWS_BENCH_PRINT_H
#define KWS_BENCH_PRINT_H

#include <stdint.h>
#include <string.h>

#include "port.h"

static void print(const char *s)
{
    port_write(s, strlen(s));
}

static void print_u32(uint32_t v)
{
    char buf[11];
    int i = 10;
    buf[i] = 0;
    do {
        buf[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    print(buf + i);
}

#endif /* KWS_BENCH_PRINT_H */
