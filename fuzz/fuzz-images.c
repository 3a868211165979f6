/* Fuzz the image finders: each encoded-file check at the start of the input (the
 * candidate's signature is where a scan would have found it), then the physical scan
 * over the input as RAM (all finders, the raw-pixel classifier, a string pattern), the
 * page classifier, and the pixel converter over the first row. */
#include <haywire/haywire.h>

#include <string.h>

int LLVMFuzzerTestOneInput(const guint8 *data, gsize size);

#define FUZZ_MAX_INPUT (1u << 20)

int
LLVMFuzzerTestOneInput(const guint8 *data, gsize size)
{
  if (size == 0 || size > FUZZ_MAX_INPUT)
    return 0;
  /* RAM is whole pages: pad with zeros. */
  gsize ram_size = (size + 4095) & ~(gsize)4095;
  g_autofree guint8 *ram = g_malloc0(ram_size);
  memcpy(ram, data, size);
  HwRamRange range = { 0, ram_size, 0 };
  HwPhysMem *mem = hw_physmem_new_from_data(ram, ram_size, &range, 1, NULL);
  if (mem == NULL)
    return 0;

  gint64 budget = 64 << 20;
  HwReader r = hw_reader_for_physmem(mem);
  r.budget = &budget;
  HwImage im;
  for (guint64 at = 0; at < 4 && at < size; at++) {
    hw_image_check_png(&r, at, &im);
    hw_image_check_jpeg(&r, at, &im);
    hw_image_check_gif(&r, at, &im);
    hw_image_check_bmp(&r, at, &im);
    hw_image_check_webp(&r, at, &im);
  }

  GPtrArray *patterns = hw_pattern_list_for_string("HAYWIRE", NULL);
  gboolean partial;
  GArray *hits = hw_scan_phys(mem, patterns, (1u << HW_IMAGE_N_KINDS) - 1, 1, NULL, NULL,
                              &partial, NULL);
  if (hits != NULL)
    g_array_unref(hits);
  if (patterns != NULL)
    g_ptr_array_unref(patterns);
  for (gsize off = 0; off < ram_size; off += 4096)
    hw_page_classify(ram + off);

  guint8 rgba[4 * 64];
  for (guint f = 0; f < HW_PIXEL_N_FORMATS; f++) {
    guint bits = hw_pixel_format_bits((HwPixelFormat)f);
    guint width = MIN(64u, (guint)(size * 8 / bits));
    if (width > 0)
      hw_pixels_to_rgba((HwPixelFormat)f, data, 0, width, rgba);
  }
  hw_physmem_free(mem);
  return 0;
}
