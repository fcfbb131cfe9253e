/*
 * test_cal.c - the French calendar: day numbers, parsing, Easter and
 * public holidays.
 */
#include <math.h>
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

static void
test_holiday_rules_for(void)
{
    CHECK_EQ(gu_holiday_rules_for("57463", "B"), GU_HOL_ALSACE_MOSELLE);
    CHECK_EQ(gu_holiday_rules_for("67482", "B"), GU_HOL_ALSACE_MOSELLE);
    CHECK_EQ(gu_holiday_rules_for("75056", "C"), GU_HOL_METROPOLE);
    CHECK_EQ(gu_holiday_rules_for("97411", "reunion"), GU_HOL_REUNION);
}

static void
test_tz(void)
{
    char buf[40];
    int64_t day;
    int min;

    /* Winter and summer in Paris. */
    gu_tz_iso(GU_TZ_PARIS, gu_day_from_ymd(2026, 12, 3), 9 * 60 + 30, buf,
              sizeof(buf));
    CHECK_STR(buf, "2026-12-03T09:30:00+01:00");
    gu_tz_iso(GU_TZ_PARIS, gu_day_from_ymd(2026, 7, 14), 14 * 60, buf,
              sizeof(buf));
    CHECK_STR(buf, "2026-07-14T14:00:00+02:00");
    CHECK_EQ(gu_tz_to_utc(GU_TZ_PARIS, gu_day_from_ymd(2026, 12, 3), 570),
             gu_day_from_ymd(2026, 12, 3) * 86400 + 510 * 60);
    /* Spring forward 2026-03-29: 02:30 does not exist, lands at 03:30. */
    int64_t t = gu_tz_to_utc(GU_TZ_PARIS, gu_day_from_ymd(2026, 3, 29), 150);
    gu_tz_from_utc(GU_TZ_PARIS, t, &day, &min);
    CHECK_EQ(min, 210);
    /* Autumn overlap 2026-10-25: 02:30 is taken in summer time. */
    t = gu_tz_to_utc(GU_TZ_PARIS, gu_day_from_ymd(2026, 10, 25), 150);
    CHECK_EQ(t, gu_day_from_ymd(2026, 10, 25) * 86400 + 30 * 60);
    /* Round trips over a year, every 37 minutes. */
    for (int64_t u = 1767225600; u < 1767225600 + 365 * 86400; u += 37 * 60) {
        gu_tz_from_utc(GU_TZ_PARIS, u, &day, &min);
        int64_t back = gu_tz_to_utc(GU_TZ_PARIS, day, min);
        CHECK(back == u - u % 60 || back == u - u % 60 - 3600);
    }
    gu_tz_iso(GU_TZ_ANTILLES, gu_day_from_ymd(2026, 7, 14), 8 * 60, buf,
              sizeof(buf));
    CHECK_STR(buf, "2026-07-14T08:00:00-04:00");
    CHECK_EQ(gu_tz_of_zone("reunion"), GU_TZ_REUNION);
    CHECK_STR(gu_tz_name(GU_TZ_PARIS), "Europe/Paris");

    CHECK_EQ(gu_tz_parse(GU_TZ_PARIS, "2026-12-03T09:30", &day, &min), 0);
    CHECK_EQ(day, gu_day_from_ymd(2026, 12, 3));
    CHECK_EQ(min, 570);
    CHECK_EQ(gu_tz_parse(GU_TZ_PARIS, "2026-12-03T08:30:00Z", &day, &min), 0);
    CHECK_EQ(min, 570);
    CHECK_EQ(gu_tz_parse(GU_TZ_PARIS, "2026-12-03 09:30:00+01:00", &day, &min),
             0);
    CHECK_EQ(min, 570);
    CHECK_EQ(gu_tz_parse(GU_TZ_PARIS, "2026-02-30T09:30", &day, &min),
             GU_EINVAL);
    CHECK_EQ(gu_tz_parse(GU_TZ_PARIS, "2026-12-03T24:00", &day, &min),
             GU_EINVAL);
    CHECK_EQ(gu_tz_parse(GU_TZ_PARIS, "2026-12-03T09:30+1", &day, &min),
             GU_EINVAL);
    CHECK_EQ(gu_tz_parse(GU_TZ_PARIS, "demain", &day, &min), GU_EINVAL);
}

static void
test_french_dates(void)
{
    char buf[64];

    gu_when_fr(gu_day_from_ymd(2026, 12, 3), 570, buf, sizeof(buf));
    CHECK_STR(buf, "jeudi 3 décembre 2026 à 9 h 30");
    gu_when_fr(gu_day_from_ymd(2026, 12, 1), 540, buf, sizeof(buf));
    CHECK_STR(buf, "mardi 1er décembre 2026 à 9 h");
    gu_when_fr(gu_day_from_ymd(2026, 12, 31), 1440, buf, sizeof(buf));
    CHECK_STR(buf, "vendredi 1er janvier 2027 à 0 h");
    gu_day_fr(gu_day_from_ymd(2027, 8, 15), buf, sizeof(buf));
    CHECK_STR(buf, "dimanche 15 août 2027");
    gu_hm_fr(14 * 60 + 5, buf, sizeof(buf));
    CHECK_STR(buf, "14 h 05");
    gu_duration_fr(1, buf, sizeof(buf));
    CHECK_STR(buf, "1 minute");
    gu_duration_fr(20, buf, sizeof(buf));
    CHECK_STR(buf, "20 minutes");
    gu_duration_fr(75, buf, sizeof(buf));
    CHECK_STR(buf, "1 h 15");
    gu_duration_fr(120, buf, sizeof(buf));
    CHECK_STR(buf, "2 h");
    CHECK_STR(gu_weekday_fr(8), "");
    CHECK_STR(gu_month_fr(0), "");
}

static void
test_french_numbers(void)
{
    char buf[64];

    CHECK_STR(gu_num_fr(12.5, 1, 0, "", buf, sizeof(buf)), "12,5");
    CHECK_STR(gu_num_fr(12.0, 2, GU_NUM_TRIM, "", buf, sizeof(buf)), "12");
    CHECK_STR(gu_num_fr(3.10, 2, GU_NUM_TRIM, "", buf, sizeof(buf)), "3,1");
    CHECK_STR(gu_num_fr(74.7, 2, 0, "", buf, sizeof(buf)), "74,70");
    CHECK_STR(gu_num_fr(1234567.25, 1, GU_NUM_GROUP, "", buf, sizeof(buf)),
              "1\xE2\x80\xAF" "234\xE2\x80\xAF" "567,2");
    CHECK_STR(gu_num_fr(-1234, 0, GU_NUM_GROUP, "", buf, sizeof(buf)),
              "-1\xE2\x80\xAF" "234");
    CHECK_STR(gu_num_fr(-0.004, 2, 0, "", buf, sizeof(buf)), "0,00");
    CHECK_STR(gu_num_fr(-0.04, 1, GU_NUM_TRIM, "", buf, sizeof(buf)), "0");
    CHECK_STR(gu_num_fr(NAN, 1, 0, "—", buf, sizeof(buf)), "—");
    CHECK(strlen(gu_num_fr(1e300, 0, GU_NUM_GROUP, "", buf, 8)) < 8);
}

TESTS(T(test_day_roundtrip), T(test_french_dates), T(test_french_numbers), T(test_date_parse), T(test_easter),
      T(test_holidays), T(test_holiday_rules_for), T(test_tz))
