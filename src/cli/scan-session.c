/* Pause, scan, use the hits, resume; STOP/RESUME timestamps from QEMU's events. */
#include "cli/scan-session.h"

#include <string.h>
#include <unistd.h>

static void
show_progress(guint64 done, guint64 total, gpointer data)
{
  fprintf(stderr, "\rscanned %" G_GUINT64_FORMAT " / %" G_GUINT64_FORMAT " MiB", done >> 20,
          total >> 20);
}

int
hw_cli_scan_check(const char *cmd, int argc, char **argv, gboolean phys, const char *find,
                  guint default_images, HwScanOptions *o)
{
  g_autoptr(GError) error = NULL;
  if (argc > 1)
    return hw_cli_usage(cmd, "unexpected argument '%s'", argv[1]);
  if (phys && o->pid)
    return hw_cli_usage(cmd, "--phys and --pid exclude each other");
  if (o->pid < 0 || o->threads < 0 || o->threads > HW_SCAN_MAX_THREADS)
    return hw_cli_usage(cmd, "bad --pid or --threads");
  o->images = default_images;
  if (find != NULL && !hw_image_kinds_parse(find, &o->images, &error))
    return hw_cli_usage(cmd, "%s", error->message);
  return -1;
}

void
hw_cli_scan_result_clear(HwScanResult *res)
{
  if (res->hits)
    g_array_unref(res->hits);
  g_free(res->stop_ts);
  g_free(res->resume_ts);
  g_free(res->error);
  if (res->changed)
    g_array_unref(res->changed);
  g_free(res->hit_torn);
  if (res->owners)
    g_array_unref(res->owners);
  memset(res, 0, sizeof *res);
}

static gboolean
page_changed(GArray *changed, guint64 gpa)
{
  guint64 page = gpa & ~(guint64)(HW_PAGE_SIZE - 1);
  guint lo = 0, hi = changed->len;
  while (lo < hi) {
    guint mid = lo + (hi - lo) / 2;
    guint64 v = g_array_index(changed, guint64, mid);
    if (v == page)
      return TRUE;
    if (v < page)
      lo = mid + 1;
    else
      hi = mid;
  }
  return FALSE;
}

static guint64
hit_size(const HwScanOptions *o, const HwScanHit *h)
{
  if (h->kind != HW_HIT_IMAGE)
    return MAX(h->len, (guint64)1);
  return MAX(h->image.size, (guint64)1);
}

/* Which hits span a page that changed during a live scan: through MMU for a process
 * scan (its pages need not be adjacent in RAM), else physically. */
static guint8 *
find_torn_hits(const HwScanOptions *o, GArray *hits, GArray *changed, const HwMmu *mmu)
{
  guint8 *torn = g_new0(guint8, hits->len + 1);
  for (guint i = 0; i < hits->len && changed->len > 0; i++) {
    const HwScanHit *h = &g_array_index(hits, HwScanHit, i);
    guint64 start = mmu ? h->va : h->gpa, end = start + hit_size(o, h);
    if (end < start)
      end = G_MAXUINT64;
    /* Bounded: hits are at most HW_IMAGE_MAX_FILE bytes. */
    for (guint64 a = start & ~(guint64)(HW_PAGE_SIZE - 1); a < end && !torn[i];
         a += HW_PAGE_SIZE) {
      HwTranslation t;
      if (mmu == NULL)
        torn[i] = page_changed(changed, a);
      else if (hw_mmu_translate(mmu, a, &t, NULL))
        torn[i] = page_changed(changed, t.pa);
      if (a + HW_PAGE_SIZE < a)
        break;
    }
  }
  return torn;
}

