/* Fuzz the dump-guest-memory parser: ELF header, program headers, notes and the vCPU
 * registers in them. A dump that parses is walked through (every register, every
 * range) and checked against what the parser promises. */
#include <haywire/haywire.h>

int LLVMFuzzerTestOneInput(const guint8 *data, gsize size);

static void
check_ranges(const GArray *ranges, gsize size)
{
  if (ranges->len == 0)
    __builtin_trap();
  for (guint i = 0; i < ranges->len; i++) {
    const HwRamRange *r = &g_array_index(ranges, HwRamRange, i);
    if (r->size == 0 || r->gpa % HW_PAGE_SIZE || r->size % HW_PAGE_SIZE ||
        r->gpa + r->size < r->gpa || r->file_offset > size || r->size > size - r->file_offset)
      __builtin_trap();   /* a range the file does not hold */
    if (i > 0) {
      const HwRamRange *prev = r - 1;
      if (r->gpa < prev->gpa + prev->size)
        __builtin_trap();   /* unsorted or overlapping */
    }
  }
}

static void
check_regs(const GPtrArray *regs, HwArch arch)
{
  if (regs->len > 1024)
    __builtin_trap();
  for (guint i = 0; i < regs->len; i++) {
    const HwRegs *r = g_ptr_array_index(regs, i);
    if (hw_regs_get_arch(r) != arch)
      __builtin_trap();
    guint n;
    const char *const *names = hw_regs_get_names(r, &n);
    for (guint k = 0; k < n; k++) {
      guint64 v;
      if (!hw_regs_get(r, names[k], &v))
        __builtin_trap();
    }
    guint64 v;
    if (!hw_regs_get(r, arch == HW_ARCH_X86_64 ? "CR3" : "PC", &v))
      __builtin_trap();
  }
}

int
LLVMFuzzerTestOneInput(const guint8 *data, gsize size)
{
  g_auto(HwDumpInfo) info = { 0 };
  if (!hw_dump_parse(data, size, "input", &info, NULL)) {
    if (info.ranges != NULL || info.regs != NULL)
      __builtin_trap();   /* a failure holds nothing */
    return 0;
  }
  if (info.arch != HW_ARCH_X86_64 && info.arch != HW_ARCH_AARCH64)
    __builtin_trap();
  check_ranges(info.ranges, size);
  check_regs(info.regs, info.arch);
  return 0;
}
