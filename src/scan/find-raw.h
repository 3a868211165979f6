/* Raw pixel detection, page by page, then over runs of pages (private to scan/). */
#pragma once

#include <haywire/image.h>

typedef enum {
  HW_RAW_NONE,
  HW_RAW_PIXELS,     /* looks like varied pixels of the returned format */
  HW_RAW_FLAT,       /* one colour with a constant fourth byte: extends a run only */
} HwRawClass;

/* Whether the 4096-byte PAGE looks like pixels, and of which format. */
HwRawClass hw_raw_classify_page(const guint8 *page, HwPixelFormat *format);
/* The geometry of the pixels of format F in [ADDR, ADDR + LEN) (a run of pixel pages):
 * stride, width, first row (OUT->addr, which may lie before ADDR) and height; FALSE if no
 * stride stands out (or too few rows). */
gboolean hw_raw_measure(const HwReader *r, guint64 addr, guint64 len, HwPixelFormat f,
                        HwImage *out);