gboolean
hw_cli_scan_run(HwCli *cli, const HwScanOptions *o, HwScanUse use, gpointer data,
                HwScanResult *res, GError **error)
{
  memset(res, 0, sizeof *res);
  /* The STOP/RESUME we report are this scan's: recorded after this mark. */
  guint mark = hw_history_get_count(hw_guest_get_history(cli->guest));
  gboolean was_paused = FALSE;
  /* A recording never runs: --live changes nothing there. */
  gboolean live = o->live && !hw_guest_is_offline(cli->guest);
  if (!live) {
    if (!hw_cli_pause(cli, error))
      return FALSE;
    was_paused = !cli->we_paused;
  }
  res->state = hw_cli_state(cli, live);
  res->stop_ts = hw_cli_event_stamp(cli, "STOP", mark);
  res->epoch = hw_guest_get_epoch(cli->guest);
  gint64 t0 = g_get_monotonic_time();

  HwPhysMem *mem = hw_guest_get_physmem(cli->guest);
  /* A live scan hashes RAM before and after: pages whose hash moved changed under it. */
  g_autoptr(GPtrArray) before = live ? hw_scan_page_hashes(mem, (guint)o->threads, NULL,
                                                              NULL, NULL) : NULL;
  gboolean tty = !cli->json && isatty(STDERR_FILENO);
  GArray *hits = NULL;
  gboolean ok = FALSE;
  g_autoptr(HwMmu) mmu = NULL;
  HwReader reader = hw_reader_for_physmem(mem);
  if (o->pid > 0) {
    HwLinux *lx = hw_cli_linux(cli, error);
    HwTask task = { 0 };
    GArray *vmas = NULL;
    if (lx && hw_linux_find_task(lx, o->pid, &task, error) &&
        (mmu = hw_linux_task_mmu(lx, &task, error)) &&
        (vmas = hw_linux_list_vmas(lx, &task, NULL, error))) {
      hits = hw_scan_vmas(mmu, mem, vmas, o->patterns, o->images, &res->partial, error);
      reader = hw_reader_for_mmu(mmu);
    }
    hw_vma_array_free(vmas);
    ok = hits != NULL;
  } else {
    HwScanRequest req = { o->patterns, o->images, FALSE, (guint)o->threads,
                          tty ? show_progress : NULL, NULL };
    HwScanReport rep;
    /* With a Linux guest, every process too: what its page tables put side by side. A
     * guest haywire cannot read as Linux gets the physical pass alone. */
    HwLinux *lx = o->follow ? hw_cli_linux(cli, NULL) : NULL;
    g_autoptr(HwOwnerMap) owners = lx ? hw_owner_map_build(lx, NULL, NULL) : NULL;
    /* The memory vanishing part-way still leaves the hits found before it. */
    ok = lx ? hw_scan_all(lx, mem, &req, owners, &rep, error)
            : hw_scan_phys_run(mem, &req, &rep, error);
    res->followed = lx != NULL;
    res->owners = g_steal_pointer(&rep.owners);
    hits = g_steal_pointer(&rep.hits);
    res->partial = rep.partial;
    hw_scan_report_clear(&rep);
    if (tty)
      fprintf(stderr, "\r\033[K");
  }
  if (ok && before != NULL) {
    g_autoptr(GPtrArray) after = hw_scan_page_hashes(mem, (guint)o->threads, NULL, NULL, NULL);
    if (after != NULL) {
      res->changed = hw_scan_hashes_changed(mem, before, after);
      res->hit_torn = find_torn_hits(o, hits, res->changed, mmu);
    }
  }
  if (ok && use != NULL && !use(cli, o, hits, &reader, data, error))
    ok = FALSE;
  res->paused_ms = live ? 0 : (g_get_monotonic_time() - t0) / 1000.0;
  if (!hw_cli_release_after(cli, ok, error)) {
    /* QEMU may have gone while it was paused: what was found is still shown. */
    res->partial = TRUE;
    if (use == NULL) {
      res->hits = hits;   /* the caller shows them, and clears RES */
    } else {
      if (hits != NULL)
        g_array_unref(hits);
      hw_cli_scan_result_clear(res);
    }
    return FALSE;
  }
  if (!live && !was_paused)
    hw_guest_follow(cli->guest, 20, NULL);
  res->resume_ts = hw_cli_event_stamp(cli, "RESUME", mark);
  /* A live scan during which the guest ran or the epoch moved is torn. */
  res->torn = live && (hw_history_changed_since(hw_guest_get_history(cli->guest),
                                                   res->epoch) ||
                          (res->changed && res->changed->len > 0));
  res->hits = hits;
  return TRUE;
}

