/* A program built against the installed library (pkg-config haywire): the public
 * headers alone must be enough. Prints what it checked. */
#include <haywire/haywire.h>

#include <stdio.h>

int
main(void)
{
  guint mask = 0;
  g_autoptr(GError) error = NULL;
  if (!hw_image_kinds_parse("png,jpeg", &mask, &error))
    return 1;
  static guint8 page[4096];
  HwPixelFormat f;
  if (!hw_pixel_format_parse("rgb565", &f) || hw_page_classify(page) != HW_PAGE_ZERO)
    return 1;
  printf("haywire library: kinds 0x%x, %s is %u bits\n", mask, hw_pixel_format_name(f),
         hw_pixel_format_bits(f));
  return 0;
}
