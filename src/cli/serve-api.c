/* The viewer's API: the guest's state, processes, maps, memory drawn as pixels, pause
 * and resume. Every handler checks the token first; reads pause the guest around them
 * (unless asked live) exactly as the commands do, and never write guest memory. */
#include "cli/memory-view.h"
#include "cli/scan-session.h"
#include "cli/serve.h"

#include <string.h>

#define MAX_PID G_MAXINT32
#define MAX_CPU 4096u

static void
on_state(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
         gpointer data)
{
  HwServe *s = data;
  (void)server, (void)path;
  if (!hw_serve_authorized(s, msg, query) || !hw_serve_method_is(msg, "GET"))
    return;
  g_autoptr(GError) error = NULL;
  gboolean running = FALSE;
  g_autofree char *status = hw_guest_query_status(s->cli->guest, &running, &error);
  if (status == NULL) {
    hw_serve_reply_gerror(msg, error);
    return;
  }
  JsonBuilder *b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "status");
  json_builder_add_string_value(b, status);
  json_builder_set_member_name(b, "running");
  json_builder_add_boolean_value(b, running);
  json_builder_set_member_name(b, "held");
  json_builder_add_boolean_value(b, s->held);
  json_builder_set_member_name(b, "epoch");
  json_builder_add_int_value(b, (gint64)hw_guest_get_epoch(s->cli->guest));
  json_builder_set_member_name(b, "arch");
  json_builder_add_string_value(b, hw_guest_get_arch_name(s->cli->guest));
  json_builder_set_member_name(b, "vcpus");
  json_builder_add_int_value(b, hw_guest_get_vcpu_count(s->cli->guest));
  json_builder_set_member_name(b, "ram");
  json_builder_begin_array(b);
  guint n = 0;
  HwPhysMem *mem = hw_guest_get_physmem(s->cli->guest);
  const HwRamRange *r = mem ? hw_physmem_get_ranges(mem, &n) : NULL;
  for (guint i = 0; i < n; i++) {
    json_builder_begin_object(b);
    hw_cli_json_hex(b, "gpa", r[i].gpa);
    hw_cli_json_hex(b, "size", r[i].size);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  hw_serve_end_answer(msg, b);
}

static void
on_ps(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
      gpointer data)
{
  HwServe *s = data;
  (void)server, (void)path;
  if (!hw_serve_authorized(s, msg, query) || !hw_serve_method_is(msg, "GET"))
    return;
  g_autoptr(GError) error = NULL;
  gboolean partial = FALSE;
  if (!hw_cli_pause(s->cli, &error)) {
    hw_serve_reply_gerror(msg, error);
    return;
  }
  HwLinux *lx = hw_cli_linux(s->cli, &error);
  g_autoptr(GArray) tasks = lx ? hw_linux_list_tasks(lx, FALSE, &partial, &error) : NULL;
  if (!hw_cli_release_after(s->cli, tasks != NULL, &error)) {
    hw_serve_reply_gerror(msg, error);
    return;
  }
  JsonBuilder *b = hw_serve_begin_answer(s);
  json_builder_set_member_name(b, "partial");
  json_builder_add_boolean_value(b, partial);
  json_builder_set_member_name(b, "tasks");
  json_builder_begin_array(b);
  for (guint i = 0; i < tasks->len; i++)
    hw_cli_json_task(b, &g_array_index(tasks, HwTask, i));
  json_builder_end_array(b);
  hw_serve_end_answer(msg, b);
}

static void
on_maps(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
        gpointer data)
{
  HwServe *s = data;
  (void)server, (void)path;
  if (!hw_serve_authorized(s, msg, query) || !hw_serve_method_is(msg, "GET"))
    return;
  g_autoptr(GError) error = NULL;
  guint64 pid = 0;
  if (!hw_serve_param_u64(query, "pid", 0, MAX_PID, &pid, &error)) {
    hw_serve_reply_gerror(msg, error);
    return;
  }
  if (pid == 0) {
    hw_serve_reply_error(msg, SOUP_STATUS_BAD_REQUEST, "pid: give a process id");
    return;
  }
  if (!hw_cli_pause(s->cli, &error)) {
    hw_serve_reply_gerror(msg, error);
    return;
  }
  gboolean partial = FALSE;
  HwTask t;
  HwLinux *lx = hw_cli_linux(s->cli, &error);
  g_autoptr(GArray) vmas = lx && hw_linux_find_task(lx, (gint32)pid, &t, &error)
                               ? hw_linux_list_vmas(lx, &t, &partial, &error) : NULL;
  if (!hw_cli_release_after(s->cli, vmas != NULL, &error)) {
    hw_serve_reply_gerror(msg, error);
    return;
  }
  JsonBuilder *b = hw_serve_begin_answer(s);
  json_builder_set_member_name(b, "pid");
  json_builder_add_int_value(b, t.pid);
  json_builder_set_member_name(b, "comm");
  json_builder_add_string_value(b, t.comm);
  json_builder_set_member_name(b, "partial");
  json_builder_add_boolean_value(b, partial);
  json_builder_set_member_name(b, "maps");
  json_builder_begin_array(b);
  for (guint i = 0; i < vmas->len; i++)
    hw_cli_json_vma(b, &g_array_index(vmas, HwVma, i));
  json_builder_end_array(b);
  hw_serve_end_answer(msg, b);
}

