/* The guest's display on real devices: bochs-display (VRAM a RAM region of QEMU at a PCI
 * BAR) and virtio-gpu-pci (framebuffers in guest RAM). The guest loads Debian's DRM
 * drivers and hwgpu draws a known screen into a dumb buffer shown on a CRTC, and a
 * second buffer no CRTC shows. Checked against QEMU's own screendump of the same paused
 * moment, pixel for pixel. */
#include "guest-harness.h"
#include "../common/read-png.h"

#include <glib/gstdio.h>
#include <string.h>

static HwTestGuest *guest;
static const char *config;

/* One HWTRUTH-GPU line. */
typedef struct {
  int pid;
  guint fb, crtc, handle;
  guint width, height, pitch;
  guint64 size, va;
} GpuBuffer;

static GpuBuffer screen, offscreen;

static guint64
field(const char *line, const char *name)
{
  g_autofree char *key = g_strdup_printf(" %s=", name);
  const char *p = strstr(line, key);
  if (p == NULL)
    g_error("HWTRUTH-GPU line without %s: %s", name, line);
  return g_ascii_strtoull(p + strlen(key), NULL, 0);
}

static void
read_truth(void)
{
  g_auto(GStrv) lines = g_strsplit(guest->serial, "\n", -1);
  for (guint i = 0; lines[i]; i++) {
    const char *l = strstr(lines[i], "HWTRUTH-GPU ");
    if (l == NULL)
      continue;
    g_autofree char *line = g_strdup(l + strlen("HWTRUTH-GPU") - 1);
    g_strchomp(line);
    GpuBuffer *b = strstr(line, " role=screen") ? &screen : &offscreen;
    b->pid = (int)field(line, "pid");
    b->fb = (guint)field(line, "fb");
    b->handle = (guint)field(line, "handle");
    if (b == &screen)
      b->crtc = (guint)field(line, "crtc");
    b->width = (guint)field(line, "width");
    b->height = (guint)field(line, "height");
    b->pitch = (guint)field(line, "pitch");
    b->size = field(line, "size");
    b->va = field(line, "va");
  }
  if (screen.pid == 0 || offscreen.pid == 0)
    g_error("the guest printed no HWTRUTH-GPU lines (did the DRM driver load?)");
}

/* SIZE bytes at ADDR read by `read` with SPACE ("--phys", or "--pid" and PID). */
static guint8 *
read_bytes(const char *space, const char *pid, guint64 addr, guint64 size)
{
  g_autofree char *dir = g_dir_make_tmp("hw-gpu-XXXXXX", NULL);
  g_autofree char *out = g_build_filename(dir, "bytes.raw", NULL);
  g_autofree char *a = g_strdup_printf("0x%" G_GINT64_MODIFIER "x", addr);
  g_autofree char *len = g_strdup_printf("%" G_GUINT64_FORMAT, size);
  g_autoptr(HwRun) r = pid ? hw_test_runv(guest, "read", space, pid, a, len, "-o", out, NULL)
                           : hw_test_runv(guest, "read", space, a, len, "-o", out, NULL);
  if (r->status != 0)
    g_error("read %s: %s", space, r->err);
  gsize got = 0;
  guint8 *data = NULL;
  g_assert_true(g_file_get_contents(out, (char **)&data, &got, NULL));
  g_assert_cmpuint(got, ==, size);
  g_unlink(out);
  g_rmdir(dir);
  return data;
}

/* The bytes of B, read with `read --pid` from its process's mapping (the dumb buffer's
 * pages: guest RAM for virtio-gpu, the device's VRAM for bochs). */
static guint8 *
read_buffer(const GpuBuffer *b)
{
  g_autofree char *pid = g_strdup_printf("%d", b->pid);
  return read_bytes("--pid", pid, b->va, (guint64)b->pitch * b->height);
}

