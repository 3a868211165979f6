/* haywire scan: find byte patterns (strings, ASCII and UTF-16LE) in guest memory,
 * physical or one process's, with the guest paused so the result is one snapshot. */
#include "cli/cli.h"

#include <string.h>
#include <unistd.h>

static void
show_progress(guint64 done, guint64 total, gpointer data)
{
  fprintf(stderr, "\rscanned %" G_GUINT64_FORMAT " / %" G_GUINT64_FORMAT " MiB", done >> 20,
          total >> 20);
}

/* The QEMU timestamp of the newest queued event NAME, as "seconds.micro", or NULL. */
static char *
take_event(HwCli *cli, const char *name)
{
  char *stamp = NULL;
  HwQmpEvent *e;
  while ((e = hw_qmp_pop_event(cli->qmp)) != NULL) {
    if (strcmp(e->name, name) == 0) {
      g_free(stamp);
      stamp = g_strdup_printf("%" G_GINT64_FORMAT ".%06" G_GINT64_FORMAT, e->seconds,
                              e->microseconds);
    }
    hw_qmp_event_free(e);
  }
  return stamp;
}

int
hw_cmd_scan(HwCli *cli, int argc, char **argv)
{
  int rc, pid = 0, threads = 0;
  gboolean phys = FALSE, live = FALSE;
  g_auto(GStrv) strings = NULL;
  g_autofree char *find = NULL;
  g_autoptr(GError) error = NULL;
  GOptionEntry entries[] = {
    { "phys", 'p', 0, G_OPTION_ARG_NONE, &phys, "scan all guest RAM (the default)", NULL },
    { "pid", 'P', 0, G_OPTION_ARG_INT, &pid, "scan the address space of Linux process PID",
      "PID" },
    { "string", 's', 0, G_OPTION_ARG_STRING_ARRAY, &strings, "find TEXT in ASCII/UTF-8 and "
      "UTF-16LE (repeatable)", "TEXT" },
    { "find", 'f', 0, G_OPTION_ARG_STRING, &find, "image finders (not yet available)",
      "KINDS" },
    { "live", 0, 0, G_OPTION_ARG_NONE, &live, "do not pause the guest (results may be torn)",
      NULL },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, "threads for physical scans (default: "
      "one per core)", "N" },
    { NULL }
  };
  if (!hw_cli_parse("scan", NULL, "Scan guest memory for strings. By default the guest is "
                    "paused for the scan and resumed after it, so all hits come from one "
                    "state; each hit says which (paused by haywire, already paused, or live) "
                    "with QEMU's STOP/RESUME timestamps.", entries, &argc, &argv, &rc))
    return rc;
  if (argc > 1)
    return hw_cli_usage("scan", "unexpected argument '%s'", argv[1]);
  if (find != NULL)
    return hw_cli_usage("scan", "--find (image finders) is not implemented yet; use --string");
  if (strings == NULL || strings[0] == NULL)
    return hw_cli_usage("scan", "nothing to find: give --string TEXT");
  if (phys && pid)
    return hw_cli_usage("scan", "--phys and --pid exclude each other");
  if (pid < 0 || threads < 0 || threads > 256)
    return hw_cli_usage("scan", "bad --pid or --threads");

  g_autoptr(GPtrArray) patterns = g_ptr_array_new_with_free_func((GDestroyNotify)hw_pattern_free);
  for (guint i = 0; strings[i]; i++) {
    GPtrArray *p = hw_pattern_list_for_string(strings[i], &error);
    if (p == NULL)
      return hw_cli_fail(error);
    for (guint k = 0; k < p->len; k++)
      g_ptr_array_add(patterns, g_steal_pointer(&p->pdata[k]));
    g_ptr_array_set_free_func(p, NULL);
    g_ptr_array_unref(p);
  }

  /* Drop old events, so the STOP/RESUME we report are this scan's. */
  g_autofree char *old = take_event(cli, "");
  gboolean was_paused = FALSE;
  if (!live) {
    g_autofree char *status = hw_guest_query_status(cli->guest, &was_paused, &error);
    if (status == NULL || !hw_cli_pause(cli, &error))
      return hw_cli_fail(error);
    was_paused = !cli->we_paused;
  }
  const char *state = live ? "live" : was_paused ? "already-paused" : "paused-by-haywire";
  g_autofree char *stop_ts = take_event(cli, "STOP");
  gint64 t0 = g_get_monotonic_time();

  HwPhysMem *mem = hw_guest_get_physmem(cli->guest);
  gboolean tty = !cli->json && isatty(STDERR_FILENO);
  GArray *hits = NULL;
  HwTask task = { 0 };
  if (pid > 0) {
    HwLinux *lx = hw_cli_linux(cli, &error);
    g_autoptr(HwMmu) mmu = NULL;
    GArray *vmas = NULL;
    if (lx && hw_linux_find_task(lx, pid, &task, &error) &&
        (mmu = hw_linux_task_mmu(lx, &task, &error)) &&
        (vmas = hw_linux_list_vmas(lx, &task, NULL, &error)))
      hits = hw_scan_vmas(mmu, mem, vmas, patterns, &error);
    hw_vma_array_free(vmas);
  } else {
    hits = hw_scan_phys(mem, patterns, (guint)threads, tty ? show_progress : NULL, NULL, &error);
    if (tty)
      fprintf(stderr, "\n");
  }
  double paused_ms = (g_get_monotonic_time() - t0) / 1000.0;
  if (!hw_cli_release_after(cli, hits != NULL, &error)) {
    if (hits)
      g_array_unref(hits);
    return hw_cli_fail(error);
  }
  if (!live && !was_paused)
    hw_qmp_poll_events(cli->qmp, 20, NULL);
  g_autofree char *resume_ts = take_event(cli, "RESUME");

  for (guint i = 0; i < hits->len; i++) {
    const HwScanHit *h = &g_array_index(hits, HwScanHit, i);
    const HwPattern *p = g_ptr_array_index(patterns, h->pattern);
    if (cli->json) {
      g_autoptr(JsonBuilder) b = json_builder_new();
      json_builder_begin_object(b);
      json_builder_set_member_name(b, "kind");
      json_builder_add_string_value(b, "string");
      hw_cli_json_hex(b, "gpa", h->gpa);
      if (pid > 0) {
        hw_cli_json_hex(b, "va", h->va);
        json_builder_set_member_name(b, "pid");
        json_builder_add_int_value(b, pid);
      }
      json_builder_set_member_name(b, "size");
      json_builder_add_int_value(b, (gint64)p->len);
      json_builder_set_member_name(b, "text");
      json_builder_add_string_value(b, p->name);
      json_builder_set_member_name(b, "encoding");
      json_builder_add_string_value(b, p->encoding);
      json_builder_set_member_name(b, "state");
      json_builder_add_string_value(b, state);
      json_builder_end_object(b);
      hw_cli_print_json(json_builder_get_root(b));
    } else if (pid > 0) {
      printf("va 0x%016" G_GINT64_MODIFIER "x  gpa 0x%" G_GINT64_MODIFIER "x  %s \"%s\"\n",
             h->va, h->gpa, p->encoding, p->name);
    } else {
      printf("gpa 0x%" G_GINT64_MODIFIER "x  %s \"%s\"\n", h->gpa, p->encoding, p->name);
    }
  }
  /* Which state the results come from. */
  if (cli->json) {
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "kind");
    json_builder_add_string_value(b, "summary");
    json_builder_set_member_name(b, "hits");
    json_builder_add_int_value(b, hits->len);
    json_builder_set_member_name(b, "state");
    json_builder_add_string_value(b, state);
    json_builder_set_member_name(b, "paused_ms");
    json_builder_add_double_value(b, live ? 0 : paused_ms);
    json_builder_set_member_name(b, "stop_event");
    if (stop_ts)
      json_builder_add_string_value(b, stop_ts);
    else
      json_builder_add_null_value(b);
    json_builder_set_member_name(b, "resume_event");
    if (resume_ts)
      json_builder_add_string_value(b, resume_ts);
    else
      json_builder_add_null_value(b);
    json_builder_end_object(b);
    hw_cli_print_json(json_builder_get_root(b));
  } else {
    fprintf(stderr, "%u hits; %s", hits->len, state);
    if (!live && !was_paused)
      fprintf(stderr, " for %.1f ms (QEMU STOP at %s, RESUME at %s)", paused_ms,
              stop_ts ? stop_ts : "?", resume_ts ? resume_ts : "?");
    if (live)
      fprintf(stderr, ": the guest ran during the scan, results may be torn");
    fprintf(stderr, "\n");
  }
  g_array_unref(hits);
  return HW_EXIT_OK;
}