/* Where a request reads: ADDR (required), in process PID, through vCPU CPU, or
 * physical (PHYS); LIVE: without pausing. Into V, its layout untouched. */
static gboolean
space_from_query(GHashTable *query, HwMemoryView *v, GError **error)
{
  guint64 addr, pid, cpu;
  gboolean phys, live;
  if (!hw_serve_param_u64(query, "addr", G_MAXUINT64, G_MAXUINT64, &addr, error) ||
      !hw_serve_param_u64(query, "pid", 0, MAX_PID, &pid, error) ||
      !hw_serve_param_u64(query, "cpu", 0, MAX_CPU, &cpu, error) ||
      !hw_serve_param_flag(query, "phys", &phys, error) ||
      !hw_serve_param_flag(query, "live", &live, error))
    return FALSE;
  if (addr == G_MAXUINT64 && !(query && g_hash_table_contains(query, "addr"))) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "addr: give an address");
    return FALSE;
  }
  if (phys && pid) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT,
                "a physical address and a process exclude each other");
    return FALSE;
  }
  v->addr = addr, v->phys = phys, v->pid = (int)pid, v->cpu = (int)cpu, v->live = live;
  return TRUE;
}

/* Query parameter "format" as a pixel format; FALSE with the list of names. */
static gboolean
format_from_query(GHashTable *query, HwPixelFormat *f, GError **error)
{
  const char *format = query ? g_hash_table_lookup(query, "format") : NULL;
  if (format != NULL && hw_pixel_format_parse(format, f))
    return TRUE;
  g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "format: one of rgb888, bgr888, "
              "rgba8888, bgra8888, xrgb8888, rgb565, gray8, 1-bit");
  return FALSE;
}

gboolean
hw_serve_view_from_query(GHashTable *query, HwMemoryView *v, GError **error)
{
  guint64 width, height, stride, scale;
  gboolean keep_alpha;
  HwPixelFormat f;
  *v = (HwMemoryView){ 0 };
  if (!format_from_query(query, &f, error) ||
      !hw_serve_param_u64(query, "width", 0, HW_RENDER_MAX_SIDE, &width, error) ||
      !hw_serve_param_u64(query, "height", 0, HW_RENDER_MAX_SIDE, &height, error) ||
      !hw_serve_param_u64(query, "stride", 0, HW_SERVE_MAX_BYTES, &stride, error) ||
      !hw_serve_param_u64(query, "scale", 1, HW_RENDER_MAX_SCALE, &scale, error) ||
      !hw_serve_param_flag(query, "alpha", &keep_alpha, error) ||
      !space_from_query(query, v, error))
    return FALSE;
  v->layout = (HwRenderLayout){ .format = f, .width = (guint32)width, .height = (guint32)height,
                                .stride = stride, .scale = (guint32)scale,
                                .keep_alpha = keep_alpha };
  guint64 total = 0;
  if (!hw_memory_view_check(v, &total, error))
    return FALSE;
  if (total > HW_SERVE_MAX_BYTES ||
      (guint64)width * scale * height * scale > HW_SERVE_MAX_PIXELS) {
    g_set_error(error, HW_ERROR, HW_ERROR_LIMIT, "one request draws at most %u MiB of memory "
                "and %u Mpixels: ask for a smaller window", HW_SERVE_MAX_BYTES >> 20,
                HW_SERVE_MAX_PIXELS >> 20);
    return FALSE;
  }
  return TRUE;
}

static void
set_header_u64(SoupMessageHeaders *h, const char *name, guint64 v)
{
  char text[32];
  g_snprintf(text, sizeof text, "%" G_GUINT64_FORMAT, v);
  soup_message_headers_replace(h, name, text);
}