/* `info` lists the device's VRAM beside RAM where the device has VRAM. */
static void
test_device_regions(void)
{
  g_autoptr(HwRun) r = hw_test_runv(guest, "--json", "info", NULL);
  JsonObject *o = hw_run_object(r);
  JsonArray *devices = json_object_get_array_member(o, "devices");
  gboolean vram = FALSE, bios = FALSE;
  for (guint i = 0; i < json_array_get_length(devices); i++) {
    JsonObject *d = json_array_get_object_element(devices, i);
    const char *name = json_object_get_string_member(d, "name");
    if (strcmp(name, "bochs-display-vram") == 0) {
      vram = TRUE;
      g_assert_cmphex(hw_json_hex(d, "size"), ==, 16u << 20);
    }
    bios |= strcmp(name, "pc.bios") == 0;
  }
  g_assert_true(bios);
  g_assert_cmpint(vram, ==, g_str_has_suffix(config, "-bochs"));
  g_assert_true(json_object_get_null_member(o, "devices_note"));
  /* The RAM total is RAM only. */
  g_assert_cmphex(hw_json_hex(o, "ram_size"), ==, 512u << 20);
}

/* The bytes of the device region at GPA, SIZE long, read with `read --phys`. */
static guint8 *
read_phys(guint64 gpa, guint64 size)
{
  return read_bytes("--phys", NULL, gpa, size);
}

/* MEM (rows PITCH bytes apart, XRGB8888: bytes B, G, R, X) is the screendump DUMP
 * (W x H RGB), pixel for pixel. */
static void
assert_same_screen(const guint8 *dump, guint w, guint h, const guint8 *mem, guint pitch)
{
  guint bad = 0;
  for (guint y = 0; y < h; y++)
    for (guint x = 0; x < w; x++) {
      const guint8 *d = dump + ((gsize)y * w + x) * 3, *m = mem + (gsize)y * pitch + x * 4;
      if ((d[0] != m[2] || d[1] != m[1] || d[2] != m[0]) && bad++ < 5)
        g_test_message("pixel %u,%u: screendump %02x%02x%02x, memory %02x%02x%02x", x, y,
                       d[0], d[1], d[2], m[2], m[1], m[0]);
    }
  g_assert_cmpuint(bad, ==, 0);
}

/* Pause, take QEMU's screendump, and return it (*W x *H RGB) with the guest left paused. */
static guint8 *
paused_screendump(guint *w, guint *h)
{
  g_autoptr(HwRun) p = hw_test_runv(guest, "pause", NULL);
  g_assert_cmpint(p->status, ==, 0);
  guint8 *dump = hw_test_screendump(guest, w, h);
  g_assert_cmpuint(*w, ==, screen.width);
  g_assert_cmpuint(*h, ==, screen.height);
  return dump;
}

static void
resume(void)
{
  g_autoptr(HwRun) c = hw_test_runv(guest, "resume", NULL);
  g_assert_cmpint(c->status, ==, 0);
}

/* virtio-gpu: the screen buffer as hwgpu's process maps it (guest RAM) equals QEMU's
 * screendump at one paused moment. */
static void
test_screen_through_process(void)
{
  guint w = 0, h = 0;
  g_autofree guint8 *dump = paused_screendump(&w, &h);
  g_autofree guint8 *mem = read_buffer(&screen);
  resume();
  assert_same_screen(dump, w, h, mem, screen.pitch);
}

/* bochs: the screen is in the device's VRAM (read through QEMU's process at the BAR's
 * gpa); TTM moved it there when it was pinned for scanout, unmapping the process's view
 * of it. Somewhere in VRAM, page-aligned, it equals QEMU's screendump. */
static void
test_screen_in_vram(void)
{
  guint w = 0, h = 0;
  g_autofree guint8 *dump = paused_screendump(&w, &h);
  g_autofree guint8 *vram = read_phys(0xfd000000, 16u << 20);
  resume();
  /* The first row: XRGB8888 of the dump's. */
  g_autofree guint8 *row = g_malloc((gsize)w * 4);
  for (guint x = 0; x < w; x++) {
    row[x * 4] = dump[x * 3 + 2];
    row[x * 4 + 1] = dump[x * 3 + 1];
    row[x * 4 + 2] = dump[x * 3];
    row[x * 4 + 3] = 0;
  }
  gsize at = G_MAXSIZE;
  for (gsize off = 0; off + (gsize)screen.pitch * h <= 16u << 20 && at == G_MAXSIZE; off += 4096)
    if (memcmp(vram + off, row, (gsize)w * 4) == 0 &&
        memcmp(vram + off + screen.pitch, row, (gsize)w * 4) == 0)   /* rows 0-3: white */
      at = off;
  if (at == G_MAXSIZE)
    g_error("the screen's first row is nowhere in VRAM");
  g_test_message("the screen is at VRAM offset 0x%" G_GSIZE_MODIFIER "x", at);
  assert_same_screen(dump, w, h, vram + at, screen.pitch);
}

