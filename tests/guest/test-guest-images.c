/* Images in a real guest: hwtest holds a PNG, a JPEG, a GIF and a BMP (the files of
 * guest/images/) and a raw RGBA bitmap, in pages that are not physically contiguous.
 * scan finds them with the right dimensions, carve writes them back byte for byte,
 * render draws known pixels, overview classifies all of RAM. */
#include "guest-harness.h"
#include "../common/read-png.h"
#include "../../guest/hwtest-pixels.h"

#include <png.h>
#include <stdio.h>   /* before jpeglib.h, which uses FILE */
#include <jpeglib.h>
#include <string.h>
#include <glib/gstdio.h>

static HwTestGuest *guest;

static const struct {
  const char *kind, *file;
  guint width, height;
} files[] = {
  { "png", "photo.png", 128, 96 },
  { "jpeg", "photo.jpg", 240, 180 },
  { "gif", "icon.gif", 64, 48 },
  { "bmp", "logo.bmp", 40, 30 },
  { "webp", "photo.webp", 128, 96 },
};

static char *
source_file(const char *name)
{
  const char *root = g_getenv("HW_SOURCE_ROOT");
  g_assert_nonnull(root);
  return g_build_filename(root, "guest", "images", name, NULL);
}

static guint64
file_size(const char *name)
{
  g_autofree char *path = source_file(name);
  GStatBuf st;
  g_assert_cmpint(g_stat(path, &st), ==, 0);
  return (guint64)st.st_size;
}

/* The hit of KIND whose MEMBER ("gpa" or "va") is VALUE, or NULL. */
static JsonObject *
find_hit(GPtrArray *objs, const char *kind, const char *member, guint64 value)
{
  for (guint i = 0; i < objs->len; i++) {
    JsonObject *o = json_node_get_object(objs->pdata[i]);
    if (g_strcmp0(json_object_get_string_member(o, "kind"), kind) == 0 &&
        json_object_has_member(o, member) && hw_json_hex(o, member) == value)
      return o;
  }
  return NULL;
}

static guint64
first_gpa(const HwTruthImage *im)
{
  return g_array_index(im->pas, guint64, 0) + (im->va & (guest->sleep.page_size - 1));
}

static void
assert_raw_pixels(const guint8 *px)
{
  for (int y = 0; y < HWTEST_RAW_H; y++)
    for (int x = 0; x < HWTEST_RAW_W; x++) {
      guint8 want[4];
      hwtest_raw_pixel(x, y, want);
      g_assert_cmpmem(px + ((gsize)y * HWTEST_RAW_W + (gsize)x) * 4, 4, want, 4);
    }
}

static void
test_scan_phys(void)
{
  g_autoptr(HwRun) r = hw_test_runv(guest, "--json", "scan", "--find", "png,jpeg,gif,bmp,webp", NULL);
  g_autoptr(GPtrArray) objs = hw_run_json_lines(r);
  for (gsize i = 0; i < G_N_ELEMENTS(files); i++) {
    const HwTruthImage *im = hw_test_guest_image(guest, guest->sleep.pid, files[i].kind);
    g_assert_nonnull(im);
    g_assert_cmpuint(im->size, ==, file_size(files[i].file));
    /* Every copy found has the file's size and dimensions; the one in hwtest's
     * memory is found where pagemap says it starts, if it fits in its first page
     * or its pages happen to be contiguous: the physical scan reads RAM in order. */
    guint found = 0;
    for (guint k = 0; k < objs->len; k++) {
      JsonObject *o = json_node_get_object(objs->pdata[k]);
      if (g_strcmp0(json_object_get_string_member(o, "kind"), files[i].kind) != 0)
        continue;
      g_assert_cmpint(json_object_get_int_member(o, "size"), ==, (gint64)im->size);
      g_assert_cmpint(json_object_get_int_member(o, "width"), ==, files[i].width);
      g_assert_cmpint(json_object_get_int_member(o, "height"), ==, files[i].height);
      g_assert_cmpstr(json_object_get_string_member(o, "state"), ==, "paused-by-haywire");
      found++;
    }
    /* The initramfs file in the page cache (rootfs) is at least one copy. */
    g_test_message("%s: %u copies in physical RAM", files[i].kind, found);
    g_assert_cmpuint(found, >=, 1);
    /* Where pagemap says it starts, also when its pages are scattered: the scan
     * follows them through the page tables of the processes mapping them. */
    g_assert_nonnull(find_hit(objs, files[i].kind, "gpa", first_gpa(im)));
  }
}