void
hw_serve_reply_rgba(HwServe *s, SoupServerMessage *msg, guint8 *rgba, guint32 w, guint32 h,
                    const char *state)
{
  SoupMessageHeaders *hd = soup_server_message_get_response_headers(msg);
  set_header_u64(hd, "X-Haywire-Width", w);
  set_header_u64(hd, "X-Haywire-Height", h);
  set_header_u64(hd, "X-Haywire-Epoch", hw_guest_get_epoch(s->cli->guest));
  soup_message_headers_replace(hd, "X-Haywire-State", state);
  soup_message_headers_replace(hd, "Cache-Control", "no-store");
  soup_server_message_set_response(msg, "application/octet-stream", SOUP_MEMORY_TAKE,
                                   (char *)rgba, (gsize)w * h * 4);
  soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
}

/* Memory as RGBA rows, binary: the page draws them with putImageData. The size and the
 * moment come in headers. */
static void
on_pixels(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
          gpointer data)
{
  HwServe *s = data;
  (void)server, (void)path;
  if (!hw_serve_authorized(s, msg, query) || !hw_serve_method_is(msg, "GET"))
    return;
  g_autoptr(GError) error = NULL;
  HwMemoryView v;
  if (!hw_serve_view_from_query(query, &v, &error)) {
    hw_serve_reply_gerror(msg, error);
    return;
  }
  guint32 w = 0, h = 0;
  guint64 unreadable = 0;
  const char *state = NULL;
  guint8 *rgba = hw_memory_view_draw(s->cli, &v, &w, &h, &unreadable, &state, &error);
  if (rgba == NULL) {
    hw_serve_reply_gerror(msg, error);
    return;
  }
  SoupMessageHeaders *hd = soup_server_message_get_response_headers(msg);
  set_header_u64(hd, "X-Haywire-Stride", v.layout.stride);
  set_header_u64(hd, "X-Haywire-Unreadable", unreadable);
  hw_serve_reply_rgba(s, msg, rgba, w, h, state);
}

/* Width guesses for the memory at an address: the row strides at which it lines up
 * as pixels, as the raw finder judges them, best first, for one format or (no format)
 * for each format with whole bytes per pixel. */
static void
on_widths(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
          gpointer data)
{
  HwServe *s = data;
  (void)server, (void)path;
  if (!hw_serve_authorized(s, msg, query) || !hw_serve_method_is(msg, "GET"))
    return;
  g_autoptr(GError) error = NULL;
  HwMemoryView v = { 0 };
  guint64 len = 0;
  HwPixelFormat formats[HW_PIXEL_N_FORMATS];
  guint n_formats = 0;
  if (query && g_hash_table_contains(query, "format")) {
    if (!format_from_query(query, &formats[0], &error)) {
      hw_serve_reply_gerror(msg, error);
      return;
    }
    n_formats = 1;
  } else {
    for (guint f = 0; f < HW_PIXEL_N_FORMATS; f++)
      if (f != HW_PIXEL_MONO1)
        formats[n_formats++] = (HwPixelFormat)f;
  }
  if (!space_from_query(query, &v, &error) ||
      !hw_serve_param_u64(query, "len", 0, HW_SERVE_GUESS_BYTES, &len, &error)) {
    hw_serve_reply_gerror(msg, error);
    return;
  }
  if (len == 0 || v.addr + len - 1 < v.addr) {
    hw_serve_reply_error(msg, SOUP_STATUS_BAD_REQUEST, "len: the bytes to look at, 1 to %u "
                         "MiB, not wrapping around", HW_SERVE_GUESS_BYTES >> 20);
    return;
  }
  HwStrideGuess guesses[HW_SERVE_MAX_GUESSES];
  /* Without a format, the best of each: the page lists formats, not their multiples. */
  guint per = n_formats == 1 ? HW_SERVE_MAX_GUESSES : 1;
  const char *state = NULL;
  guint n = hw_memory_view_guess(s->cli, &v, len, formats, n_formats, per, guesses,
                                 HW_SERVE_MAX_GUESSES, &state, &error);
  if (n == G_MAXUINT) {
    hw_serve_reply_gerror(msg, error);
    return;
  }
  /* Across formats, the closest fit first. */
  for (guint i = 1; n_formats > 1 && i < n; i++)
    for (guint j = i; j > 0 && guesses[j].fit > guesses[j - 1].fit; j--) {
      HwStrideGuess t = guesses[j];
      guesses[j] = guesses[j - 1];
      guesses[j - 1] = t;
    }
  JsonBuilder *b = hw_serve_begin_answer(s);
  json_builder_set_member_name(b, "state");
  json_builder_add_string_value(b, state);
  json_builder_set_member_name(b, "guesses");
  json_builder_begin_array(b);
  for (guint i = 0; i < n; i++) {
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "format");
    json_builder_add_string_value(b, hw_pixel_format_name(guesses[i].format));
    json_builder_set_member_name(b, "width");
    json_builder_add_int_value(b, guesses[i].width);
    json_builder_set_member_name(b, "stride");
    json_builder_add_int_value(b, guesses[i].stride);
    json_builder_set_member_name(b, "offset");
    json_builder_add_int_value(b, guesses[i].offset);
    json_builder_set_member_name(b, "fit");
    json_builder_add_double_value(b, guesses[i].fit);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  hw_serve_end_answer(msg, b);
}

