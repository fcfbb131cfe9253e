/*
 * rdv_jobs.c - the appointment domain's background jobs (see rdv_jobs()).
 * One row per job: name, period in seconds, function.
 */
#include "rdv/rdv_internal.h"

static const struct notify_job jobs[] = {
    {"rdv.noshow", 86400, rdv_risk_train, true}, /* no-show model, daily */
    {"rdv.ants", 10, rdv_ants_run, false},        /* ANTS declarations queue */
    {"rdv.remind", 300, rdv_remind_run, false},   /* reminders 4, 2 and 1 days before */
    {"rdv.sms", 60, rdv_sms_run, false},          /* SMS queue (rdv.sms_url/command) */
    {"rdv.waitlist", 60, rdv_wait_run, false},    /* offer freed slots, expire holds */
    {"rdv.purge", 86400, rdv_purge_job, true},   /* anonymise, delete old logs */
};

const struct notify_job *
rdv_jobs(size_t *count)
{
    *count = GU_ARRAY_LEN(jobs);
    return jobs;
}
