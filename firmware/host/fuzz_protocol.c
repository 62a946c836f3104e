/* libFuzzer target: any byte stream through line assembly, parsing and the upload loader must neither
 * crash nor break their invariants (clang -fsanitize=fuzzer,address,undefined). */
#include <stdint.h>
#include <stdlib.h>

#include "protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t buffer[64];
    kws_line_t line;
    kws_loader_t loader = {0};
    kws_line_reset(&line);
    for (size_t i = 0; i < size; i++) {
        kws_line_status_t status = kws_line_feed(&line, (char)data[i]);
        if (line.len > KWS_PROTO_MAX_LINE) abort();
        if (status != KWS_LINE_READY) {
            if (status == KWS_LINE_TOO_LONG) kws_line_reset(&line);
            if (status == KWS_LINE_RESET) kws_loader_abort(&loader);
            continue;
        }
        kws_cmd_t cmd;
        if (kws_parse(line.text, line.len, &cmd) == KWS_PARSE_OK) {
            if (cmd.data_len > KWS_PROTO_MAX_DATA) abort();
            if (cmd.kind == KWS_CMD_DB_LOAD) kws_loader_begin(&loader, KWS_TARGET_INPUT, buffer, sizeof buffer, cmd.count);
            if (cmd.kind == KWS_CMD_DB_DATA) kws_loader_append(&loader, cmd.data, cmd.data_len);
            if (loader.target != KWS_TARGET_NONE && loader.received > loader.expected) abort();
        }
        kws_line_reset(&line);
    }
    return 0;
}
