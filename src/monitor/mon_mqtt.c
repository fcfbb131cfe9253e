/* mon_mqtt.c - the MQTT subscription (see mon.h). */
#include "monitor/mon.h"

int
mon_mqtt_start(struct store *s, const struct gu_config *cfg,
               struct mon_mqtt **out, struct gu_err *err)
{
    (void)s;
    (void)cfg;
    (void)err;
    *out = NULL;
    return 0;
}

void
mon_mqtt_stop(struct mon_mqtt *m)
{
    (void)m;
}
