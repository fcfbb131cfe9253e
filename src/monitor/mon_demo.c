/* mon_demo.c - the demo commune's assets and sensors (see mon.h). */
#include "monitor/mon_service.h"

int
mon_demo_seed(struct store_conn *c, const char *insee, struct gu_err *err)
{
    (void)c;
    (void)insee;
    (void)err;
    return 0;
}
