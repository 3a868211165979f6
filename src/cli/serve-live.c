/* The viewer's Live view: a heat map of where RAM changes (page hashes of all RAM
 * compared with the previous sample's, each changed page hot, cooling at each sample
 * it stays the same) and an in-memory snapshot to diff the guest against, or to
 * download as a snapshot file (docs/snapshots.md). Reads pause the guest as the
 * commands do; nothing is written to the guest. */
#include "cli/serve.h"

#include <string.h>

/* The range of N ranges R holding GPA (sorted by gpa), or -1. */
static int
range_of(const HwRamRange *r, guint n, guint64 gpa)
{
  guint lo = 0, hi = n;
  while (lo < hi) {
    guint mid = lo + (hi - lo) / 2;
    if (gpa < r[mid].gpa)
      hi = mid;
    else if (gpa - r[mid].gpa >= r[mid].size)
      lo = mid + 1;
    else
      return (int)mid;
  }
  return -1;
}

/* A new per-range byte array, one zero byte per page of the N ranges R. */
static GPtrArray *
page_bytes(const HwRamRange *r, guint n)
{
  GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add(a, g_malloc0((gsize)(r[i].size / 4096) + 1));
  return a;
}

/* Hash every page of RAM (paused unless LIVE), compare with the last sample, and heat
 * the pages that changed: 255, then five eighths of it at each sample it stays. */
static void
on_heat(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
        gpointer data)
{
  HwServe *s = data;
  (void)server, (void)path;
  if (!hw_serve_authorized(s, msg, query) || !hw_serve_method_is(msg, "GET"))
    return;
  g_autoptr(GError) error = NULL;
  gboolean live = FALSE;
  if (!hw_serve_param_flag(query, "live", &live, &error) ||
      (!live && !hw_cli_pause(s->cli, &error))) {
    hw_serve_reply_gerror(msg, error);
    return;
  }
  HwPhysMem *mem = hw_guest_get_physmem(s->cli->guest);
  gint64 t0 = g_get_monotonic_time();
  if (mem == NULL)
    g_set_error(&error, HW_ERROR, HW_ERROR_UNSUPPORTED, "no guest memory to hash");
  g_autoptr(GPtrArray) now = mem ? hw_scan_page_hashes(mem, 0, NULL, NULL, &error) : NULL;
  const char *state = hw_cli_state(s->cli, live);
  if (!hw_cli_release_after(s->cli, now != NULL, &error)) {
    hw_serve_reply_gerror(msg, error);
    return;
  }
  guint n = 0;
  const HwRamRange *r = hw_physmem_get_ranges(mem, &n);
  if (s->heat == NULL || s->heat_hashes == NULL || s->heat_hashes->len != n) {
    g_clear_pointer(&s->heat, g_ptr_array_unref);
    g_clear_pointer(&s->heat_hashes, g_ptr_array_unref);
    s->heat = page_bytes(r, n);
    s->heat_samples = 0;
  }
  guint changed_pages = 0;
  if (s->heat_hashes != NULL) {
    for (guint i = 0; i < n; i++) {
      guint8 *h = g_ptr_array_index(s->heat, i);
      for (gsize p = 0; p < r[i].size / 4096; p++)
        h[p] = (guint8)(h[p] * 5 / 8);
    }
    g_autoptr(GArray) changed = hw_scan_hashes_changed(mem, s->heat_hashes, now);
    for (guint k = 0; k < changed->len; k++) {
      guint64 gpa = g_array_index(changed, guint64, k);
      int i = range_of(r, n, gpa);
      if (i >= 0)
        ((guint8 *)g_ptr_array_index(s->heat, (guint)i))[(gpa - r[i].gpa) / 4096] = 255;
    }
    changed_pages = changed->len;
  }
  gint64 interval = s->heat_hashes ? (t0 - s->heat_at) / 1000 : 0;
  g_clear_pointer(&s->heat_hashes, g_ptr_array_unref);
  s->heat_hashes = g_steal_pointer(&now);
  s->heat_at = t0;
  s->heat_samples++;

  JsonBuilder *b = hw_serve_begin_answer(s);
  json_builder_set_member_name(b, "state");
  json_builder_add_string_value(b, state);
  json_builder_set_member_name(b, "sample");
  json_builder_add_int_value(b, (gint64)s->heat_samples);
  json_builder_set_member_name(b, "interval_ms");
  json_builder_add_int_value(b, interval);
  json_builder_set_member_name(b, "changed");
  json_builder_add_int_value(b, changed_pages);
  json_builder_set_member_name(b, "hash_ms");
  json_builder_add_int_value(b, (g_get_monotonic_time() - t0) / 1000);
  hw_serve_json_page_bytes(b, r, n, s->heat, "heat");
  hw_serve_end_answer(msg, b);
}

