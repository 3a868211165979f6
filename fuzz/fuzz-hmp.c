/* Fuzz the parsers of HMP text: `info registers` (x86-64) and `info mtree -f` (the RAM
 * map of a backend), on the same input. */
#include <haywire/haywire.h>

#include <string.h>

int LLVMFuzzerTestOneInput(const guint8 *data, gsize size);

int
LLVMFuzzerTestOneInput(const guint8 *data, gsize size)
{
  if (size > (1u << 20))
    return 0;
  /* HMP answers are strings: NUL-terminated, no embedded NUL. */
  g_autofree char *text = g_strndup((const char *)data, size);
  HwRegs *regs = hw_regs_parse_x86_64(text, NULL);
  if (regs != NULL) {
    guint n;
    const char *const *names = hw_regs_get_names(regs, &n);
    guint64 v;
    for (guint i = 0; i < n; i++)
      hw_regs_get(regs, names[i], &v);
    hw_regs_free(regs);
  }
  static const char *const regions[] = { "ram0", "pc.ram", "mem", NULL };
  for (gsize i = 0; regions[i] != NULL; i++) {
    GArray *ranges = hw_ram_map_parse_mtree(text, regions[i], NULL);
    if (ranges != NULL)
      g_array_unref(ranges);
  }
  GArray *devices = hw_ram_map_parse_devices(text, regions, NULL);
  for (guint i = 0; devices && i < devices->len; i++) {
    const HwDevicePiece *d = &g_array_index(devices, HwDevicePiece, i);
    if (d->piece.size == 0 || d->piece.gpa + (d->piece.size - 1) < d->piece.gpa ||
        d->name == NULL || d->name[0] == '\0')
      __builtin_trap();
  }
  if (devices != NULL)
    g_array_unref(devices);
  return 0;
}