/* The off-screen buffer holds its 8x8 checks. */
static void
test_offscreen_through_process(void)
{
  g_autofree guint8 *mem = read_buffer(&offscreen);
  for (guint y = 0; y < offscreen.height; y++)
    for (guint x = 0; x < offscreen.width; x++) {
      guint32 want = ((x / 8 + y / 8) & 1) ? 0x00a5e3 : 0xe35a00;
      const guint8 *m = mem + (gsize)y * offscreen.pitch + x * 4;
      guint32 got = (guint32)m[2] << 16 | (guint32)m[1] << 8 | m[0];
      if (got != want)
        g_error("off-screen pixel %u,%u: 0x%06x, want 0x%06x", x, y, got, want);
    }
}

/* The framebuffer with id ID in `gpu --json`'s list (asserts). */
static JsonObject *
gpu_framebuffer(JsonObject *o, guint id)
{
  JsonArray *fbs = json_object_get_array_member(o, "framebuffers");
  for (guint i = 0; i < json_array_get_length(fbs); i++) {
    JsonObject *fb = json_array_get_object_element(fbs, i);
    if (json_object_get_int_member(fb, "id") == id)
      return fb;
  }
  g_error("framebuffer %u not listed by gpu", id);
}

/* `gpu` lists the device and both of hwgpu's buffers: sizes, format, owner, which one the
 * CRTC shows, and where each one's pixels are. */
static void
test_gpu_list(void)
{
  gboolean bochs = g_str_has_suffix(config, "-bochs");
  g_autoptr(HwRun) r = hw_test_runv(guest, "--json", "gpu", NULL);
  JsonObject *o = hw_run_object(r);
  g_assert_false(json_object_get_boolean_member(o, "partial"));
  JsonArray *devs = json_object_get_array_member(o, "devices");
  g_assert_cmpuint(json_array_get_length(devs), ==, 1);
  JsonObject *dev = json_array_get_object_element(devs, 0);
  g_assert_cmpstr(json_object_get_string_member(dev, "driver"), ==,
                  bochs ? "bochs-drm" : "virtio_gpu");
  g_assert_cmpint(json_object_get_int_member(dev, "minor"), ==, 0);
  if (bochs) {
    g_assert_cmphex(hw_json_hex(dev, "vram_gpa"), ==, 0xfd000000);
    g_assert_cmphex(hw_json_hex(dev, "vram_size"), ==, 16u << 20);
  }
  const GpuBuffer *bufs[] = { &screen, &offscreen };
  for (guint i = 0; i < 2; i++) {
    const GpuBuffer *b = bufs[i];
    JsonObject *fb = gpu_framebuffer(o, b->fb);
    g_assert_cmpstr(json_object_get_string_member(fb, "format"), ==, "XR24");
    g_assert_cmpstr(json_object_get_string_member(fb, "pixel_format"), ==, "xrgb8888");
    g_assert_cmpint(json_object_get_int_member(fb, "width"), ==, b->width);
    g_assert_cmpint(json_object_get_int_member(fb, "height"), ==, b->height);
    g_assert_cmpint(json_object_get_int_member(fb, "pitch"), ==, b->pitch);
    g_assert_cmpint(json_object_get_int_member(fb, "pid"), ==, b->pid);
    g_assert_cmpstr(json_object_get_string_member(fb, "comm"), ==, "hwgpu");
    g_assert_cmphex(hw_json_hex(fb, "size"), >=, (guint64)b->pitch * b->height);
    g_assert_false(json_object_get_boolean_member(fb, "partial"));
    gboolean shown = b == &screen;
    g_assert_cmpint(json_object_get_boolean_member(fb, "on_screen"), ==, shown);
    if (shown)
      g_assert_cmpint(json_object_get_int_member(fb, "crtc"), ==, b->crtc);
    /* bochs scans out of VRAM (TTM moved the shown buffer there); virtio-gpu reads the
     * guest's pages. */
    const char *backing = json_object_get_string_member(fb, "backing");
    if (bochs && shown) {
      g_assert_cmpstr(backing, ==, "vram");
      JsonObject *e = json_array_get_object_element(json_object_get_array_member(fb, "extents"), 0);
      g_assert_cmphex(hw_json_hex(e, "gpa"), >=, 0xfd000000);
      g_assert_cmphex(hw_json_hex(e, "gpa"), <, 0xfe000000);
    } else {
      g_assert_cmpstr(backing, ==, "pages");
    }
  }
  /* hwgpu's two GEM handles, each the object of its framebuffer. */
  JsonArray *objs = json_object_get_array_member(o, "objects");
  guint held = 0;
  for (guint i = 0; i < json_array_get_length(objs); i++) {
    JsonObject *ob = json_array_get_object_element(objs, i);
    if (json_object_get_int_member(ob, "pid") != screen.pid)
      continue;
    const GpuBuffer *b = json_object_get_int_member(ob, "handle") == screen.handle ? &screen
                         : json_object_get_int_member(ob, "handle") == offscreen.handle
                         ? &offscreen : NULL;
    g_assert_nonnull(b);
    g_assert_cmpint(json_object_get_int_member(ob, "fb"), ==, b->fb);
    g_assert_cmpstr(json_object_get_string_member(ob, "gem_object"), ==,
                    json_object_get_string_member(gpu_framebuffer(o, b->fb), "gem_object"));
    g_assert_false(json_object_get_boolean_member(ob, "partial"));
    held++;
  }
  g_assert_cmpuint(held, ==, 2);
  /* The fbdev console's framebuffer is the kernel's: no process holds it. */
  JsonArray *fbs = json_object_get_array_member(o, "framebuffers");
  gboolean console = FALSE;
  for (guint i = 0; i < json_array_get_length(fbs); i++) {
    JsonObject *fb = json_array_get_object_element(fbs, i);
    console |= json_object_get_int_member(fb, "pid") == -1;
  }
  g_assert_true(console);
}

