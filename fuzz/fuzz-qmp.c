/* Fuzz the QMP client: the input is what QEMU says (greeting, replies, events). The
 * client connects, negotiates, runs a few commands and reads events, each checked with
 * the typed getters, as the guest model does. */
#include <haywire/haywire.h>
#include "fuzz-peer.h"

int LLVMFuzzerTestOneInput(const guint8 *data, gsize size);

static void
client(const char *addr)
{
  /* A short time-out: the input ends with end of file anyway. */
  HwQmp *qmp = hw_qmp_connect(addr, 50, NULL);
  if (qmp != NULL) {
    hw_qmp_get_version(qmp);
    JsonObject *st = hw_qmp_execute_object(qmp, "query-status", NULL, NULL);
    if (st != NULL) {
      const char *s;
      gboolean b;
      hw_json_get_string(st, "status", &s, NULL);
      hw_json_get_bool(st, "running", &b, NULL);
      json_object_unref(st);
    }
    JsonNode *cpus = hw_qmp_execute(qmp, "query-cpus-fast", NULL, NULL);
    if (cpus != NULL)
      json_node_unref(cpus);
    g_free(hw_qmp_hmp(qmp, "info registers", 0, NULL));
    hw_qmp_poll_events(qmp, 0, NULL);
    HwQmpEvent *e;
    while ((e = hw_qmp_pop_event(qmp)) != NULL) {
      gint64 i;
      JsonArray *a;
      if (e->data) {
        hw_json_get_int(e->data, "id", &i, NULL);
        hw_json_get_array(e->data, "list", &a, NULL);
      }
      hw_qmp_event_free(e);
    }
    hw_qmp_free(qmp);
  }
}

int
LLVMFuzzerTestOneInput(const guint8 *data, gsize size)
{
  return fuzz_peer_run(data, size, client);
}
