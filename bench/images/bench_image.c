/*
 * bench_image.c - how long tri_image_clean() takes on residents' photos
 * (the re-encoding without metadata that every photo of /demande and of
 * an e-mail goes through, twice on the web form: once for a per-file
 * message, once inside tri_intake). A figure, never pass/fail.
 *
 * usage: bench_image [-n RUNS] FILE...   prints, per file: type, size in
 * and out, pixels, best and median time of RUNS runs (default 5).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "triage/tri.h"

static double
now_s(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int
cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
    int runs = 5, i = 1;

    if (argc > 2 && strcmp(argv[1], "-n") == 0) {
        runs = (int)strtol(argv[2], NULL, 10);
        if (runs < 1 || runs > 100)
            runs = 5;
        i = 3;
    }
    printf("%-28s %-10s %10s %10s %8s %8s\n", "fichier", "type", "octets",
           "sortie", "min s", "médiane");
    for (; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        unsigned char *buf;
        long n;
        double t[100];
        const char *ct = "?";
        size_t out_n = 0;
        int rc = 0;

        if (!f) {
            perror(argv[i]);
            return 1;
        }
        fseek(f, 0, SEEK_END);
        n = ftell(f);
        rewind(f);
        buf = malloc((size_t)n);
        if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
            fclose(f);
            return 1;
        }
        fclose(f);
        for (int r = 0; r < runs; r++) {
            struct gu_arena *a = gu_arena_new(0);
            const void *out;
            struct gu_err err;
            double t0 = now_s();

            rc = tri_image_clean(a, buf, (size_t)n, &out, &out_n, &ct, &err);
            t[r] = now_s() - t0;
            if (rc < 0) {
                printf("%-28s refusée : %s\n", argv[i], err.msg);
                gu_arena_free(a);
                break;
            }
            gu_arena_free(a);
        }
        if (rc == 0) {
            qsort(t, (size_t)runs, sizeof(t[0]), cmp_d);
            printf("%-28s %-10s %10ld %10zu %8.3f %8.3f\n", argv[i], ct, n,
                   out_n, t[0], t[runs / 2]);
        }
        free(buf);
    }
    return 0;
}