/* Whether hit O lists process PID as an owner at VA. */
static gboolean
has_owner(JsonObject *o, gint64 pid, guint64 va)
{
  if (!json_object_has_member(o, "owners"))
    return FALSE;
  JsonArray *a = json_object_get_array_member(o, "owners");
  for (guint i = 0; i < json_array_get_length(a); i++) {
    JsonObject *w = json_array_get_object_element(a, i);
    if (g_strcmp0(json_object_get_string_member(w, "kind"), "process") == 0 &&
        json_object_get_int_member(w, "pid") == pid && hw_json_hex(w, "va") == va)
      return TRUE;
  }
  return FALSE;
}

/* The default scan, all RAM and every process: each of hwtest's images once, at the
 * gpa of its first byte, with hwtest among its owners at the VA it printed, also where
 * the pages are scattered (the PNG and the raw bitmap are). */
static void
test_scan_all(void)
{
  g_autoptr(HwRun) r = hw_test_runv(guest, "--json", "scan", NULL);
  g_autoptr(GPtrArray) objs = hw_run_json_lines(r);
  for (gsize i = 0; i < G_N_ELEMENTS(files) + 1; i++) {
    const char *kind = i < G_N_ELEMENTS(files) ? files[i].kind : "raw";
    const HwTruthImage *im = hw_test_guest_image(guest, guest->sleep.pid, kind);
    g_assert_nonnull(im);
    guint64 gpa = first_gpa(im);
    const char *hit_kind = i < G_N_ELEMENTS(files) ? kind : "framebuffer";
    guint same = 0;
    for (guint k = 0; k < objs->len; k++) {
      JsonObject *o = json_node_get_object(objs->pdata[k]);
      if (g_strcmp0(json_object_get_string_member(o, "kind"), hit_kind) == 0 &&
          json_object_has_member(o, "gpa") && hw_json_hex(o, "gpa") == gpa) {
        same++;
        g_assert_true(has_owner(o, guest->sleep.pid, im->va));
        g_assert_cmpint(json_object_get_int_member(o, "width"), ==,
                        i < G_N_ELEMENTS(files) ? (gint64)files[i].width : HWTEST_RAW_W);
      }
    }
    g_test_message("%s at 0x%" G_GINT64_MODIFIER "x: %u hits", kind, gpa, same);
    g_assert_cmpuint(same, ==, 1);
  }
}

