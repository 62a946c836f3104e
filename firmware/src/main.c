/* Firmware entry: the port brings up the UART and timer, then the board answers commands forever. */
#include "harness.h"
#include "port.h"

int main(void)
{
    port_init();
    kws_harness_boot();
    for (;;) kws_harness_byte((char)port_getc());
}