/* The owners of the page at P's gpa, from the owner map of this moment (built once per
 * epoch: every page table walked), into the answer DATA is building. */
static void
peek_owners(HwCli *cli, const HwMemoryPeek *p, gpointer data)
{
  HwServe *s = ((gpointer *)data)[0];
  GArray **owners = ((gpointer *)data)[1];
  guint64 epoch = hw_guest_get_epoch(cli->guest);
  if (s->owners == NULL || s->owners_epoch != epoch) {
    g_clear_pointer(&s->owners, hw_owner_map_free);
    HwLinux *lx = hw_cli_linux(cli, NULL);
    s->owners = lx ? hw_owner_map_build(lx, NULL, NULL) : NULL;
    s->owners_epoch = epoch;
  }
  if (s->owners && p->has_gpa)
    *owners = hw_owner_map_lookup(s->owners, p->gpa);
}

/* The bytes at an address (hex, "??" where unreadable), the physical address they are
 * at and (owners=1: every page table walked once per epoch) who maps that page: the
 * viewer's hex and text panes and its cursor. */
static void
on_peek(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
        gpointer data)
{
  HwServe *s = data;
  (void)server, (void)path;
  if (!hw_serve_authorized(s, msg, query) || !hw_serve_method_is(msg, "GET"))
    return;
  g_autoptr(GError) error = NULL;
  HwMemoryView v = { 0 };
  guint64 len = 0;
  gboolean want_owners = FALSE;
  if (!space_from_query(query, &v, &error) ||
      !hw_serve_param_u64(query, "len", 256, HW_MEMORY_PEEK_MAX, &len, &error) ||
      !hw_serve_param_flag(query, "owners", &want_owners, &error)) {
    hw_serve_reply_gerror(msg, error);
    return;
  }
  g_autofree HwMemoryPeek *p = g_new(HwMemoryPeek, 1);
  g_autoptr(GArray) owners = NULL;
  gpointer ctx[2] = { s, &owners };
  if (!hw_memory_view_peek(s->cli, &v, (guint)len, p, want_owners ? peek_owners : NULL, ctx,
                           &error)) {
    hw_serve_reply_gerror(msg, error);
    return;
  }
  g_autofree char *hex = g_malloc((gsize)p->len * 2 + 1);
  for (guint i = 0; i < p->len; i++)
    if (p->readable[i])
      g_snprintf(hex + 2 * i, 3, "%02x", p->bytes[i]);
    else
      memcpy(hex + 2 * i, "??", 3);
  hex[2 * p->len] = 0;
  JsonBuilder *b = hw_serve_begin_answer(s);
  json_builder_set_member_name(b, "state");
  json_builder_add_string_value(b, p->state);
  hw_cli_json_hex(b, "addr", p->addr);
  if (p->has_gpa)
    hw_cli_json_hex(b, "gpa", p->gpa);
  json_builder_set_member_name(b, "hex");
  json_builder_add_string_value(b, hex);
  json_builder_set_member_name(b, "owners_known");
  json_builder_add_boolean_value(b, owners != NULL);
  json_builder_set_member_name(b, "owners");
  json_builder_begin_array(b);
  for (guint i = 0; owners && i < owners->len; i++)
    hw_cli_json_owner(b, &g_array_index(owners, HwOwner, i));
  json_builder_end_array(b);
  hw_serve_end_answer(msg, b);
}

/* The search a finds request asks for: one of text (its ASCII and UTF-16LE bytes),
 * hex (bytes, ?? wildcards) or regex (in runs of text; icase=1 ignores case), at most
 * HW_SERVE_MAX_PATTERN bytes; *PATTERNS NULL without one (the images then). */
