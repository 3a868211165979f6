/* The guest model: architecture, vCPUs, run state, registers and RAM, all from QMP. */
#include "guest/guest-private.h"
#include <haywire/error.h>

#include <string.h>

#define MAX_VCPUS 4096

void
hw_guest_free(HwGuest *guest)
{
  if (guest == NULL)
    return;
  hw_signal_guard_release(guest);
  hw_guest_forget_regs(guest);
  g_free(guest->regs_cache);
  for (guint i = 0; guest->offline_regs && i < guest->vcpus; i++)
    hw_regs_free(guest->offline_regs[i]);
  g_free(guest->offline_regs);
  hw_history_free(guest->history);
  hw_physmem_free(guest->mem);
  g_free(guest->gdb_addr);
  g_free(guest->arch_name);
  g_free(guest->backend_id);
  g_free(guest->mem_path);
  g_free(guest->origin);
  g_free(guest);
}

const HwGuestArch *
hw_guest_arch_ops(HwArch arch)
{
  static const HwGuestArch *const arches[] = { &hw_guest_arch_x86_64, &hw_guest_arch_aarch64 };
  for (gsize i = 0; i < G_N_ELEMENTS(arches); i++)
    if (arches[i]->arch == arch)
      return arches[i];
  return NULL;
}

HwGuest *
hw_guest_new(HwQmp *qmp, GError **error)
{
  g_autoptr(HwGuest) guest = g_new0(HwGuest, 1);
  guest->qmp = qmp;

  g_autoptr(JsonObject) target = hw_qmp_execute_object(qmp, "query-target", NULL, error);
  const char *arch;
  if (target == NULL || !hw_json_get_string(target, "arch", &arch, error))
    return NULL;
  guest->arch_name = g_strdup(arch);
  guest->arch = hw_arch_from_name(arch);
  guest->ops = hw_guest_arch_ops(guest->arch);

  g_autoptr(JsonNode) cpus = hw_qmp_execute(qmp, "query-cpus-fast", NULL, error);
  if (cpus == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_ARRAY(cpus)) {
    g_set_error(error, HW_ERROR, HW_ERROR_PROTOCOL, "query-cpus-fast: not a list");
    return NULL;
  }
  guest->vcpus = MIN(json_array_get_length(json_node_get_array(cpus)), MAX_VCPUS);
  guest->regs_cache = g_new0(HwRegs *, MAX(guest->vcpus, 1));
  /* The history starts from the run state now: events that came before the answer are
   * older than it. */
  g_autoptr(JsonObject) st = hw_qmp_execute_object(qmp, "query-status", NULL, error);
  gboolean running;
  if (st == NULL || !hw_json_get_bool(st, "running", &running, error))
    return NULL;
  HwQmpEvent *old;
  while ((old = hw_qmp_pop_event(qmp)) != NULL)
    hw_qmp_event_free(old);
  guest->history = hw_history_new(running);
  return g_steal_pointer(&guest);
}

HwQmp *
hw_guest_get_qmp(HwGuest *guest)
{
  return guest->qmp;
}

HwArch
hw_guest_get_arch(HwGuest *guest)
{
  return guest->arch;
}

const char *
hw_guest_get_arch_name(HwGuest *guest)
{
  return guest->arch_name;
}

guint
hw_guest_get_vcpu_count(HwGuest *guest)
{
  return guest->vcpus;
}

HwPhysMem *
hw_guest_get_physmem(HwGuest *guest)
{
  return guest->mem;
}

const char *
hw_guest_get_mem_path(HwGuest *guest)
{
  return guest->mem_path;
}

const char *
hw_guest_get_backend_id(HwGuest *guest)
{
  return guest->backend_id;
}

/* ---- run state -------------------------------------------------------------------- */

/* Move the events QMP queued into the history (they came before any later reply). */
static void
sync_events(HwGuest *guest)
{
  HwQmpEvent *e;
  while (guest->qmp != NULL && (e = hw_qmp_pop_event(guest->qmp)) != NULL) {
    hw_history_record(guest->history, e);
    hw_qmp_event_free(e);
  }
}

char *
hw_guest_query_status(HwGuest *guest, gboolean *running, GError **error)
{
  if (guest->origin != NULL) {
    if (running)
      *running = FALSE;
    return g_strdup("recorded");
  }
  g_autoptr(JsonObject) st = hw_qmp_execute_object(guest->qmp, "query-status", NULL, error);
  const char *status;
  gboolean run;
  sync_events(guest);
  if (st == NULL || !hw_json_get_string(st, "status", &status, error) ||
      !hw_json_get_bool(st, "running", &run, error))
    return NULL;
  hw_history_set_running(guest->history, run);
  if (running)
    *running = run;
  return g_strdup(status);
}

