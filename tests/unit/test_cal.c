/*
 * test_cal.c - the French calendar: day numbers, parsing, Easter and
 * public holidays.
 */
#include <string.h>

#include "core/core.h"
#include "harness.h"

static void
test_day_roundtrip(void)
{
    CHECK_EQ(gu_day_from_ymd(1970, 1, 1), 0);
    CHECK_EQ(gu_day_from_ymd(2000, 3, 1), 11017);
    CHECK_EQ(gu_day_weekday(gu_day_from_ymd(2026, 11, 30)), 1); /* lundi */
    CHECK_EQ(gu_day_weekday(gu_day_from_ymd(1970, 1, 1)), 4);
    CHECK_EQ(gu_day_weekday(gu_day_from_ymd(1969, 12, 28)), 7);
    for (int64_t day = -700000; day < 800000; day += 37) {
        int y, m, d;
        gu_day_to_ymd(day, &y, &m, &d);
        if (gu_day_from_ymd(y, m, d) != day || !gu_date_valid(y, m, d)) {
            CHECK(0);
            break;
        }
    }
}

static void
test_date_parse(void)
{
    int64_t day = 0;
    char buf[16];
    CHECK_EQ(gu_date_parse("2026-11-30", &day), 0);
    gu_day_iso(day, buf, sizeof(buf));
    CHECK_STR(buf, "2026-11-30");
    CHECK_EQ(gu_date_parse("30/11/2026", &day), 0);
    gu_day_iso(day, buf, sizeof(buf));
    CHECK_STR(buf, "2026-11-30");
    CHECK_EQ(gu_date_parse("29/02/2024", &day), 0);
    CHECK_EQ(gu_date_parse("29/02/2026", &day), GU_EINVAL);
    CHECK_EQ(gu_date_parse("31/04/2026", &day), GU_EINVAL);
    CHECK_EQ(gu_date_parse("2026-13-01", &day), GU_EINVAL);
    CHECK_EQ(gu_date_parse("30/11/26", &day), GU_EINVAL);
    CHECK_EQ(gu_date_parse("30/11-2026", &day), GU_EINVAL);
    CHECK_EQ(gu_date_parse("", &day), GU_EINVAL);
    CHECK_EQ(gu_date_parse(NULL, &day), GU_EINVAL);
    CHECK(!gu_date_valid(1900, 2, 29));
    CHECK(gu_date_valid(2000, 2, 29));
}

static void
test_easter(void)
{
    static const struct {
        int y, m, d;
    } known[] = {{1961, 4, 2},  {2000, 4, 23}, {2008, 3, 23}, {2011, 4, 24},
                 {2019, 4, 21}, {2024, 3, 31}, {2025, 4, 20}, {2026, 4, 5},
                 {2038, 4, 25}, {2285, 3, 22}};
    for (size_t i = 0; i < GU_ARRAY_LEN(known); i++)
        CHECK_EQ(gu_easter(known[i].y),
                 gu_day_from_ymd(known[i].y, known[i].m, known[i].d));
}

static void
test_holidays(void)
{
    /* 2026 in metropolitan France: 11 public holidays. */
    int count = 0;
    int64_t start = gu_day_from_ymd(2026, 1, 1);
    for (int64_t day = start; day < gu_day_from_ymd(2027, 1, 1); day++) {
        if (gu_holiday(day, GU_HOL_METROPOLE))
            count++;
    }
    CHECK_EQ(count, 11);
    CHECK_STR(gu_holiday(gu_day_from_ymd(2026, 4, 6), GU_HOL_METROPOLE),
              "Lundi de Pâques");
    CHECK_STR(gu_holiday(gu_day_from_ymd(2026, 5, 14), GU_HOL_METROPOLE),
              "Ascension");
    CHECK_STR(gu_holiday(gu_day_from_ymd(2026, 5, 25), GU_HOL_METROPOLE),
              "Lundi de Pentecôte");
    CHECK(gu_holiday(gu_day_from_ymd(2026, 4, 3), GU_HOL_METROPOLE) == NULL);
    CHECK_STR(gu_holiday(gu_day_from_ymd(2026, 4, 3), GU_HOL_ALSACE_MOSELLE),
              "Vendredi saint");
    CHECK_STR(gu_holiday(gu_day_from_ymd(2026, 12, 26), GU_HOL_ALSACE_MOSELLE),
              "Saint-Étienne");
    CHECK_STR(gu_holiday(gu_day_from_ymd(2026, 12, 20), GU_HOL_REUNION),
              "Abolition de l'esclavage");
    CHECK(gu_holiday(gu_day_from_ymd(2026, 12, 20), GU_HOL_METROPOLE) == NULL);
    CHECK(gu_holiday(gu_day_from_ymd(2026, 11, 30), GU_HOL_METROPOLE) == NULL);
}

TESTS(T(test_day_roundtrip), T(test_date_parse), T(test_easter),
      T(test_holidays))