static void
test_scan_pid(void)
{
  g_autofree char *pid = g_strdup_printf("%d", guest->sleep.pid);
  g_autoptr(HwRun) r = hw_test_runv(guest, "--json", "scan", "--pid", pid, NULL);
  g_autoptr(GPtrArray) objs = hw_run_json_lines(r);
  for (gsize i = 0; i < G_N_ELEMENTS(files); i++) {
    const HwTruthImage *im = hw_test_guest_image(guest, guest->sleep.pid, files[i].kind);
    JsonObject *o = find_hit(objs, files[i].kind, "va", im->va);
    g_assert_nonnull(o);
    g_assert_cmphex(hw_json_hex(o, "gpa"), ==, first_gpa(im));
    g_assert_cmpint(json_object_get_int_member(o, "size"), ==, (gint64)im->size);
    g_assert_cmpint(json_object_get_int_member(o, "width"), ==, files[i].width);
    g_assert_cmpint(json_object_get_int_member(o, "height"), ==, files[i].height);
  }
  /* The PNG spans pages that are not physically contiguous (the premise). */
  const HwTruthImage *png = hw_test_guest_image(guest, guest->sleep.pid, "png");
  gboolean scattered = FALSE;
  for (guint k = 1; k < png->pas->len; k++)
    scattered |= g_array_index(png->pas, guint64, k) !=
                 g_array_index(png->pas, guint64, k - 1) + guest->sleep.page_size;
  g_assert_cmpuint(png->pas->len, >=, 2);
  g_assert_true(scattered);

  const HwTruthImage *raw = hw_test_guest_image(guest, guest->sleep.pid, "raw");
  JsonObject *o = find_hit(objs, "framebuffer", "va", raw->va);
  g_assert_nonnull(o);
  g_assert_cmpint(json_object_get_int_member(o, "width"), ==, HWTEST_RAW_W);
  g_assert_cmpint(json_object_get_int_member(o, "height"), ==, HWTEST_RAW_H);
  g_assert_cmpstr(json_object_get_string_member(o, "format"), ==, "rgba8888");
  g_assert_cmpfloat(json_object_get_double_member(o, "confidence"), >=, 0.5);
  /* The 64x64 gradient after the marker is a raw bitmap too. */
  o = find_hit(objs, "framebuffer", "va", guest->sleep.grad_va);
  g_assert_nonnull(o);
  g_assert_cmpint(json_object_get_int_member(o, "width"), ==, 64);
  g_assert_cmpint(json_object_get_int_member(o, "height"), ==, 64);
}

static void
test_carve_pid(void)
{
  g_autofree char *dir = g_dir_make_tmp("hw-carve-XXXXXX", NULL);
  g_autofree char *pid = g_strdup_printf("%d", guest->sleep.pid);
  g_autoptr(HwRun) r = hw_test_runv(guest, "--json", "carve", "--pid", pid, "-d", dir, NULL);
  g_autoptr(GPtrArray) objs = hw_run_json_lines(r);
  for (gsize i = 0; i < G_N_ELEMENTS(files); i++) {
    const HwTruthImage *im = hw_test_guest_image(guest, guest->sleep.pid, files[i].kind);
    JsonObject *o = find_hit(objs, files[i].kind, "va", im->va);
    g_assert_nonnull(o);
    g_autofree char *want = NULL, *got = NULL, *orig = source_file(files[i].file);
    gsize want_len, got_len;
    g_assert_true(g_file_get_contents(orig, &want, &want_len, NULL));
    g_assert_true(g_file_get_contents(json_object_get_string_member(o, "file"), &got, &got_len,
                                      NULL));
    g_assert_cmpmem(got, got_len, want, want_len);
  }
  const HwTruthImage *raw = hw_test_guest_image(guest, guest->sleep.pid, "raw");
  JsonObject *o = find_hit(objs, "framebuffer", "va", raw->va);
  g_assert_nonnull(o);
  guint w, h;
  g_autofree guint8 *px = hw_test_read_png(json_object_get_string_member(o, "file"), &w, &h);
  g_assert_cmpuint(w, ==, HWTEST_RAW_W);
  g_assert_cmpuint(h, ==, HWTEST_RAW_H);
  assert_raw_pixels(px);
  g_autofree char *rm = g_strdup_printf("rm -rf '%s'", dir);
  g_assert_cmpint(system(rm), ==, 0);
}

static void
test_carve_phys(void)
{
  g_autofree char *dir = g_dir_make_tmp("hw-carve-XXXXXX", NULL);
  g_autoptr(HwRun) r = hw_test_runv(guest, "--json", "carve", "--find", "png,jpeg", "-d", dir,
                                    NULL);
  g_autoptr(GPtrArray) objs = hw_run_json_lines(r);
  guint identical = 0;
  for (guint k = 0; k + 1 < objs->len; k++) {
    JsonObject *o = json_node_get_object(objs->pdata[k]);
    const char *kind = json_object_get_string_member(o, "kind");
    g_autofree char *orig = source_file(g_str_equal(kind, "png") ? "photo.png" : "photo.jpg");
    g_autofree char *want = NULL, *got = NULL;
    gsize want_len, got_len;
    g_assert_true(g_file_get_contents(orig, &want, &want_len, NULL));
    g_assert_true(g_file_get_contents(json_object_get_string_member(o, "file"), &got, &got_len,
                                      NULL));
    identical += got_len == want_len && memcmp(got, want, got_len) == 0;
  }
  /* Every PNG and JPEG in this guest is a copy of the two files. */
  g_assert_cmpuint(identical, ==, objs->len - 1);
  g_assert_cmpuint(identical, >=, 2);
  g_autofree char *rm = g_strdup_printf("rm -rf '%s'", dir);
  g_assert_cmpint(system(rm), ==, 0);
}