const HwHistory *
hw_guest_get_history(HwGuest *guest)
{
  sync_events(guest);
  return guest->history;
}

guint64
hw_guest_get_epoch(HwGuest *guest)
{
  if (guest->origin != NULL)
    return guest->offline_epoch;
  sync_events(guest);
  return hw_history_get_epoch(guest->history);
}

gboolean
hw_guest_follow(HwGuest *guest, guint timeout_ms, GError **error)
{
  if (guest->origin != NULL)
    return TRUE;   /* a recording has no events */
  gboolean ok = hw_qmp_poll_events(guest->qmp, timeout_ms, error);
  sync_events(guest);
  return ok;
}

static gboolean
expect_running(HwGuest *guest, gboolean want, GError **error)
{
  gboolean running;
  g_autofree char *status = hw_guest_query_status(guest, &running, error);
  if (status == NULL)
    return FALSE;
  if (running != want) {
    g_set_error(error, HW_ERROR, HW_ERROR_FAILED, "guest is %s after %s", status,
                want ? "cont" : "stop");
    return FALSE;
  }
  return TRUE;
}

void
hw_guest_set_qemu_pid(HwGuest *guest, int pid)
{
  guest->qemu_pid = pid > 0 ? pid : 0;
}

gboolean
hw_guest_qemu_exited(HwGuest *guest)
{
  if (guest->origin != NULL)
    return FALSE;
  int pid = guest->qemu_pid ? guest->qemu_pid : hw_qmp_get_peer_pid(guest->qmp);
  if (pid <= 0)
    return FALSE;
  /* Gone, or a zombie its parent has not reaped yet. */
  g_autofree char *path = g_strdup_printf("/proc/%d/stat", pid);
  g_autofree char *stat = NULL;
  if (!g_file_get_contents(path, &stat, NULL, NULL))
    return TRUE;
  /* After the command name: state, ppid, pgrp, session, tty, tpgid, flags. A killed
   * QEMU closes its sockets before it turns zombie, but PF_EXITING is set before both. */
  const char *paren = strrchr(stat, ')');
  if (paren == NULL || paren[1] != ' ')
    return FALSE;
  if (paren[2] == 'Z' || paren[2] == 'X')
    return TRUE;
  g_auto(GStrv) f = g_strsplit(paren + 2, " ", 8);
  if (g_strv_length(f) < 7)
    return FALSE;
  guint64 flags = g_ascii_strtoull(f[6], NULL, 10);
  return (flags & 0x4) != 0;   /* PF_EXITING */
}

/* Whether ERROR means the QMP link broke or went silent (not an answer from QEMU). */
static gboolean
link_failed(const GError *error)
{
  return error != NULL && error->domain == HW_ERROR &&
         (error->code == HW_ERROR_DISCONNECTED || error->code == HW_ERROR_TIMEOUT);
}

/* After a broken link: QEMU gone gives HW_ERROR_GONE; else reconnect (QEMU serves a new
 * client). FALSE when there is no link to QEMU any more; *ERROR is rewritten to say so. */
static gboolean
relink(HwGuest *guest, GError **error)
{
  if (hw_guest_qemu_exited(guest)) {
    g_autofree char *was = *error ? g_strdup((*error)->message) : g_strdup("?");
    g_clear_error(error);
    g_set_error(error, HW_ERROR, HW_ERROR_GONE, "QEMU (pid %d) exited (%s)",
                hw_qmp_get_peer_pid(guest->qmp), was);
    return FALSE;
  }
  g_autoptr(GError) again = NULL;
  if (hw_qmp_reconnect(guest->qmp, &again))
    return TRUE;
  g_debug("reconnect failed: %s", again->message);
  return FALSE;
}

gboolean
hw_guest_pause(HwGuest *guest, gboolean *was_running, GError **error)
{
  gboolean running;
  g_autofree char *status = hw_guest_query_status(guest, &running, error);
  if (status == NULL)
    return FALSE;
  if (was_running)
    *was_running = running;
  if (!running) {
    guest->known_paused = TRUE;
    return TRUE;
  }
  hw_guest_forget_regs(guest);
  /* Held before "stop": a signal during the stop still resumes it. */
  hw_signal_guard_hold(guest, hw_qmp_get_fd(guest->qmp));
  GError *local = NULL;
  g_autoptr(JsonNode) r = hw_qmp_execute(guest->qmp, "stop", NULL, &local);
  if (r != NULL && expect_running(guest, FALSE, &local)) {
    guest->known_paused = TRUE;
    return TRUE;
  }
  /* We may have half-paused it: do not leave it so, over a new link if this one broke. */
  if (!link_failed(local) || relink(guest, &local)) {
    JsonNode *c = hw_qmp_execute(guest->qmp, "cont", NULL, NULL);
    if (c != NULL)
      json_node_unref(c);
  }
  hw_signal_guard_release(guest);
  g_propagate_error(error, local);
  return FALSE;
}