static gboolean
finds_patterns(GHashTable *query, GPtrArray **patterns, GError **error)
{
  static const char *const names[] = { "text", "hex", "regex" };
  const char *which = NULL, *value = NULL;
  for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
    const char *v = query ? g_hash_table_lookup(query, names[i]) : NULL;
    if (v == NULL)
      continue;
    if (which != NULL || *v == '\0') {
      g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT,
                  "search for one of text, hex or regex, not empty");
      return FALSE;
    }
    which = names[i], value = v;
  }
  *patterns = NULL;
  if (which == NULL)
    return TRUE;
  gboolean icase = FALSE;
  if (!hw_serve_param_flag(query, "icase", &icase, error))
    return FALSE;
  if (strlen(value) > HW_SERVE_MAX_PATTERN) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "%s: at most %u bytes", which,
                HW_SERVE_MAX_PATTERN);
    return FALSE;
  }
  if (which[0] == 't') {
    *patterns = hw_pattern_list_for_string(value, error);
    return *patterns != NULL;
  }
  HwPattern *p = which[0] == 'h' ? hw_pattern_new_hex(value, error)
                                 : hw_pattern_new_regex(value, icase, error);
  if (p == NULL)
    return FALSE;
  *patterns = g_ptr_array_new_with_free_func((GDestroyNotify)hw_pattern_free);
  g_ptr_array_add(*patterns, p);
  return TRUE;
}

/* The images in all RAM and every process, as `scan` finds them (one hit per image,
 * each with its owners), or with text, hex or regex the places that search finds; the
 * guest paused for the scan. */
static void
on_finds(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
         gpointer data)
{
  HwServe *s = data;
  (void)server, (void)path;
  if (!hw_serve_authorized(s, msg, query) || !hw_serve_method_is(msg, "GET"))
    return;
  g_autoptr(GError) error = NULL;
  HwScanOptions o = { .images = (1u << HW_IMAGE_N_KINDS) - 1, .follow = TRUE };
  g_autoptr(GPtrArray) patterns = NULL;
  if (!finds_patterns(query, &patterns, &error)) {
    hw_serve_reply_gerror(msg, error);
    return;
  }
  if (patterns) {
    o.patterns = patterns;
    o.images = 0;   /* a search: its hits only */
  }
  HwScanResult res;
  if (!hw_cli_scan_run(s->cli, &o, NULL, NULL, &res, &error)) {
    hw_cli_scan_result_clear(&res);
    hw_serve_reply_gerror(msg, error);
    return;
  }
  JsonBuilder *b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "state");
  json_builder_add_string_value(b, res.state);
  json_builder_set_member_name(b, "epoch");
  json_builder_add_int_value(b, (gint64)res.epoch);
  json_builder_set_member_name(b, "partial");
  json_builder_add_boolean_value(b, res.partial);
  json_builder_set_member_name(b, "truncated");
  json_builder_add_boolean_value(b, res.hits->len > HW_SERVE_MAX_HITS);
  json_builder_set_member_name(b, "hits");
  json_builder_begin_array(b);
  for (guint i = 0; i < MIN(res.hits->len, HW_SERVE_MAX_HITS); i++) {
    hw_cli_scan_hit_json(b, &o, &res, i);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  hw_cli_scan_result_clear(&res);
  hw_serve_end_answer(msg, b);
}

/* An image a request names: a file of KIND at ADDR, or raw pixel rows there (kind
 * framebuffer or raw, with format, width, height and stride), physical or in process
 * PID. Parsed and bounded before the guest is paused. */
typedef struct {
  HwImageKind kind;
  guint64 addr, pid;
  HwImage raw;           /* raw: the layout asked for */
} ImageRequest;