/* The first HWIMAGE of KIND, whatever process printed it. */
static const HwTruthImage *
image_of_kind(const char *kind)
{
  for (guint i = 0; i < guest->images->len; i++) {
    const HwTruthImage *im = g_ptr_array_index(guest->images, i);
    if (g_strcmp0(im->kind, kind) == 0)
      return im;
  }
  return NULL;
}

/* JPEG pixels decoded here as hwdecode decodes them in the guest (same library, same
 * defaults), RGB. */
static guint8 *
decode_jpeg_rgb(const char *path, guint *w, guint *h)
{
  g_autofree char *data = NULL;
  gsize len;
  g_assert_true(g_file_get_contents(path, &data, &len, NULL));
  struct jpeg_decompress_struct d;
  struct jpeg_error_mgr jerr;
  d.err = jpeg_std_error(&jerr);
  jpeg_create_decompress(&d);
  jpeg_mem_src(&d, (const unsigned char *)data, (unsigned long)len);
  jpeg_read_header(&d, TRUE);
  d.out_color_space = JCS_RGB;
  jpeg_start_decompress(&d);
  *w = d.output_width, *h = d.output_height;
  guint8 *px = g_malloc((gsize)*w * *h * 3);
  while (d.output_scanline < d.output_height) {
    JSAMPROW row = px + (gsize)d.output_scanline * *w * 3;
    jpeg_read_scanlines(&d, &row, 1);
  }
  jpeg_finish_decompress(&d);
  jpeg_destroy_decompress(&d);
  return px;
}

/* hwdecode keeps the PNG decoded by libpng (RGBA) and the JPEG decoded by libjpeg-turbo
 * (RGB) in its heap, as a viewer would: a scan of its address space finds both with
 * their width, height and format, and carve writes back exactly their pixels. */
static void
test_decoded(void)
{
  const HwTruthImage *png = image_of_kind("decoded-png"), *jpg = image_of_kind("decoded-jpeg");
  g_assert_nonnull(png);
  g_assert_nonnull(jpg);
  g_autofree char *dir = g_dir_make_tmp("hw-decoded-XXXXXX", NULL);
  g_autofree char *pid = g_strdup_printf("%d", png->pid);
  g_autoptr(HwRun) r = hw_test_runv(guest, "--json", "carve", "--pid", pid, "--find",
                                    "framebuffer", "-d", dir, NULL);
  g_autoptr(GPtrArray) objs = hw_run_json_lines(r);
  for (guint k = 0; k < objs->len; k++) {
    g_autofree char *line = json_to_string(objs->pdata[k], FALSE);
    g_test_message("%s", line);
  }
  /* The PNG: RGBA as libpng gave it. */
  JsonObject *o = find_hit(objs, "framebuffer", "va", png->va);
  g_assert_nonnull(o);
  g_assert_cmpint(json_object_get_int_member(o, "width"), ==, 128);
  g_assert_cmpint(json_object_get_int_member(o, "height"), ==, 96);
  g_assert_cmpint(json_object_get_int_member(o, "stride"), ==, 128 * 4);
  g_assert_cmpstr(json_object_get_string_member(o, "format"), ==, "rgba8888");
  guint w, h, ww, wh;
  g_autofree char *png_path = source_file("photo.png");
  g_autofree guint8 *want = hw_test_read_png(png_path, &ww, &wh);
  g_autofree guint8 *got = hw_test_read_png(json_object_get_string_member(o, "file"), &w, &h);
  g_assert_cmpuint(w, ==, ww);
  g_assert_cmpuint(h, ==, wh);
  g_assert_cmpmem(got, (gsize)w * h * 4, want, (gsize)ww * wh * 4);
  /* The JPEG: RGB rows of 240 pixels (red and blue cannot be told apart from the bytes:
   * rgb888 or bgr888). */
  o = find_hit(objs, "framebuffer", "va", jpg->va);
  g_assert_nonnull(o);
  g_assert_cmpint(json_object_get_int_member(o, "width"), ==, 240);
  g_assert_cmpint(json_object_get_int_member(o, "height"), ==, 180);
  g_assert_cmpint(json_object_get_int_member(o, "stride"), ==, 240 * 3);
  const char *fmt = json_object_get_string_member(o, "format");
  g_assert_true(g_str_equal(fmt, "rgb888") || g_str_equal(fmt, "bgr888"));
  g_autofree char *jpg_path = source_file("photo.jpg");
  g_autofree guint8 *rgb = decode_jpeg_rgb(jpg_path, &ww, &wh);
  g_autofree guint8 *carved = hw_test_read_png(json_object_get_string_member(o, "file"), &w, &h);
  g_assert_cmpuint(w, ==, ww);
  g_assert_cmpuint(h, ==, wh);
  gboolean swap = g_str_equal(fmt, "bgr888");
  for (gsize i = 0; i < (gsize)w * h; i++)
    for (guint c = 0; c < 3; c++)
      g_assert_cmpuint(carved[4 * i + (swap ? 2 - c : c)], ==, rgb[3 * i + c]);
  g_autofree char *rm = g_strdup_printf("rm -rf '%s'", dir);
  g_assert_cmpint(system(rm), ==, 0);
}

