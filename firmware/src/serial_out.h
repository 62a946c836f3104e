/* Reply formatting without printf: the firmware stays small and needs no newlib stdio. */
#ifndef KWS_SERIAL_OUT_H
#define KWS_SERIAL_OUT_H

#include <stddef.h>
#include <stdint.h>

void out_str(const char *s);
void out_u64(uint64_t value);
void out_i32(int32_t value);
/* value with `decimals` digits after the point, rounded half away from zero */
void out_fixed(float value, int decimals);
void out_hex(const uint8_t *data, size_t n);
void out_line(const char *s); /* s + "\r\n" */
void out_eol(void);

#endif