gboolean
hw_guest_resume(HwGuest *guest, GError **error)
{
  if (guest->origin != NULL)
    return TRUE;   /* a recording never runs */
  hw_guest_forget_regs(guest);
  GError *local = NULL;
  g_autoptr(JsonNode) r = hw_qmp_execute(guest->qmp, "cont", NULL, &local);
  if (r != NULL && expect_running(guest, TRUE, &local)) {
    hw_signal_guard_release(guest);
    return TRUE;
  }
  /* The link broke with the guest paused by us: a new link can still resume it. */
  if (link_failed(local) && relink(guest, &local)) {
    hw_signal_guard_hold(guest, hw_qmp_get_fd(guest->qmp));
    g_autoptr(JsonNode) again = hw_qmp_execute(guest->qmp, "cont", NULL, NULL);
    if (again != NULL && expect_running(guest, TRUE, NULL)) {
      g_debug("resumed over a new QMP connection after: %s", local->message);
      g_clear_error(&local);
      hw_signal_guard_release(guest);
      return TRUE;
    }
  }
  if (g_error_matches(local, HW_ERROR, HW_ERROR_GONE))
    hw_signal_guard_release(guest);   /* nobody left to resume */
  g_propagate_error(error, local);
  return FALSE;
}

/* ---- registers -------------------------------------------------------------------- */

void
hw_guest_set_gdb(HwGuest *guest, const char *addr, guint timeout_ms)
{
  g_free(guest->gdb_addr);
  guest->gdb_addr = addr && *addr ? g_strdup(addr) : NULL;
  guest->gdb_timeout_ms = timeout_ms;
}

const char *const *
hw_guest_get_register_summary(HwGuest *guest)
{
  static const char *const none[] = { NULL };
  return guest->ops ? guest->ops->summary : none;
}

gboolean
hw_guest_regs_need_gdb(HwGuest *guest)
{
  return guest->origin == NULL && guest->ops != NULL && guest->ops->needs_gdb;
}

void
hw_guest_forget_regs(HwGuest *guest)
{
  guest->known_paused = FALSE;
  for (guint i = 0; guest->regs_cache && i < guest->vcpus; i++)
    g_clear_pointer(&guest->regs_cache[i], hw_regs_free);
}

HwRegs *
hw_guest_read_regs(HwGuest *guest, guint cpu, GError **error)
{
  if (cpu >= guest->vcpus) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT,
                "no vCPU %u (the guest has %u)", cpu, guest->vcpus);
    return NULL;
  }
  if (guest->ops == NULL) {
    g_set_error(error, HW_ERROR, HW_ERROR_UNSUPPORTED,
                "reading registers of %s guests is not supported",
                guest->arch_name);
    return NULL;
  }
  if (guest->origin != NULL) {
    if (guest->offline_regs[cpu] != NULL)
      return hw_regs_copy(guest->offline_regs[cpu]);
    g_set_error(error, HW_ERROR, HW_ERROR_NOT_FOUND, "%s holds no registers of vCPU %u",
                guest->origin, cpu);
    return NULL;
  }
  if (guest->known_paused && guest->regs_cache[cpu] != NULL)
    return hw_regs_copy(guest->regs_cache[cpu]);
  HwRegs *regs = guest->ops->read_regs(guest, cpu, error);
  if (regs != NULL && guest->known_paused && guest->regs_cache[cpu] == NULL)
    guest->regs_cache[cpu] = hw_regs_copy(regs);
  return regs;
}

/* ---- memory ----------------------------------------------------------------------- */

static char *
qom_get_string(HwQmp *qmp, const char *path, const char *property, GError **error)
{
  g_autoptr(JsonObject) args = json_object_new();
  json_object_set_string_member(args, "path", path);
  json_object_set_string_member(args, "property", property);
  g_autoptr(JsonNode) r = hw_qmp_execute(qmp, "qom-get", args, error);
  if (r == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_VALUE(r) || json_node_get_value_type(r) != G_TYPE_STRING) {
    g_set_error(error, HW_ERROR, HW_ERROR_PROTOCOL, "qom-get %s %s: not a string", path,
                property);
    return NULL;
  }
  return g_strdup(json_node_get_string(r));
}

