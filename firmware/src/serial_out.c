#include "serial_out.h"

#include "port.h"

void out_str(const char *s)
{
    size_t n = 0;
    while (s[n]) n++;
    port_write(s, n);
}

void out_eol(void) { port_write("\r\n", 2); }

void out_line(const char *s)
{
    out_str(s);
    out_eol();
}

void out_u64(uint64_t value)
{
    char digits[20];
    int n = 0;
    do {
        digits[n++] = (char)('0' + value % 10u);
        value /= 10u;
    } while (value);
    char text[20];
    for (int i = 0; i < n; i++) text[i] = digits[n - 1 - i];
    port_write(text, (size_t)n);
}

void out_i32(int32_t value)
{
    if (value < 0) {
        port_write("-", 1);
        out_u64((uint64_t)(-(int64_t)value));
    } else {
        out_u64((uint64_t)value);
    }
}

void out_fixed(float value, int decimals)
{
    uint32_t scale = 1;
    for (int i = 0; i < decimals; i++) scale *= 10u;
    int negative = value < 0.0f;
    float magnitude = negative ? -value : value;
    uint64_t scaled = (uint64_t)(magnitude * (float)scale + 0.5f);
    if (negative && scaled) port_write("-", 1);
    out_u64(scaled / scale);
    if (decimals == 0) return;
    port_write(".", 1);
    uint64_t frac = scaled % scale;
    for (uint32_t d = scale / 10u; d; d /= 10u) {
        char c = (char)('0' + (frac / d) % 10u);
        port_write(&c, 1);
    }
}

void out_hex(const uint8_t *data, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        char pair[2] = {digits[data[i] >> 4], digits[data[i] & 15]};
        port_write(pair, 2);
    }
}