/* Take the snapshot the viewer keeps (page hashes and owners; the last one replaced). */
static void
on_snapshot(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
            gpointer data)
{
  HwServe *s = data;
  (void)server, (void)path;
  if (!hw_serve_authorized(s, msg, query) || !hw_serve_method_is(msg, "POST"))
    return;
  g_autoptr(GError) error = NULL;
  HwSnapshot *snap = hw_cli_take_snapshot(s->cli, FALSE, NULL, &error);
  if (snap == NULL) {
    hw_serve_reply_gerror(msg, error);
    return;
  }
  g_clear_pointer(&s->snap, hw_snapshot_free);
  s->snap = snap;
  s->snap_epoch = hw_guest_get_epoch(s->cli->guest);
  guint n = 0;
  const HwRamRange *r = hw_snapshot_get_ranges(snap, &n);
  guint64 pages = 0, data_pages = 0;
  for (guint i = 0; i < n; i++) {
    const guint64 *h = hw_snapshot_get_hashes(snap, i);
    for (guint64 p = 0; p < r[i].size / 4096; p++, pages++)
      data_pages += hw_page_hash_is_data(h[p]);
  }
  JsonBuilder *b = hw_serve_begin_answer(s);
  json_builder_set_member_name(b, "pages");
  json_builder_add_int_value(b, (gint64)pages);
  json_builder_set_member_name(b, "data_pages");
  json_builder_add_int_value(b, (gint64)data_pages);
  hw_serve_end_answer(msg, b);
}

/* Whether S keeps a snapshot; else a 409 reply. */
static gboolean
have_snapshot(HwServe *s, SoupServerMessage *msg)
{
  if (s->snap != NULL)
    return TRUE;
  hw_serve_reply_error(msg, SOUP_STATUS_CONFLICT, "no snapshot yet: take one first "
                       "(POST /api/snapshot)");
  return FALSE;
}

/* Processes by the pages of theirs in DIFFS (OWNERS of each page from the snapshot that
 * has it: the later one, or for vanished pages the earlier), most first, at most 16. */
static void
add_processes(JsonBuilder *b, GArray *diffs, const HwSnapshot *before, const HwSnapshot *after)
{
  g_autoptr(GHashTable) count = g_hash_table_new(g_direct_hash, g_direct_equal);
  for (guint i = 0; i < diffs->len; i++) {
    const HwPageDiff *d = &g_array_index(diffs, HwPageDiff, i);
    g_autoptr(GArray) o = hw_snapshot_owners(d->change == HW_PAGE_VANISHED ? before : after,
                                             d->gpa);
    gint32 last = -1;
    for (guint k = 0; k < o->len; k++) {
      gint32 pid = g_array_index(o, HwSnapshotOwner, k).pid;
      if (pid == last)
        continue;   /* one page, counted once per process */
      last = pid;
      gpointer key = GINT_TO_POINTER(pid);
      g_hash_table_replace(count, key,
                           GUINT_TO_POINTER(GPOINTER_TO_UINT(g_hash_table_lookup(count, key)) + 1));
    }
  }
  /* Names from the later snapshot's process list. */
  JsonObject *meta = hw_snapshot_get_metadata(after);
  JsonArray *procs = meta && json_object_has_member(meta, "processes")
                       ? json_object_get_array_member(meta, "processes") : NULL;
  g_autoptr(GArray) order = g_array_new(FALSE, FALSE, sizeof(gint32));
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init(&it, count);
  while (g_hash_table_iter_next(&it, &key, &value)) {
    gint32 pid = GPOINTER_TO_INT(key);
    guint j = order->len;
    g_array_append_val(order, pid);
    for (; j > 0 && GPOINTER_TO_UINT(g_hash_table_lookup(count, GINT_TO_POINTER(
             g_array_index(order, gint32, j - 1)))) < GPOINTER_TO_UINT(value); j--)
      g_array_index(order, gint32, j) = g_array_index(order, gint32, j - 1);
    g_array_index(order, gint32, j) = pid;
  }
  json_builder_set_member_name(b, "processes");
  json_builder_begin_array(b);
  for (guint i = 0; i < MIN(order->len, 16u); i++) {
    gint32 pid = g_array_index(order, gint32, i);
    const char *comm = "";
    for (guint k = 0; procs && k < json_array_get_length(procs); k++) {
      JsonObject *p = json_array_get_object_element(procs, k);
      if (p && json_object_get_int_member_with_default(p, "pid", -1) == pid)
        comm = json_object_get_string_member_with_default(p, "comm", "");
    }
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "pid");
    json_builder_add_int_value(b, pid);
    json_builder_set_member_name(b, "comm");
    json_builder_add_string_value(b, comm);
    json_builder_set_member_name(b, "pages");
    json_builder_add_int_value(b, GPOINTER_TO_UINT(g_hash_table_lookup(count,
                                                                       GINT_TO_POINTER(pid))));
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
}

