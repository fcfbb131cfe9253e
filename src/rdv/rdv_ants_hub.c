/*
 * rdv_ants_hub.c - the endpoints the national search engine (France
 * Titres' « moteur de recherche », rendezvouspasseport.ants.gouv.fr)
 * calls: getManagedMeetingPoints, availableTimeSlots, searchApplicationIds.
 * (Being written; see docs/ants.md.)
 */
#include "rdv/rdv_ants.h"
#include "web/http.h"

const struct http_routes rdv_ants_routes = {"rdv-ants", NULL, 0};
