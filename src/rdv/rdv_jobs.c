/*
 * rdv_jobs.c - the appointment domain's background jobs (see rdv_jobs()).
 * One row per job: name, period in seconds, function.
 */
#include "rdv/rdv.h"

static const struct notify_job jobs[] = {
    {"rdv.noshow", 86400, rdv_risk_train}, /* no-show model, daily */
    {"rdv.ants", 10, rdv_ants_run},        /* ANTS declarations queue */
};

const struct notify_job *
rdv_jobs(size_t *count)
{
    *count = GU_ARRAY_LEN(jobs);
    return jobs;
}