/* The guest now against the kept snapshot: per page 0 (the same), 1 changed, 2
 * appeared, 3 vanished (as `snapshot diff`), the counts, and whose pages they are. */
static void
on_snapshot_diff(SoupServer *server, SoupServerMessage *msg, const char *path,
                 GHashTable *query, gpointer data)
{
  HwServe *s = data;
  (void)server, (void)path;
  if (!hw_serve_authorized(s, msg, query) || !hw_serve_method_is(msg, "GET") ||
      !have_snapshot(s, msg))
    return;
  g_autoptr(GError) error = NULL;
  g_autoptr(HwSnapshot) now = hw_cli_take_snapshot(s->cli, FALSE, NULL, &error);
  g_autoptr(GArray) diffs = now ? hw_snapshot_diff(s->snap, now, &error) : NULL;
  if (diffs == NULL) {
    hw_serve_reply_gerror(msg, error);
    return;
  }
  guint n = 0;
  const HwRamRange *r = hw_snapshot_get_ranges(now, &n);
  g_autoptr(GPtrArray) codes = page_bytes(r, n);
  guint counts[3] = { 0 };
  for (guint i = 0; i < diffs->len; i++) {
    const HwPageDiff *d = &g_array_index(diffs, HwPageDiff, i);
    int k = range_of(r, n, d->gpa);
    if (k < 0)
      continue;
    ((guint8 *)g_ptr_array_index(codes, (guint)k))[(d->gpa - r[k].gpa) / 4096] =
      (guint8)(1 + d->change);
    counts[d->change]++;
  }
  JsonBuilder *b = hw_serve_begin_answer(s);
  json_builder_set_member_name(b, "since_epoch");
  json_builder_add_int_value(b, (gint64)s->snap_epoch);
  for (guint c = 0; c < 3; c++) {
    json_builder_set_member_name(b, hw_page_change_name((HwPageChange)c));
    json_builder_add_int_value(b, counts[c]);
  }
  add_processes(b, diffs, s->snap, now);
  hw_serve_json_page_bytes(b, r, n, codes, "changes");
  hw_serve_end_answer(msg, b);
}

static gboolean
write_snapshot(const char *path, gpointer data, GError **error)
{
  return hw_snapshot_save(data, path, error);
}

/* The kept snapshot as a file (docs/snapshots.md), for `haywire snapshot diff` later. */
static void
on_snapshot_file(SoupServer *server, SoupServerMessage *msg, const char *path,
                 GHashTable *query, gpointer data)
{
  HwServe *s = data;
  (void)server, (void)path;
  if (!hw_serve_authorized(s, msg, query) || !hw_serve_method_is(msg, "GET") ||
      !have_snapshot(s, msg))
    return;
  g_autoptr(GError) error = NULL;
  gsize len = 0;
  char *bytes = hw_serve_written_bytes(write_snapshot, s->snap, &len, &error);
  if (bytes == NULL) {
    hw_serve_reply_gerror(msg, error);
    return;
  }
  g_autofree char *name = g_strdup_printf("haywire-epoch%" G_GUINT64_FORMAT ".snap",
                                          s->snap_epoch);
  hw_serve_reply_download(msg, "application/octet-stream", name, bytes, len);
}

void
hw_serve_add_live(HwServe *s)
{
  soup_server_add_handler(s->server, "/api/heat", on_heat, s, NULL);
  soup_server_add_handler(s->server, "/api/snapshot", on_snapshot, s, NULL);
  soup_server_add_handler(s->server, "/api/snapshot/diff", on_snapshot_diff, s, NULL);
  soup_server_add_handler(s->server, "/api/snapshot/file", on_snapshot_file, s, NULL);
}

void
hw_serve_free_live(HwServe *s)
{
  g_clear_pointer(&s->heat, g_ptr_array_unref);
  g_clear_pointer(&s->heat_hashes, g_ptr_array_unref);
  g_clear_pointer(&s->snap, hw_snapshot_free);
}
