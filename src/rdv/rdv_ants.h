/*
 * rdv_ants.h - ANTS helpers beyond the contract in rdv.h, for the other
 * rdv files (rdv_book.c) and the tests. The contract itself
 * (rdv_ants_check, rdv_ants_queue, rdv_ants_run, rdv_ants_routes) stays
 * in rdv.h.
 */
#ifndef RDV_RDV_ANTS_H
#define RDV_RDV_ANTS_H

#include "rdv/rdv.h"

/*
 * true when ants.url is set. rdv_ants_queue() has no configuration: a
 * caller skips it when this is false, so that nothing is queued while the
 * connector is off. Rows queued anyway are never sent while it is off
 * (rdv_ants_run makes no connection) and are deleted after
 * rdv.retention_days like every other row of the queue.
 */
bool rdv_ants_enabled(const struct gu_config *cfg);

/*
 * The reading of a GET /status answer, apart from the transport (the
 * fuzz target fuzz/fuzz_ants_status.c feeds it): `body` (len bytes, any
 * content) for the canonical numbers ids[0..n). 0 with *state and *detail
 * (French, in a) set as rdv_ants_check() documents, or GU_EBUSY with the
 * French "could not check" message when the body is not a well-formed
 * answer for every number asked.
 */
int rdv_ants_status_parse(struct gu_arena *a, const char *body, size_t len,
                          const char *const *ids, size_t n,
                          enum rdv_ants_state *state, const char **detail,
                          struct gu_err *err);

/*
 * Hub endpoint bounds (rdv_ants_hub.c): meeting_point_ids or
 * application_ids per request; days of slots answered from today.
 */
#define RDV_ANTS_HUB_IDS_MAX 100
#define RDV_ANTS_HUB_DAYS_MAX 90

#endif
