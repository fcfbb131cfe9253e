/*
 * fuzz_config.c - libFuzzer target for the configuration parser: INI text
 * from guichet.conf, validated against the settings table. Any input must
 * give either a valid configuration or GU_ECONFIG with a message, never a
 * crash or a leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    struct gu_err err;
    struct gu_config *c = NULL;
    if (gu_config_defaults(&c, &err) == 0) {
        int rc = gu_config_parse_string(c, text, &err);
        if (rc != 0 && rc != GU_ECONFIG && rc != GU_ENOMEM)
            abort();
        if (rc == GU_ECONFIG && err.user[0] == '\0')
            abort(); /* every refusal must explain itself */
        /* Values read back must be consistent with their types. */
        if (gu_config_int(c, "server.threads") < 0 ||
            gu_config_int(c, "server.max_body") < 1024)
            abort();
        gu_config_free(c);
    }
    free(text);
    return 0;
}