/* scan --hex with a wildcard and --regex find hwtest's marker: in its address space at
 * its VA, and in all RAM at the PA pagemap gave, with the bytes and text they matched. */
static void
test_patterns(void)
{
  g_autofree char *pid = g_strdup_printf("%d", guest->sleep.pid);
  /* "HAYWIRE-TEST-?ARKER" */
  const char *hex = "48 41 59 57 49 52 45 2d 54 45 53 54 2d ?? 41 52 4b 45 52";
  g_autoptr(HwRun) r = hw_test_runv(guest, "--json", "scan", "--pid", pid, "--hex", hex, NULL);
  g_autoptr(GPtrArray) objs = hw_run_json_lines(r);
  JsonObject *o = find_hit(objs, "hex", "va", guest->sleep.va);
  g_assert_nonnull(o);
  g_assert_cmphex(hw_json_hex(o, "gpa"), ==, guest->sleep.pa);
  g_assert_cmpstr(json_object_get_string_member(o, "bytes"), ==,
                  "484159574952452d544553542d4d41524b4552");
  g_autoptr(HwRun) r2 = hw_test_runv(guest, "--json", "scan", "--regex",
                                     "HAYWIRE-TEST-MARKER-[0-9a-f]{16}", NULL);
  g_autoptr(GPtrArray) objs2 = hw_run_json_lines(r2);
  o = find_hit(objs2, "regex", "gpa", guest->sleep.pa);
  g_assert_nonnull(o);
  g_assert_cmpstr(json_object_get_string_member(o, "text"), ==,
                  "HAYWIRE-TEST-MARKER-0123456789abcdef");
  g_assert_cmpstr(json_object_get_string_member(o, "encoding"), ==, "ascii");
  /* Bad patterns are usage errors. */
  g_autoptr(HwRun) bad = hw_test_runv(guest, "scan", "--hex", "4g 41", NULL);
  g_assert_cmpint(bad->status, ==, 2);
  g_autoptr(HwRun) bad2 = hw_test_runv(guest, "scan", "--regex", "(unclosed", NULL);
  g_assert_cmpint(bad2->status, ==, 2);
}

