/* Fuzz the parsers of QEMU-process text: the HMP `gpa2hva` answer, /proc/PID/maps (every
 * line, then lookups at each mapping's edges) and the Uid: line of /proc/PID/status. The
 * input's first byte picks the parser (its value mod 3: seeds begin with '0', '1', '2'). */
#include "guest/qemu-process.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const guint8 *data, gsize size);

static void
fuzz_gpa2hva(const char *text)
{
  static const guint64 gpas[] = { 0, 0x1000, 0x100000000, G_MAXUINT64 };
  for (gsize i = 0; i < G_N_ELEMENTS(gpas); i++) {
    guint64 hva = 0;
    char *region = NULL;
    if (hw_qemu_proc_parse_gpa2hva(text, gpas[i], &hva, &region, NULL))
      g_assert(region != NULL && region[0] != '\0' && hva != 0);
    g_free(region);
  }
}

static void
find(const char *text, guint64 hva)
{
  HwQemuProcMapping *m = hw_qemu_proc_find_mapping(text, hva, NULL);
  if (m != NULL) {
    g_assert(m->start <= hva && hva < m->end && m->path != NULL);
    hw_qemu_proc_mapping_free(m);
  }
}

static void
fuzz_maps(const char *text)
{
  guint skipped = 0;
  GPtrArray *all = hw_qemu_proc_parse_maps(text, &skipped, NULL);
  for (guint i = 0; all != NULL && i < all->len && i < 8; i++) {
    const HwQemuProcMapping *m = g_ptr_array_index(all, i);
    g_assert(m->start < m->end && m->path != NULL);
    find(text, m->start);
    find(text, m->end - 1);
    find(text, m->end);
  }
  if (all != NULL)
    g_ptr_array_unref(all);
  find(text, 0);
  find(text, G_MAXUINT64);
}

int
LLVMFuzzerTestOneInput(const guint8 *data, gsize size)
{
  if (size == 0 || size > (1u << 20))
    return 0;
  /* The texts are strings: NUL-terminated, no embedded NUL. */
  char *text = g_strndup((const char *)data + 1, size - 1);
  switch (data[0] % 3) {
  case 0:
    fuzz_gpa2hva(text);
    break;
  case 1:
    fuzz_maps(text);
    break;
  default: {
    guint32 uid;
    hw_qemu_proc_parse_status_uid(text, &uid, NULL);
    break;
  }
  }
  g_free(text);
  return 0;
}