/* A PNG written by `screen` ARGS... as RGBA (asserts); *W x *H. */
static guint8 *
run_screen(guint *w, guint *h, const char *fb)
{
  g_autofree char *dir = g_dir_make_tmp("hw-gpu-XXXXXX", NULL);
  g_autofree char *out = g_build_filename(dir, "screen.png", NULL);
  g_autoptr(HwRun) r = fb ? hw_test_runv(guest, "--json", "screen", "--fb", fb, "-o", out, NULL)
                          : hw_test_runv(guest, "--json", "screen", "-o", out, NULL);
  JsonObject *o = hw_run_object(r);
  g_assert_false(json_object_get_boolean_member(o, "partial"));
  g_assert_cmpstr(json_object_get_string_member(o, "file"), ==, out);
  guint8 *px = hw_test_read_png(out, w, h);
  g_unlink(out);
  g_rmdir(dir);
  return px;
}

/* `screen`, from guest memory alone, is QEMU's screendump of the same paused moment,
 * pixel for pixel. */
static void
test_screen_matches_screendump(void)
{
  guint w = 0, h = 0, sw = 0, sh = 0;
  g_autofree guint8 *dump = paused_screendump(&w, &h);
  g_autofree guint8 *shot = run_screen(&sw, &sh, NULL);
  resume();
  g_assert_cmpuint(sw, ==, w);
  g_assert_cmpuint(sh, ==, h);
  guint bad = 0;
  for (guint i = 0; i < w * h; i++)
    if (memcmp(dump + (gsize)i * 3, shot + (gsize)i * 4, 3) != 0 && bad++ < 5)
      g_test_message("pixel %u,%u: screendump %02x%02x%02x, screen %02x%02x%02x", i % w, i / w,
                     dump[i * 3], dump[i * 3 + 1], dump[i * 3 + 2], shot[i * 4],
                     shot[i * 4 + 1], shot[i * 4 + 2]);
  g_assert_cmpuint(bad, ==, 0);
}