static gboolean
image_request(GHashTable *query, ImageRequest *q, GError **error)
{
  const char *kind = query ? g_hash_table_lookup(query, "kind") : NULL;
  guint mask = 0;
  *q = (ImageRequest){ 0 };
  if (kind == NULL || strlen(kind) > 16 || !hw_image_kinds_parse(kind, &mask, NULL) ||
      (mask & (mask - 1)) != 0) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT,
                "kind: png, jpeg, gif, bmp, webp or framebuffer");
    return FALSE;
  }
  q->kind = (HwImageKind)__builtin_ctz(mask);
  if (!hw_serve_param_u64(query, "addr", G_MAXUINT64, G_MAXUINT64, &q->addr, error) ||
      !hw_serve_param_u64(query, "pid", 0, MAX_PID, &q->pid, error))
    return FALSE;
  if (q->addr == G_MAXUINT64 && !(query && g_hash_table_contains(query, "addr"))) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "addr: give the image's address");
    return FALSE;
  }
  if (q->kind != HW_IMAGE_RAW)
    return TRUE;
  guint64 width, height, stride, span;
  HwPixelFormat f;
  if (!format_from_query(query, &f, error) ||
      !hw_serve_param_u64(query, "width", 0, HW_RENDER_MAX_SIDE, &width, error) ||
      !hw_serve_param_u64(query, "height", 0, HW_RENDER_MAX_SIDE, &height, error) ||
      !hw_serve_param_u64(query, "stride", 0, HW_SERVE_MAX_BYTES * 4ull, &stride, error))
    return FALSE;
  if (stride == 0)
    stride = hw_carve_row_bytes(f, (guint32)width);
  if (!hw_carve_pixels_check(f, (guint32)width, (guint32)height, stride, &span, error))
    return FALSE;
  if ((guint64)width * height > HW_SERVE_THUMB_PIXELS || q->addr + span - 1 < q->addr) {
    g_set_error(error, HW_ERROR, HW_ERROR_LIMIT, "raw pixels: at most %u Mpixels, not "
                "wrapping around", HW_SERVE_THUMB_PIXELS >> 20);
    return FALSE;
  }
  q->raw = (HwImage){ .kind = HW_IMAGE_RAW, .addr = q->addr, .size = span,
                      .width = (guint32)width, .height = (guint32)height,
                      .stride = (guint32)stride, .format = f, .confidence = 1 };
  return TRUE;
}

/* With the guest paused: Q's address space into *MMU (the caller frees) and *R, and
 * the image there into *IM (a file checked afresh, raw rows as asked). */
static gboolean
image_open(HwServe *s, const ImageRequest *q, HwMmu **mmu, HwReader *r, HwImage *im,
           GError **error)
{
  *mmu = q->pid ? hw_cli_mmu(s->cli, 0, NULL, (int)q->pid, error) : NULL;
  if (q->pid && *mmu == NULL)
    return FALSE;
  *r = *mmu ? hw_reader_for_mmu(*mmu)
             : hw_reader_for_physmem(hw_guest_get_physmem(s->cli->guest));
  if (q->kind == HW_IMAGE_RAW) {
    *im = q->raw;
    return TRUE;
  }
  if (hw_image_check(q->kind, r, q->addr, im))
    return TRUE;
  g_set_error(error, HW_ERROR, HW_ERROR_NOT_FOUND, "no %s file at 0x%" G_GINT64_MODIFIER "x",
              hw_image_kind_name(q->kind), q->addr);
  return FALSE;
}

/* The image decoded to RGBA (at most MAX_PIXELS), then scaled to at most SIDE pixels a
 * side (0: not scaled); *W, *H its size, *SRC_W, *SRC_H the image's. NULL with *ERROR;
 * the guest paused around the reads. */
static guint8 *
image_rgba(HwServe *s, const ImageRequest *q, guint max_pixels, guint32 side, guint32 *w,
           guint32 *h, guint *src_w, guint *src_h, guint64 *size, GError **error)
{
  if (!hw_cli_pause(s->cli, error))
    return NULL;
  g_autoptr(HwMmu) mmu = NULL;
  HwReader r;
  HwImage im = { 0 };
  g_autofree guint8 *rgba = image_open(s, q, &mmu, &r, &im, error)
                              ? hw_image_decode_rgba(&r, &im, max_pixels, src_w, src_h, error)
                              : NULL;
  *size = im.size;
  if (!hw_cli_release_after(s->cli, rgba != NULL, error))
    return NULL;
  if (side == 0) {
    *w = *src_w, *h = *src_h;
    return g_steal_pointer(&rgba);
  }
  return hw_thumbnail_scale(rgba, *src_w, *src_h, side, w, h, error);
}

/* An image found in memory, checked afresh and decoded by its library (raw rows
 * converted): RGBA, as for pixels. */
static void
on_decoded(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
           gpointer data)
{
  HwServe *s = data;
  (void)server, (void)path;
  if (!hw_serve_authorized(s, msg, query) || !hw_serve_method_is(msg, "GET"))
    return;
  g_autoptr(GError) error = NULL;
  ImageRequest q;
  guint32 w = 0, h = 0;
  guint sw = 0, sh = 0;
  guint64 size = 0;
  guint8 *rgba = image_request(query, &q, &error)
                   ? image_rgba(s, &q, HW_SERVE_MAX_PIXELS, 0, &w, &h, &sw, &sh, &size, &error)
                   : NULL;
  if (rgba == NULL) {
    hw_serve_reply_gerror(msg, error);
    return;
  }
  set_header_u64(soup_server_message_get_response_headers(msg), "X-Haywire-Size", size);
  hw_serve_reply_rgba(s, msg, rgba, w, h, hw_cli_state(s->cli, FALSE));
}

