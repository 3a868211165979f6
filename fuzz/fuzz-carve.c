/* Fuzz the carver and the renderer over arbitrary memory: a 40-byte header says what
 * was "found" (kind, pixel format, width, height, stride, size, where) and how to draw
 * it; the rest of the input is the memory a reader serves at an address the header
 * picks (reads outside it, and in one chosen page, fail). Every value goes in as it is:
 * the functions must refuse what does not fit. Only the work itself is capped (bytes
 * read and pixels drawn), to keep the executions fast. */
#include <haywire/haywire.h>

#include <stdlib.h>
#include <string.h>
#include <glib/gstdio.h>

int LLVMFuzzerTestOneInput(const guint8 *data, gsize size);

#define FUZZ_MAX_INPUT (1u << 20)
#define WORK_BYTES (2u << 20)      /* read at most this much (past the input all fails) */
#define WORK_PIXELS (1u << 20)     /* convert or draw at most this many pixels */

typedef struct {
  guint8 kind;          /* HwImageKind; out-of-range values too */
  guint8 format;        /* HwPixelFormat; out-of-range values too */
  guint8 flags;         /* bits 0-3: render scale (0-15; 0 is refused); bit 4: keep alpha;
                         * bit 5: memory at the top of the address space; bit 6: a read
                         * budget of BUDGET bytes; bit 7: write the carved file */
  guint8 fail_page;     /* this 4 KiB page of the memory cannot be read (0: none) */
  guint32 width, height, stride;
  guint32 offset;       /* the image's address minus the memory's */
  guint32 size;         /* encoded files: their bytes */
  guint32 budget;
  guint32 pad;
  guint64 base;         /* where the memory sits (bit 5 clear) */
} Header;

typedef struct {
  const guint8 *data;
  gsize len;
  guint64 base;
  guint64 fail_lo, fail_hi;
} Mem;

static gboolean
mem_read(gpointer ctx, guint64 addr, void *buf, gsize len)
{
  const Mem *m = ctx;
  if (addr < m->base || addr - m->base > m->len || len > m->len - (addr - m->base))
    return FALSE;
  if (len > 0 && m->fail_hi > m->fail_lo && addr < m->fail_hi && addr + len > m->fail_lo)
    return FALSE;
  memcpy(buf, m->data + (addr - m->base), len);
  return TRUE;
}

/* A private directory for carved files, made once and removed at exit (each file is
 * removed as soon as it is written). */
static char *dir;

static void
remove_dir(void)
{
  g_rmdir(dir);
}

static const char *
out_dir(void)
{
  if (dir == NULL && (dir = g_dir_make_tmp("fuzz-carve-XXXXXX", NULL)) != NULL)
    atexit(remove_dir);
  return dir;
}

int
LLVMFuzzerTestOneInput(const guint8 *data, gsize size)
{
  Header h;
  if (size < sizeof h || size > FUZZ_MAX_INPUT)
    return 0;
  memcpy(&h, data, sizeof h);
  Mem m = { data + sizeof h, size - sizeof h, h.base, 0, 0 };
  if (h.flags & 0x20)
    m.base = G_MAXUINT64 - m.len + 1;   /* the last byte served is 2^64 - 1 */
  else if (m.base + m.len < m.base)
    m.len = (gsize)(G_MAXUINT64 - m.base);   /* nothing past the end of the space */
  if (h.fail_page) {
    m.fail_lo = m.base + (guint64)h.fail_page * 4096;
    m.fail_hi = m.fail_lo + 4096;
  }
  gint64 budget = h.budget;
  HwReader r = { .read = mem_read, .ctx = &m, .budget = (h.flags & 0x40) ? &budget : NULL };

  HwImage im = { .kind = (HwImageKind)h.kind, .addr = m.base + h.offset, .size = h.size,
                 .width = h.width, .height = h.height, .stride = h.stride,
                 .format = (HwPixelFormat)h.format, .confidence = 1.0 };
  HwPixelFormat f = im.format;

  /* The layout checks: no work, any values. */
  guint64 span = 0;
  gboolean layout_ok = hw_carve_pixels_check(f, h.width, h.height, h.stride, &span, NULL);
  hw_carve_row_bytes(f, h.width);
  hw_carve_extension(im.kind);
  gboolean small = (guint64)h.width * h.height <= WORK_PIXELS;

  /* The conversion straight from the input's bytes. */
  const guint8 *px = m.data + MIN((gsize)h.offset, m.len);
  gsize px_len = m.len - MIN((gsize)h.offset, m.len);
  if (!layout_ok || small) {
    guint8 *rgba = hw_carve_pixels_to_rgba(f, h.width, h.height, h.stride, px, px_len, NULL);
    g_free(rgba);
  }

  /* Carving: read the image back, then write it (raw pixels as PNG). */
  guint64 need = im.kind == HW_IMAGE_RAW ? span : im.size;
  if (need <= WORK_BYTES || need > HW_CARVE_MAX_BYTES || (im.kind == HW_IMAGE_RAW && !layout_ok)) {
    gsize len = 0;
    guint8 *bytes = hw_carve_read(&r, &im, &len, NULL);
    if (bytes != NULL && (h.flags & 0x80) && out_dir() != NULL) {
      g_autofree char *path = g_build_filename(out_dir(), "carved", NULL);
      if (hw_carve_write(&r, &im, path, NULL))
        g_unlink(path);
    }
    g_free(bytes);
  }

  /* Rendering: the image's rows read page by page, then drawn. */
  HwRenderLayout l = { .format = f, .width = h.width, .height = h.height, .stride = h.stride,
                       .scale = h.flags & 15, .keep_alpha = (h.flags & 0x10) != 0 };
  guint64 len = layout_ok ? span : (guint64)h.size;
  if (len <= WORK_BYTES || len > HW_CARVE_MAX_BYTES) {
    HwRenderMemory *mem = hw_render_memory_read(&r, im.addr, len, NULL);
    if (mem != NULL) {
      hw_render_memory_readable(mem, im.addr + h.size);
      hw_render_memory_get_unreadable(mem);
      hw_render_memory_get_data(mem, NULL);
      guint64 pixels = (guint64)h.width * h.height * l.scale * l.scale;
      if (!layout_ok || pixels <= WORK_PIXELS) {
        guint32 w, hh;
        guint8 *pic = hw_render_draw(mem, &l, &w, &hh, NULL);
        g_free(pic);
      }
      hw_render_memory_free(mem);
    }
  }
  return 0;
}