/* The first of RES's owners for hit I (owners are sorted by hit). */
static guint
first_owner(const HwScanResult *res, guint i)
{
  guint lo = 0, hi = res->owners->len;
  while (lo < hi) {
    guint mid = lo + (hi - lo) / 2;
    if (g_array_index(res->owners, HwScanOwner, mid).hit < i)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

static void
add_owners_json(JsonBuilder *b, const HwScanResult *res, guint i)
{
  if (res->owners == NULL)
    return;
  json_builder_set_member_name(b, "owners");
  json_builder_begin_array(b);
  for (guint k = first_owner(res, i);
       k < res->owners->len && g_array_index(res->owners, HwScanOwner, k).hit == i; k++)
    hw_cli_json_owner(b, &g_array_index(res->owners, HwScanOwner, k).owner);
  json_builder_end_array(b);
}

/* ", owners: hwtest[92] 0x7f..., kernel 0xffff..." for hit I, or "". */
static char *
owners_text(const HwScanResult *res, guint i)
{
  if (res->owners == NULL)
    return g_strdup("");
  GString *s = g_string_new(NULL);
  guint n = 0;
  for (guint k = first_owner(res, i);
       k < res->owners->len && g_array_index(res->owners, HwScanOwner, k).hit == i; k++, n++) {
    const HwOwner *ow = &g_array_index(res->owners, HwScanOwner, k).owner;
    g_string_append(s, n ? ", " : "  owners: ");
    if (ow->kind == HW_OWNER_PROCESS)
      g_string_append_printf(s, "%s[%d] 0x%" G_GINT64_MODIFIER "x", ow->comm, ow->pid, ow->va);
    else if (ow->kind == HW_OWNER_KERNEL)
      g_string_append_printf(s, "kernel 0x%" G_GINT64_MODIFIER "x", ow->va);
    else
      g_string_append_printf(s, "page table of %d", ow->pid);
  }
  return g_string_free(s, FALSE);
}

/* The bytes hit H of hex pattern P matched, as hex digits (SEP between bytes; caller
 * frees): its own copy where P has wildcards, else P's bytes. */
static char *
hit_hex(const HwPattern *p, const HwScanHit *h, const char *sep)
{
  const guint8 *bytes = h->bytes ? h->bytes : p->bytes;
  GString *s = g_string_sized_new(p->len * 3);
  for (gsize i = 0; i < p->len; i++)
    g_string_append_printf(s, "%s%02x", i > 0 ? sep : "", bytes[i]);
  return g_string_free(s, FALSE);
}

/* The members of a string, hex or regex hit H after "size". */
static void
pattern_hit_json(JsonBuilder *b, const HwScanOptions *o, const HwScanHit *h)
{
  const HwPattern *p = g_ptr_array_index(o->patterns, h->pattern);
  if (p->kind == HW_PATTERN_STRING) {
    json_builder_set_member_name(b, "text");
    json_builder_add_string_value(b, p->name);
    json_builder_set_member_name(b, "encoding");
    json_builder_add_string_value(b, p->encoding);
    return;
  }
  json_builder_set_member_name(b, "pattern");
  json_builder_add_string_value(b, p->name);
  json_builder_set_member_name(b, "encoding");
  json_builder_add_string_value(b, h->kind == HW_HIT_REGEX ? h->encoding : p->encoding);
  if (h->kind == HW_HIT_REGEX) {
    json_builder_set_member_name(b, "text");
    json_builder_add_string_value(b, h->text);
  } else {
    g_autofree char *hex = hit_hex(p, h, "");
    json_builder_set_member_name(b, "bytes");
    json_builder_add_string_value(b, hex);
  }
}

/* The "kind" member of hit H. */
static const char *
hit_kind_name(const HwScanOptions *o, const HwScanHit *h)
{
  if (h->kind == HW_HIT_IMAGE)
    return hw_image_kind_name(h->image.kind);
  const HwPattern *p = g_ptr_array_index(o->patterns, h->pattern);
  return p->kind == HW_PATTERN_HEX ? "hex" : p->kind == HW_PATTERN_REGEX ? "regex" : "string";
}

void
hw_cli_scan_hit_json(JsonBuilder *b, const HwScanOptions *o, const HwScanResult *res, guint i)
{
  const HwScanHit *h = &g_array_index(res->hits, HwScanHit, i);
  json_builder_begin_object(b);
  if (res->hit_torn) {
    json_builder_set_member_name(b, "torn");
    json_builder_add_boolean_value(b, res->hit_torn[i]);
  }
  json_builder_set_member_name(b, "kind");
  json_builder_add_string_value(b, hit_kind_name(o, h));
  hw_cli_json_hex(b, "gpa", h->gpa);
  if (o->pid > 0) {
    hw_cli_json_hex(b, "va", h->va);
    json_builder_set_member_name(b, "pid");
    json_builder_add_int_value(b, o->pid);
  }
  json_builder_set_member_name(b, "size");
  if (h->kind != HW_HIT_IMAGE) {
    json_builder_add_int_value(b, (gint64)h->len);
    pattern_hit_json(b, o, h);
    add_owners_json(b, res, i);
    return;
  }
  const HwImage *im = &h->image;
  json_builder_add_int_value(b, (gint64)im->size);
  json_builder_set_member_name(b, "width");
  json_builder_add_int_value(b, im->width);
  json_builder_set_member_name(b, "height");
  json_builder_add_int_value(b, im->height);
  json_builder_set_member_name(b, "format");
  json_builder_add_string_value(b, im->kind == HW_IMAGE_RAW ? hw_pixel_format_name(im->format)
                                                             : hw_image_kind_name(im->kind));
  if (im->kind == HW_IMAGE_RAW) {
    json_builder_set_member_name(b, "stride");
    json_builder_add_int_value(b, im->stride);
  }
  json_builder_set_member_name(b, "confidence");
  json_builder_add_double_value(b, im->confidence);
  add_owners_json(b, res, i);
}

static char *
hit_text(const HwScanOptions *o, const HwScanHit *h)
{
  g_autofree char *where =
      o->pid > 0 ? g_strdup_printf("va 0x%016" G_GINT64_MODIFIER "x  gpa 0x%" G_GINT64_MODIFIER
                                   "x", h->va, h->gpa)
                 : g_strdup_printf("gpa 0x%" G_GINT64_MODIFIER "x", h->gpa);
  if (h->kind != HW_HIT_IMAGE) {
    const HwPattern *p = g_ptr_array_index(o->patterns, h->pattern);
    if (p->kind == HW_PATTERN_STRING)
      return g_strdup_printf("%s  %s \"%s\"", where, p->encoding, p->name);
    if (p->kind == HW_PATTERN_HEX) {
      g_autofree char *hex = hit_hex(p, h, " ");
      return g_strdup_printf("%s  hex %s (%" G_GUINT64_FORMAT " bytes, pattern %s)", where,
                             hex, h->len, p->name);
    }
    /* Tabs and quotes escaped: one hit, one line. */
    g_autofree char *text = g_strescape(h->text, NULL);
    return g_strdup_printf("%s  regex %s \"%s\" (%" G_GUINT64_FORMAT " bytes, /%s/)", where,
                           h->encoding, text, h->len, p->name);
  }
  const HwImage *im = &h->image;
  if (im->kind == HW_IMAGE_RAW)
    return g_strdup_printf("%s  framebuffer %ux%u %s stride %u (%" G_GUINT64_FORMAT
                           " bytes, confidence %.2f)", where, im->width, im->height,
                           hw_pixel_format_name(im->format), im->stride, im->size,
                           im->confidence);
  return g_strdup_printf("%s  %s %ux%u (%" G_GUINT64_FORMAT " bytes)", where,
                         hw_image_kind_name(im->kind), im->width, im->height, im->size);
}

char *
hw_cli_scan_hit_text(const HwScanOptions *o, const HwScanResult *res, guint i)
{
  g_autofree char *bare = hit_text(o, &g_array_index(res->hits, HwScanHit, i));
  g_autofree char *who = owners_text(res, i);
  char *line = g_strconcat(bare, who, NULL);
  if (res->hit_torn == NULL || !res->hit_torn[i])
    return line;
  char *torn = g_strconcat(line, "  [torn: its memory changed during the scan]", NULL);
  g_free(line);
  return torn;
}

void
hw_cli_scan_summary(HwCli *cli, const HwScanOptions *o, const HwScanResult *res, guint n_hits)
{
  if (cli->json) {
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "kind");
    json_builder_add_string_value(b, "summary");
    json_builder_set_member_name(b, "hits");
    json_builder_add_int_value(b, n_hits);
    json_builder_set_member_name(b, "state");
    json_builder_add_string_value(b, res->state);
    json_builder_set_member_name(b, "paused_ms");
    json_builder_add_double_value(b, res->paused_ms);
    json_builder_set_member_name(b, "partial");
    json_builder_add_boolean_value(b, res->partial);
    json_builder_set_member_name(b, "epoch");
    json_builder_add_int_value(b, (gint64)res->epoch);
    json_builder_set_member_name(b, "torn");
    json_builder_add_boolean_value(b, res->torn);
    if (res->changed) {
      /* The pages themselves, up to a bound: their count is always there. */
      json_builder_set_member_name(b, "changed_pages");
      json_builder_add_int_value(b, res->changed->len);
      json_builder_set_member_name(b, "changed");
      json_builder_begin_array(b);
      for (guint i = 0; i < MIN(res->changed->len, 4096u); i++) {
        g_autofree char *hex = hw_cli_hex(g_array_index(res->changed, guint64, i));
        json_builder_add_string_value(b, hex);
      }
      json_builder_end_array(b);
    }
    json_builder_set_member_name(b, "stop_event");
    if (res->stop_ts)
      json_builder_add_string_value(b, res->stop_ts);
    else
      json_builder_add_null_value(b);
    json_builder_set_member_name(b, "resume_event");
    if (res->resume_ts)
      json_builder_add_string_value(b, res->resume_ts);
    else
      json_builder_add_null_value(b);
    if (res->error) {
      json_builder_set_member_name(b, "error");
      json_builder_add_string_value(b, res->error);
    }
    json_builder_end_object(b);
    hw_cli_print_json(json_builder_get_root(b));
    return;
  }
  fflush(stdout);   /* the hits first, also when both go to one pipe */
  fprintf(stderr, "%u hits; %s", n_hits, res->state);
  if (strcmp(res->state, "paused-by-haywire") == 0)
    fprintf(stderr, " for %.1f ms (QEMU STOP at %s, RESUME at %s)", res->paused_ms,
            res->stop_ts ? res->stop_ts : "?", res->resume_ts ? res->resume_ts : "?");
  if (strcmp(res->state, "live") == 0 && res->changed)
    fprintf(stderr, ": the guest ran during the scan, %u pages changed under it%s",
            res->changed->len, res->changed->len ? " (hits on them marked torn)" : "");
  else if (strcmp(res->state, "live") == 0)
    fprintf(stderr, ": the guest ran during the scan, results may be torn");
  fprintf(stderr, "\n");
  if (res->error)
    fprintf(stderr, "haywire: warning: hits may be missing: the scan did not finish\n");
  else if (res->partial)
    fprintf(stderr, "haywire: warning: hits may be missing (too many, or the image checks "
            "spent their read budget: guest memory full of fake image headers?)\n");
}