/* A found image made small for the finds list: at most SIDE (16 to 256, default 96)
 * pixels a side, RGBA as for pixels, with the image's own size in
 * X-Haywire-Image-Width and -Height. */
static void
on_thumbnail(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
             gpointer data)
{
  HwServe *s = data;
  (void)server, (void)path;
  if (!hw_serve_authorized(s, msg, query) || !hw_serve_method_is(msg, "GET"))
    return;
  g_autoptr(GError) error = NULL;
  ImageRequest q;
  guint64 side = 0, size = 0;
  guint32 w = 0, h = 0;
  guint sw = 0, sh = 0;
  guint8 *rgba = NULL;
  if (image_request(query, &q, &error) &&
      hw_serve_param_u64(query, "side", 96, 256, &side, &error)) {
    if (side < 16)
      g_set_error(&error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "side: 16 to 256 pixels");
    else
      rgba = image_rgba(s, &q, HW_SERVE_THUMB_PIXELS, (guint32)side, &w, &h, &sw, &sh, &size,
                        &error);
  }
  if (rgba == NULL) {
    hw_serve_reply_gerror(msg, error);
    return;
  }
  SoupMessageHeaders *hd = soup_server_message_get_response_headers(msg);
  set_header_u64(hd, "X-Haywire-Image-Width", sw);
  set_header_u64(hd, "X-Haywire-Image-Height", sh);
  hw_serve_reply_rgba(s, msg, rgba, w, h, hw_cli_state(s->cli, FALSE));
}

typedef struct {
  const HwReader *r;
  const HwImage *im;
} CarveFile;

static gboolean
write_carved(const char *path, gpointer data, GError **error)
{
  CarveFile *c = data;
  return hw_carve_write(c->r, c->im, path, error);
}

/* A found image carved, as `carve` writes it: a file byte for byte, raw rows as an
 * RGBA PNG; a download (Content-Disposition) named after where it was. */
static void
on_carved(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
          gpointer data)
{
  HwServe *s = data;
  (void)server, (void)path;
  if (!hw_serve_authorized(s, msg, query) || !hw_serve_method_is(msg, "GET"))
    return;
  g_autoptr(GError) error = NULL;
  ImageRequest q;
  if (!image_request(query, &q, &error) || !hw_cli_pause(s->cli, &error)) {
    hw_serve_reply_gerror(msg, error);
    return;
  }
  g_autoptr(HwMmu) mmu = NULL;
  HwReader r;
  HwImage im = { 0 };
  gsize len = 0;
  g_autofree char *bytes = NULL;
  if (image_open(s, &q, &mmu, &r, &im, &error)) {
    if (q.kind != HW_IMAGE_RAW) {
      bytes = (char *)hw_carve_read(&r, &im, &len, &error);
    } else {
      /* Raw rows become a PNG, as `carve` writes it. */
      CarveFile c = { &r, &im };
      bytes = hw_serve_written_bytes(write_carved, &c, &len, &error);
    }
  }
  if (!hw_cli_release_after(s->cli, bytes != NULL, &error)) {
    hw_serve_reply_gerror(msg, error);
    return;
  }
  static const char *const types[] = {
    [HW_IMAGE_PNG] = "image/png", [HW_IMAGE_JPEG] = "image/jpeg", [HW_IMAGE_GIF] = "image/gif",
    [HW_IMAGE_BMP] = "image/bmp", [HW_IMAGE_WEBP] = "image/webp", [HW_IMAGE_RAW] = "image/png",
  };
  g_autofree char *where = q.pid ? g_strdup_printf("pid%" G_GUINT64_FORMAT, q.pid)
                                 : g_strdup("phys");
  g_autofree char *name = g_strdup_printf("haywire-%s-0x%" G_GINT64_MODIFIER "x.%s", where,
                                          q.addr, hw_carve_extension(q.kind));
  hw_serve_reply_download(msg, types[q.kind], name, g_steal_pointer(&bytes), len);
}

/* Every page of RAM by class, as `overview` draws it, for the page to draw and point
 * into: the class bytes of each range in base64, the classes' names and colours. */
