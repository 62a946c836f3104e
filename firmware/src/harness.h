/* The command loop: bytes from the UART in, replies out (see protocol.h for the grammar). */
#ifndef KWS_HARNESS_H
#define KWS_HARNESS_H

void kws_harness_boot(void);      /* banner: timestamp mode, timestamp, init done, ready */
void kws_harness_byte(char c);    /* feed one received byte; runs a command when it ends */

#endif