/* The off-screen buffer's 8x8 checks in PX (W x H RGBA). */
static void
assert_offscreen(const guint8 *px, guint w, guint h)
{
  g_assert_cmpuint(w, ==, offscreen.width);
  g_assert_cmpuint(h, ==, offscreen.height);
  for (guint y = 0; y < h; y++)
    for (guint x = 0; x < w; x++) {
      guint32 want = ((x / 8 + y / 8) & 1) ? 0x00a5e3 : 0xe35a00;
      if (hw_test_rgb(px, w, x, y) != want)
        g_error("off-screen pixel %u,%u: 0x%06x, want 0x%06x", x, y, hw_test_rgb(px, w, x, y),
                want);
    }
}

/* The off-screen buffer, carved with `screen --fb` and with `carve --gpu` (which names
 * the shown one too). */
static void
test_offscreen_carved(void)
{
  g_autofree char *id = g_strdup_printf("%u", offscreen.fb);
  guint w = 0, h = 0;
  g_autofree guint8 *px = run_screen(&w, &h, id);
  assert_offscreen(px, w, h);

  g_autofree char *dir = g_dir_make_tmp("hw-gpu-carve-XXXXXX", NULL);
  g_autoptr(HwRun) r = hw_test_runv(guest, "--json", "carve", "-d", dir, "--gpu", "--find",
                                    "png", NULL);
  g_autoptr(GPtrArray) lines = hw_run_json_lines(r);
  gboolean off_seen = FALSE, screen_seen = FALSE;
  for (guint i = 0; i < lines->len; i++) {
    JsonObject *o = json_node_get_object(lines->pdata[i]);
    if (!json_object_has_member(o, "kind") ||
        g_strcmp0(json_object_get_string_member(o, "kind"), "framebuffer") != 0)
      continue;
    guint fb = (guint)json_object_get_int_member(o, "framebuffer");
    if (fb == screen.fb) {
      g_assert_true(json_object_get_boolean_member(o, "on_screen"));
      screen_seen = TRUE;
    }
    if (fb != offscreen.fb)
      continue;
    g_assert_false(json_object_get_boolean_member(o, "on_screen"));
    g_assert_cmpint(json_object_get_int_member(o, "pid"), ==, offscreen.pid);
    const char *file = json_object_get_string_member(o, "file");
    g_autofree char *want_file = g_strdup_printf("%s/fb-%u.png", dir, fb);
    g_assert_cmpstr(file, ==, want_file);
    g_autofree guint8 *carved = hw_test_read_png(file, &w, &h);
    assert_offscreen(carved, w, h);
    off_seen = TRUE;
  }
  g_assert_true(off_seen && screen_seen);
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  for (const char *name; d && (name = g_dir_read_name(d)) != NULL;) {
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_unlink(path);
  }
  g_rmdir(dir);
}

/* Bad input: a framebuffer id that is not there, a negative one. */
static void
test_screen_bad_input(void)
{
  g_autoptr(HwRun) r = hw_test_runv(guest, "screen", "--fb", "999999", "-o", "/dev/null", NULL);
  g_assert_cmpint(r->status, ==, 1);
  g_assert_nonnull(strstr(r->err, "no framebuffer 999999"));
  g_autoptr(HwRun) n = hw_test_runv(guest, "screen", "--fb", "-3", NULL);
  g_assert_cmpint(n->status, ==, 2);
  g_assert_true(hw_test_guest_running(guest));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  config = g_getenv("HW_GUEST_CONFIG");
  g_assert_nonnull(config);
  guest = hw_test_guest_boot(config);
  read_truth();
  g_autofree char *p = g_strdup_printf("/gpu/%s/", config);
  hw_test_add(p, "device-regions", test_device_regions);
  if (g_str_has_suffix(config, "-bochs"))
    hw_test_add(p, "screen/in-vram", test_screen_in_vram);
  else
    hw_test_add(p, "screen/through-process", test_screen_through_process);
  hw_test_add(p, "offscreen/through-process", test_offscreen_through_process);
  hw_test_add(p, "gpu/list", test_gpu_list);
  hw_test_add(p, "screen/matches-screendump", test_screen_matches_screendump);
  hw_test_add(p, "offscreen/carved", test_offscreen_carved);
  hw_test_add(p, "screen/bad-input", test_screen_bad_input);
  hw_test_add_serve_screen_tests(guest, screen.fb, screen.crtc);
  int rc = g_test_run();
  hw_test_guest_stop(guest);
  return rc;
}