/* With the guest paused, two image scans give the same hits, line for line. */
static void
test_repeatable(void)
{
  g_autoptr(HwRun) p = hw_test_runv(guest, "pause", NULL);
  g_autoptr(HwRun) a = hw_test_runv(guest, "--json", "scan", NULL);
  g_autoptr(HwRun) b = hw_test_runv(guest, "--json", "scan", NULL);
  g_autoptr(HwRun) c = hw_test_runv(guest, "resume", NULL);
  g_autoptr(GPtrArray) la = hw_run_json_lines(a), lb = hw_run_json_lines(b);
  g_assert_cmpuint(la->len, ==, lb->len);
  g_assert_cmpuint(la->len, >, 5);
  for (guint i = 0; i + 1 < la->len; i++) {
    g_autofree char *x = json_to_string(la->pdata[i], FALSE);
    g_autofree char *y = json_to_string(lb->pdata[i], FALSE);
    g_assert_cmpstr(x, ==, y);
    g_assert_nonnull(strstr(x, "\"already-paused\""));
  }
  g_assert_true(hw_test_guest_running(guest));
}

static void
test_render(void)
{
  g_autofree char *dir = g_dir_make_tmp("hw-render-XXXXXX", NULL);
  g_autofree char *out = g_build_filename(dir, "raw.png", NULL);
  g_autofree char *pid = g_strdup_printf("%d", guest->sleep.pid);
  const HwTruthImage *raw = hw_test_guest_image(guest, guest->sleep.pid, "raw");
  g_autofree char *va = g_strdup_printf("0x%" G_GINT64_MODIFIER "x", raw->va);
  g_autoptr(HwRun) r = hw_test_runv(guest, "--json", "render", va, "--pid", pid, "--width",
                                    "200", "--height", "150", "--format", "rgba8888", "-o", out,
                                    NULL);
  JsonObject *o = hw_run_object(r);
  g_assert_cmpint(json_object_get_int_member(o, "unreadable_bytes"), ==, 0);
  guint w, h;
  g_autofree guint8 *px = hw_test_read_png(out, &w, &h);
  g_assert_cmpuint(w, ==, HWTEST_RAW_W);
  assert_raw_pixels(px);

  /* The gradient, physically (its one page), scaled 4x: each pixel a 4x4 square. */
  g_autofree char *gpa = g_strdup_printf("0x%" G_GINT64_MODIFIER "x", guest->sleep.grad_pa);
  g_autofree char *out2 = g_build_filename(dir, "grad.png", NULL);
  g_autoptr(HwRun) r2 = hw_test_runv(guest, "render", gpa, "--phys", "--width", "64",
                                     "--height", "16", "--format", "rgba8888", "--scale", "4",
                                     "-o", out2, NULL);
  g_assert_cmpint(r2->status, ==, 0);
  g_autofree guint8 *g = hw_test_read_png(out2, &w, &h);
  g_assert_cmpuint(w, ==, 256);
  g_assert_cmpuint(h, ==, 64);
  g_autofree guint8 *want = g_malloc(64 * 16 * 4);
  hw_test_expected_gradient(want, 64, 16);
  for (guint y = 0; y < 64; y++)
    for (guint x = 0; x < 256; x++)
      g_assert_cmpmem(g + (y * 256 + x) * 4, 4, want + ((y / 4) * 64 + x / 4) * 4, 4);

  /* Memory that cannot be read is drawn hatched, not an error. */
  g_autoptr(HwRun) r3 = hw_test_runv(guest, "--json", "render", "0x1000", "--pid", pid,
                                     "--width", "64", "--height", "4", "--format", "gray8",
                                     "-o", out2, NULL);
  o = hw_run_object(r3);
  g_assert_cmpint(json_object_get_int_member(o, "unreadable_bytes"), ==, 256);
  g_autofree char *rm = g_strdup_printf("rm -rf '%s'", dir);
  g_assert_cmpint(system(rm), ==, 0);
}

