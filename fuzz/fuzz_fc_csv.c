/*
 * fuzz_fc_csv.c - libFuzzer target for the forecast CSV parser
 * (fc_csv_parse): the first byte picks the frequency (day, hour, 15 min)
 * and the commune's time zone, the rest is the file.
 *
 * Invariants: the parser accepts or refuses with GU_EINVAL/GU_ETOOBIG
 * and a French message; an accepted file has at least one row, rows with
 * finite values within bounds, instants aligned on the period, line
 * numbers increasing, site names valid UTF-8 without control characters,
 * and no (site, t) twice.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "forecast/fc_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gu_arena *a;
    struct fc_csv csv;
    struct gu_err err;
    enum fc_freq freq;
    enum gu_tz tz;
    int rc;

    if (size < 1)
        return 0;
    freq = (enum fc_freq)(data[0] % 3);
    tz = (enum gu_tz)((data[0] / 3) % 5);
    a = gu_arena_new(0);
    if (!a)
        return 0;
    rc = fc_csv_parse((const char *)data + 1, size - 1, freq, tz, a, &csv,
                      &err);
    if (rc < 0) {
        if (rc != GU_EINVAL && rc != GU_ETOOBIG && rc != GU_ENOMEM)
            abort();
        if (rc != GU_ENOMEM && (err.user[0] == '\0' ||
                                !gu_utf8_valid(err.user, strlen(err.user))))
            abort();
    } else {
        if (csv.n == 0 || (csv.sep != ';' && csv.sep != ',' &&
                           csv.sep != '\t'))
            abort();
        for (size_t i = 0; i < csv.n; i++) {
            const struct fc_csv_row *r = &csv.rows[i];
            if (!isfinite(r->value) || fabs(r->value) > FC_VALUE_MAX)
                abort();
            if (!isnan(r->staff) &&
                (!isfinite(r->staff) || fabs(r->staff) > FC_VALUE_MAX))
                abort();
            if (freq != FC_FREQ_DAY && r->t % fc_freq_seconds(freq) != 0)
                abort();
            if (i > 0 && r->line <= csv.rows[i - 1].line)
                abort();
            if (!gu_utf8_valid(r->site, strlen(r->site)))
                abort();
            for (const char *s = r->site; *s; s++)
                if ((unsigned char)*s < 0x20)
                    abort();
            /* Duplicates are refused: check a few neighbours directly. */
            for (size_t j = i + 1; j < csv.n && j < i + 8; j++)
                if (csv.rows[j].t == r->t &&
                    strcmp(csv.rows[j].site, r->site) == 0)
                    abort();
        }
    }
    gu_arena_free(a);
    return 0;
}