static void
on_overview(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
            gpointer data)
{
  HwServe *s = data;
  (void)server, (void)path;
  if (!hw_serve_authorized(s, msg, query) || !hw_serve_method_is(msg, "GET"))
    return;
  g_autoptr(GError) error = NULL;
  if (!hw_cli_pause(s->cli, &error)) {
    hw_serve_reply_gerror(msg, error);
    return;
  }
  HwPhysMem *mem = hw_guest_get_physmem(s->cli->guest);
  /* Without a kernel model the overview has no page-table class. */
  HwLinux *lx = hw_cli_linux(s->cli, NULL);
  HwOverviewPages pages;
  gboolean ok = hw_overview_collect(mem, lx, 0, NULL, NULL, &pages, &error);
  if (!hw_cli_release_after(s->cli, ok, &error)) {
    hw_overview_pages_clear(&pages);   /* zeroed or partly filled: either is cleared */
    hw_serve_reply_gerror(msg, error);
    return;
  }
  JsonBuilder *b = hw_serve_begin_answer(s);
  json_builder_set_member_name(b, "tables_known");
  json_builder_add_boolean_value(b, pages.tables_known);
  json_builder_set_member_name(b, "partial");
  json_builder_add_boolean_value(b, pages.partial);
  json_builder_set_member_name(b, "classes");
  json_builder_begin_array(b);
  for (guint c = 0; c < HW_PAGE_N_CLASSES; c++) {
    char colour[8];
    g_snprintf(colour, sizeof colour, "#%06x", hw_overview_class_colour(c));
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, hw_overview_class_name(c));
    json_builder_set_member_name(b, "colour");
    json_builder_add_string_value(b, colour);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  guint n = 0;
  const HwRamRange *ram = hw_physmem_get_ranges(mem, &n);
  hw_serve_json_page_bytes(b, ram, n, pages.classes, "classes");
  hw_overview_pages_clear(&pages);
  hw_serve_end_answer(msg, b);
}

/* What pause and resume answer: whether the viewer holds the guest, and the epoch. */
static void
reply_held(HwServe *s, SoupServerMessage *msg)
{
  JsonBuilder *b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "held");
  json_builder_add_boolean_value(b, s->held);
  json_builder_set_member_name(b, "epoch");
  json_builder_add_int_value(b, (gint64)hw_guest_get_epoch(s->cli->guest));
  hw_serve_end_answer(msg, b);
}

/* Pause: the guest stays paused until Resume or the server ends (which resumes it). */
static void
on_pause(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
         gpointer data)
{
  HwServe *s = data;
  (void)server, (void)path;
  if (!hw_serve_authorized(s, msg, query) || !hw_serve_method_is(msg, "POST"))
    return;
  g_autoptr(GError) error = NULL;
  gboolean was_running = FALSE;
  if (!s->held) {
    if (!hw_guest_pause(s->cli->guest, &was_running, &error)) {
      hw_serve_reply_gerror(msg, error);
      return;
    }
    s->held = was_running;   /* a guest someone else paused is theirs to resume */
  }
  reply_held(s, msg);
}

static void
on_resume(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
          gpointer data)
{
  HwServe *s = data;
  (void)server, (void)path;
  if (!hw_serve_authorized(s, msg, query) || !hw_serve_method_is(msg, "POST"))
    return;
  g_autoptr(GError) error = NULL;
  if (!s->held) {
    hw_serve_reply_error(msg, SOUP_STATUS_CONFLICT, "the viewer did not pause the guest: "
                         "it resumes only what it paused");
    return;
  }
  if (!hw_guest_resume(s->cli->guest, &error)) {
    hw_serve_reply_gerror(msg, error);
    return;
  }
  s->held = FALSE;
  reply_held(s, msg);
}

void
hw_serve_add_api(HwServe *s)
{
  soup_server_add_handler(s->server, "/api/state", on_state, s, NULL);
  soup_server_add_handler(s->server, "/api/ps", on_ps, s, NULL);
  soup_server_add_handler(s->server, "/api/maps", on_maps, s, NULL);
  soup_server_add_handler(s->server, "/api/pixels", on_pixels, s, NULL);
  soup_server_add_handler(s->server, "/api/widths", on_widths, s, NULL);
  soup_server_add_handler(s->server, "/api/peek", on_peek, s, NULL);
  soup_server_add_handler(s->server, "/api/finds", on_finds, s, NULL);
  soup_server_add_handler(s->server, "/api/overview", on_overview, s, NULL);
  soup_server_add_handler(s->server, "/api/decoded", on_decoded, s, NULL);
  soup_server_add_handler(s->server, "/api/thumbnail", on_thumbnail, s, NULL);
  soup_server_add_handler(s->server, "/api/carved", on_carved, s, NULL);
  soup_server_add_handler(s->server, "/api/pause", on_pause, s, NULL);
  soup_server_add_handler(s->server, "/api/resume", on_resume, s, NULL);
  hw_serve_add_gpu(s);
}