/* Pick the RAM backend: the machine's memory-backend, else the only memdev. */
static gboolean
find_backend(HwGuest *guest, char **id_out, gboolean *share_out, GError **error)
{
  g_autoptr(JsonNode) devs = hw_qmp_execute(guest->qmp, "query-memdev", NULL, error);
  if (devs == NULL)
    return FALSE;
  if (!JSON_NODE_HOLDS_ARRAY(devs)) {
    g_set_error(error, HW_ERROR, HW_ERROR_PROTOCOL, "query-memdev: not a list");
    return FALSE;
  }
  g_autofree char *machine_backend = qom_get_string(guest->qmp, "/machine", "memory-backend",
                                                    NULL);
  JsonArray *list = json_node_get_array(devs);
  guint n = json_array_get_length(list);
  JsonObject *chosen = NULL;
  for (guint i = 0; i < n; i++) {
    JsonNode *e = json_array_get_element(list, i);
    const char *id;
    if (!JSON_NODE_HOLDS_OBJECT(e))
      continue;
    if (!hw_json_get_string(json_node_get_object(e), "id", &id, NULL))
      continue;
    /* The link may be a full QOM path ("/objects/ram0") or the id. */
    if (machine_backend && (strcmp(machine_backend, id) == 0 ||
                            (g_str_has_prefix(machine_backend, "/objects/") &&
                             strcmp(machine_backend + 9, id) == 0)))
      chosen = json_node_get_object(e);
  }
  if (chosen == NULL && n == 1 && JSON_NODE_HOLDS_OBJECT(json_array_get_element(list, 0)))
    chosen = json_node_get_object(json_array_get_element(list, 0));
  if (chosen == NULL) {
    g_set_error(error, HW_ERROR, HW_ERROR_NO_MEMORY_FILE,
                "guest RAM is not a memory backend object; start QEMU with "
                "-object memory-backend-file,id=ram0,share=on,... -machine memory-backend=ram0");
    return FALSE;
  }
  const char *id;
  gboolean share;
  if (!hw_json_get_string(chosen, "id", &id, error) ||
      !hw_json_get_bool(chosen, "share", &share, error)) {
    g_prefix_error(error, "query-memdev: ");
    return FALSE;
  }
  *id_out = g_strdup(id);
  *share_out = share;
  return TRUE;
}

gboolean
hw_guest_map_memory(HwGuest *guest, const char *mem_path, GError **error)
{
  if (guest->origin != NULL)
    return TRUE;   /* a recording comes with its RAM */
  g_autofree char *id = NULL;
  gboolean share = FALSE;

  if (!find_backend(guest, &id, &share, error))
    return FALSE;
  g_autofree char *qom_path = g_strdup_printf("/objects/%s", id);
  g_autofree char *path = NULL;
  if (mem_path != NULL) {
    path = g_strdup(mem_path);
  } else {
    g_autoptr(GError) local = NULL;
    path = qom_get_string(guest->qmp, qom_path, "mem-path", &local);
    if (path == NULL && link_failed(local)) {
      g_propagate_error(error, g_steal_pointer(&local));
      return FALSE;
    }
    if (path == NULL) {
      g_set_error(error, HW_ERROR, HW_ERROR_NO_MEMORY_FILE,
                  "RAM backend %s is not a memory-backend-file (%s)", id, local->message);
      return FALSE;
    }
  }
  if (!share) {
    g_set_error(error, HW_ERROR, HW_ERROR_NOT_SHARED,
                "RAM backend %s has share=off: its file does not show guest writes; "
                "restart QEMU with share=on", id);
    return FALSE;
  }
  g_autofree char *mtree = hw_qmp_hmp(guest->qmp, "info mtree -f", -1, error);
  if (mtree == NULL)
    return FALSE;
  g_autoptr(GArray) ranges = hw_ram_map_parse_mtree(mtree, id, error);
  if (ranges == NULL)
    return FALSE;
  HwPhysMem *mem = hw_physmem_open(path, (const HwRamRange *)(gconstpointer)ranges->data,
                                   ranges->len, error);
  if (mem == NULL)
    return FALSE;
  hw_physmem_free(guest->mem);
  guest->mem = mem;
  g_free(guest->backend_id);
  guest->backend_id = g_steal_pointer(&id);
  g_free(guest->mem_path);
  guest->mem_path = g_steal_pointer(&path);
  return TRUE;
}