static void
test_overview(void)
{
  g_autofree char *dir = g_dir_make_tmp("hw-overview-XXXXXX", NULL);
  g_autofree char *out = g_build_filename(dir, "ram.png", NULL);
  g_autoptr(HwRun) r = hw_test_runv(guest, "--json", "overview", "-o", out, NULL);
  JsonObject *o = hw_run_object(r);
  JsonObject *c = json_object_get_object_member(o, "classes");
  gint64 pages = json_object_get_int_member(o, "pages"), sum = 0;
  GList *names = json_object_get_members(c);
  for (GList *l = names; l; l = l->next)
    sum += json_object_get_int_member(c, l->data);
  g_list_free(names);
  g_assert_cmpint(sum, ==, pages);
  g_assert_cmpint(json_object_get_int_member(c, "zero"), >, pages / 4);
  g_assert_cmpint(json_object_get_int_member(c, "text"), >, 0);
  g_assert_cmpint(json_object_get_int_member(c, "image"), >, 0);
  /* Two hwtest processes, init and shells: dozens of page-table pages. */
  g_assert_true(json_object_get_boolean_member(o, "page_tables_known"));
  g_assert_cmpint(json_object_get_int_member(c, "page-table"), >, 20);
  g_assert_cmpint(json_object_get_int_member(o, "address_spaces"), >=, 3);
  g_assert_cmpstr(json_object_get_string_member(o, "state"), ==, "paused-by-haywire");
  guint w, h;
  g_autofree guint8 *px = hw_test_read_png(out, &w, &h);
  g_assert_cmpuint(w, ==, json_object_get_int_member(o, "width"));
  g_assert_cmpuint(h, ==, json_object_get_int_member(o, "height"));
  g_assert_true(hw_test_guest_running(guest));
  g_autofree char *rm = g_strdup_printf("rm -rf '%s'", dir);
  g_assert_cmpint(system(rm), ==, 0);
}

/* Bad requests are usage errors (exit 2), and leave the guest running. */
static void
test_bad_requests(void)
{
  const char *const bad[][12] = {
    { "scan", "--find", "tiff", NULL },
    { "carve", NULL },
    { "render", "0x1000", "--width", "64", "--format", "rgb999", "-o", "/tmp/x.png", NULL },
    { "render", "0x1000", "--width", "0", "--format", "gray8", "-o", "/tmp/x.png", NULL },
    { "render", "0x1000", "--width", "64", "--format", "gray8", NULL },
    { "render", "0x1000", "--width", "64", "--stride", "10", "--format", "gray8", "-o",
      "/tmp/x.png", NULL },
    { "overview", NULL },
  };
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(HwRun) r = hw_test_run(guest, bad[i]);
    g_assert_cmpint(r->status, ==, 2);
    g_assert_nonnull(strstr(r->err, "haywire"));
  }
  g_assert_true(hw_test_guest_running(guest));
  /* Every command has its help, and the global help names the image commands. */
  g_autoptr(HwRun) help = hw_test_runv(NULL, "--help", NULL);
  g_assert_cmpint(help->status, ==, 0);
  const char *cmds[] = { "scan", "carve", "render", "overview" };
  for (gsize i = 0; i < G_N_ELEMENTS(cmds); i++) {
    g_autofree char *line = g_strdup_printf("\n  %s ", cmds[i]);
    g_assert_nonnull(strstr(help->out, line));
    g_autoptr(HwRun) h = hw_test_runv(NULL, cmds[i], "--help", NULL);
    g_assert_cmpint(h->status, ==, 0);
    g_assert_nonnull(strstr(h->out, "Usage:"));
  }
}

void
hw_test_add_image_tests(HwTestGuest *g)
{
  guest = g;
  g_autofree char *p = g_strdup_printf("/images/%s/", g->config);
#define ADD(name, fn) hw_test_add(p, name, fn)
  ADD("scan-phys", test_scan_phys);
  ADD("scan-pid", test_scan_pid);
  ADD("scan-all", test_scan_all);
  ADD("patterns", test_patterns);
  if (!g_str_has_prefix(g->config, "aarch64"))   /* hwdecode is built for x86-64 only */
    ADD("decoded", test_decoded);
  ADD("carve-pid", test_carve_pid);
  ADD("carve-phys", test_carve_phys);
  ADD("repeatable", test_repeatable);
  ADD("render", test_render);
  ADD("overview", test_overview);
  ADD("bad-requests", test_bad_requests);
#undef ADD
}
