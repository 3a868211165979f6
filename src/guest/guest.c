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
  if (guest->backends)
    g_ptr_array_unref(guest->backends);
  g_free(guest->gdb_addr);
  g_free(guest->arch_name);
  g_free(guest->backend_id);
  g_free(guest->mem_path);
  g_free(guest->devices_note);
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

gboolean
hw_guest_link_failed(const GError *error)
{
  return error != NULL && error->domain == HW_ERROR &&
         (error->code == HW_ERROR_DISCONNECTED || error->code == HW_ERROR_TIMEOUT);
}

/* After a broken link: QEMU gone gives HW_ERROR_GONE; else reconnect (QEMU serves a new
 * client), trying again for up to RELINK_MS: a busy QEMU may not yet serve a new client,
 * and a guest we paused must not stay so. FALSE when there is no link to QEMU any more;
 * *ERROR is rewritten to say so when QEMU is gone, else *WHY (if given) gets the
 * reconnect's own error. */
static gboolean
relink(HwGuest *guest, GError **error, char **why)
{
  enum { RELINK_MS = 15000 };
  gint64 deadline = g_get_monotonic_time() + RELINK_MS * (gint64)1000;
  for (guint attempt = 0; attempt < 100; attempt++) {
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
    if (why) {
      g_free(*why);
      *why = g_strdup(again->message);
    }
    gboolean transient = hw_guest_link_failed(again) ||
                         g_error_matches(again, HW_ERROR, HW_ERROR_CONNECT);
    if (g_get_monotonic_time() >= deadline || !transient)
      return FALSE;
    g_usleep(100000);
  }
  return FALSE;
}

/* RAM copied out of QEMU's process holds whatever the guest had when it was read: at
 * each pause it is read anew, once per paused stretch. */
static void
refresh_copied_ram(HwGuest *guest)
{
  guint64 epoch = hw_history_get_epoch(guest->history);
  guint n_devices = 0;
  if (guest->mem)
    hw_physmem_get_devices(guest->mem, &n_devices);
  if (guest->mem && (hw_physmem_copies(guest->mem) || n_devices > 0) &&
      !(guest->mem_fresh && guest->mem_epoch == epoch))
    hw_physmem_forget(guest->mem);
  guest->mem_fresh = TRUE;
  guest->mem_epoch = epoch;
}

/* After a stop that failed part-way (WHY): resume the guest, over a new link if the
 * link broke, and see that it runs. QEMU may still be finishing that stop when a new
 * client's cont arrives, so the cont is checked and sent again, for up to UNDO_MS.
 * FALSE with *ERROR when it could not be resumed (not set when QEMU is gone). */
static gboolean
undo_stop(HwGuest *guest, const GError *why, GError **error)
{
  enum { UNDO_MS = 5000 };
  gint64 deadline = g_get_monotonic_time() + UNDO_MS * (gint64)1000;
  g_autoptr(GError) last = why ? g_error_copy(why) : NULL;
  for (guint attempt = 0; attempt < 50; attempt++) {
    g_autofree char *unlinked = NULL;
    if (hw_guest_link_failed(last) && !relink(guest, &last, &unlinked)) {
      if (!g_error_matches(last, HW_ERROR, HW_ERROR_GONE))
        g_set_error(error, HW_ERROR, HW_ERROR_DISCONNECTED, "no new QMP connection: %s",
                    unlinked ? unlinked : "?");
      return FALSE;
    }
    g_clear_error(&last);
    g_autoptr(JsonNode) c = hw_qmp_execute(guest->qmp, "cont", NULL, &last);
    gboolean running = FALSE;
    if (c != NULL) {
      g_free(hw_guest_query_status(guest, &running, &last));
      if (running)
        return TRUE;
    }
    /* QEMU refusing cont (a guest that needs a reset) will not change its mind. */
    if (g_get_monotonic_time() > deadline || (c == NULL && !hw_guest_link_failed(last)))
      break;
    if (!hw_guest_link_failed(last))
      g_usleep(50000);
  }
  g_set_error(error, HW_ERROR, HW_ERROR_FAILED, "cont: %s",
              last ? last->message : "the guest stays paused");
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
    refresh_copied_ram(guest);
    return TRUE;
  }
  hw_guest_forget_regs(guest);
  /* Held before "stop": a signal during the stop still resumes it. */
  hw_signal_guard_hold(guest, guest->qmp);
  GError *local = NULL;
  g_autoptr(JsonNode) r = hw_qmp_execute(guest->qmp, "stop", NULL, &local);
  if (r != NULL && expect_running(guest, FALSE, &local)) {
    guest->known_paused = TRUE;
    guest->mem_fresh = FALSE;   /* what was copied while it ran is stale */
    refresh_copied_ram(guest);
    return TRUE;
  }
  /* We may have half-paused it: do not leave it so, and say so if we must. */
  g_autoptr(GError) stuck = NULL;
  if (!undo_stop(guest, local, &stuck) && stuck != NULL)
    g_prefix_error(&local, "the guest may be left paused (%s) after: ", stuck->message);
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
  guest->mem_fresh = FALSE;
  GError *local = NULL;
  g_autoptr(JsonNode) r = hw_qmp_execute(guest->qmp, "cont", NULL, &local);
  if (r != NULL && expect_running(guest, TRUE, &local)) {
    hw_signal_guard_release(guest);
    return TRUE;
  }
  /* The link broke with the guest paused by us: a new link can still resume it. */
  if (hw_guest_link_failed(local) && relink(guest, &local, NULL)) {
    hw_signal_guard_hold(guest, guest->qmp);
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

gboolean
hw_guest_map_memory(HwGuest *guest, const char *mem_path, GError **error)
{
  if (guest->origin != NULL)
    return TRUE;   /* a recording comes with its RAM */
  HwPhysMem *mem = NULL;
  GPtrArray *backends = NULL;
  if (!hw_guest_open_ram(guest, mem_path, &mem, &backends, error))
    return FALSE;
  hw_physmem_free(guest->mem);
  guest->mem = mem;
  guest->mem_fresh = FALSE;
  if (guest->backends)
    g_ptr_array_unref(guest->backends);
  guest->backends = backends;
  const HwRamBackend *main = backends->pdata[0];
  g_free(guest->backend_id);
  guest->backend_id = g_strdup(main->id);
  g_free(guest->mem_path);
  guest->mem_path = g_strdup(main->path);
  return TRUE;
}

void
hw_guest_set_copy_ram(HwGuest *guest, gboolean copy)
{
  guest->copy_ram = copy;
}

const char *
hw_guest_get_devices_note(HwGuest *guest)
{
  return guest->devices_note;
}

const GPtrArray *
hw_guest_get_ram_backends(HwGuest *guest)
{
  return guest->backends;
}
