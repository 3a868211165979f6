/* Fuzz the decoders: the input is one file, served by a reader at an address of its
 * own, and decoded to RGBA by each format's decoder in turn (hw_image_decode_rgba, as a
 * viewer calls it on a hit, with no structural check first); then each finder, whose
 * last step is the same decoder, and the thumbnail's box filter over what decoded. The
 * pixel cap is small to keep executions fast; it is checked before anything is
 * allocated, so it also cuts off the absurd sizes headers claim. */
#include <haywire/haywire.h>

#include <string.h>

int LLVMFuzzerTestOneInput(const guint8 *data, gsize size);

#define FUZZ_MAX_INPUT (1u << 20)
#define FUZZ_MAX_PIXELS (1u << 20)
#define BASE 0x10000u

typedef struct {
  const guint8 *data;
  gsize len;
} Mem;

static gboolean
mem_read(gpointer ctx, guint64 addr, void *buf, gsize len)
{
  const Mem *m = ctx;
  if (addr < BASE || addr - BASE > m->len || len > m->len - (addr - BASE))
    return FALSE;
  memcpy(buf, m->data + (addr - BASE), len);
  return TRUE;
}

static const HwImageKind kinds[] = { HW_IMAGE_PNG, HW_IMAGE_JPEG, HW_IMAGE_GIF, HW_IMAGE_BMP,
                                     HW_IMAGE_WEBP };

int
LLVMFuzzerTestOneInput(const guint8 *data, gsize size)
{
  if (size == 0 || size > FUZZ_MAX_INPUT)
    return 0;
  Mem m = { data, size };
  gint64 budget = 16 << 20;
  HwReader r = { .read = mem_read, .ctx = &m, .budget = &budget };
  for (gsize k = 0; k < G_N_ELEMENTS(kinds); k++) {
    HwImage im = { .kind = kinds[k], .addr = BASE, .size = size };
    guint w = 0, h = 0;
    guint8 *rgba = hw_image_decode_rgba(&r, &im, FUZZ_MAX_PIXELS, &w, &h, NULL);
    if (rgba != NULL) {
      guint32 tw, th;
      g_free(hw_thumbnail_scale(rgba, w, h, HW_THUMBNAIL_SIDE, &tw, &th, NULL));
      g_free(rgba);
    }
  }
  /* The finders (structure, then the decoder over the file they delimit). */
  HwImage im;
  hw_image_check_png(&r, BASE, &im);
  hw_image_check_jpeg(&r, BASE, &im);
  hw_image_check_gif(&r, BASE, &im);
  hw_image_check_bmp(&r, BASE, &im);
  hw_image_check_webp(&r, BASE, &im);
  return 0;
}
