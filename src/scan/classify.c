/* Page classes for the overview: zero, text, high entropy (compressed or encrypted),
 * other data; holes of the memory file count as zero, unread. */
#include <haywire/scan.h>

#include <math.h>
#include <string.h>

#define PAGE HW_PAGE_SIZE

HwPageClass
hw_page_classify(const guint8 *page)
{
  const guint64 *w = (const guint64 *)(const void *)page;
  guint64 acc = 0;
  for (guint i = 0; i < PAGE / 8; i++)
    acc |= w[i];
  if (acc == 0)
    return HW_PAGE_ZERO;
  guint counts[256] = { 0 };
  guint text = 0;
  for (guint i = 0; i < PAGE; i++) {
    guint8 b = page[i];
    counts[b]++;
    text += (b >= 0x20 && b < 0x7f) || b == '\n' || b == '\t' || b == '\r';
  }
  /* Text: nearly all printable, and not one character repeated (padding). */
  guint most = 0;
  for (guint i = 0; i < 256; i++)
    most = MAX(most, counts[i]);
  if (text >= PAGE * 9 / 10 && most < PAGE / 2)
    return HW_PAGE_TEXT;
  /* Shannon entropy of the byte histogram: 8 bits is random; a page of compressed or
   * encrypted data reaches about 7.95, code and structures stay well below 7. */
  double h = 0;
  for (guint i = 0; i < 256; i++)
    if (counts[i]) {
      double p = counts[i] / (double)PAGE;
      h -= p * log2(p);
    }
  return h >= 7.5 ? HW_PAGE_ENTROPY : HW_PAGE_DATA;
}

GPtrArray *
hw_scan_page_classes(const HwPhysMem *mem, guint n_threads, HwScanProgress progress,
                     gpointer progress_data, GError **error)
{
  /* The physical scan with nothing to find: one engine for every pass over RAM. */
  HwScanRequest req = { NULL, 0, TRUE, n_threads, progress, progress_data };
  HwScanReport rep;
  GPtrArray *classes = NULL;
  if (hw_scan_phys_run(mem, &req, &rep, error))
    classes = g_steal_pointer(&rep.classes);
  hw_scan_report_clear(&rep);
  return classes;
}
