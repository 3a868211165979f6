/* A recording with no translation registers, as an AArch64 dump-guest-memory file is:
 * the input is guest RAM, and opening the Linux layer on it must find the kernel's
 * vmcoreinfo text in it (searched for, its values parsed), set TTBRs and a TCR from
 * it, and go on to discovery over whatever tables those point at. Also the parser of
 * vmcoreinfo lines alone, on the input as text. */
#include <haywire/haywire.h>
#include "os/linux/linux-private.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const guint8 *data, gsize size);

#define FUZZ_MAX_INPUT (1u << 20)
#define RAM_GPA 0x40000000ull

int
LLVMFuzzerTestOneInput(const guint8 *data, gsize size)
{
  if (size == 0 || size > FUZZ_MAX_INPUT)
    return 0;
  /* The line parser on the input as text (NUL-terminated copy). */
  g_autofree char *text = g_strndup((const char *)data, size);
  static const char *const keys[] = { "SYMBOL(swapper_pg_dir)", "NUMBER(kimage_voffset)",
                                      "PAGESIZE", "NUMBER(VA_BITS)", "NUMBER(TCR_EL1_T1SZ)" };
  for (gsize i = 0; i < G_N_ELEMENTS(keys); i++) {
    guint64 v;
    hw_linux_vmcoreinfo_number(text, keys[i], &v);
  }

  /* RAM: the input, rounded up to whole pages. */
  gsize ram_size = (size + 4095) & ~(gsize)4095;
  guint8 *image;
  HwRamRange r = { RAM_GPA, ram_size, 0 };
  HwPhysMem *mem = hw_physmem_new_anonymous(&r, 1, &image, NULL);
  if (mem == NULL)
    return 0;
  memcpy(image, data, size);
  g_autoptr(GPtrArray) regs = g_ptr_array_new_with_free_func((GDestroyNotify)hw_regs_free);
  HwRegs *cpu = hw_regs_new(HW_ARCH_AARCH64);
  hw_regs_set(cpu, "PC", 0xffff800008000000ull);
  hw_regs_set(cpu, "CPSR", 0x3c5);
  hw_regs_set(cpu, "EL", 1);
  g_ptr_array_add(regs, cpu);
  g_autoptr(HwGuest) guest = hw_guest_new_offline(HW_ARCH_AARCH64, mem, regs, "fuzz input", 1);
  g_autoptr(HwLinux) lx = hw_linux_open(guest, NULL, NULL);
  if (lx != NULL) {
    g_autoptr(GArray) tasks = hw_linux_list_tasks(lx, FALSE, NULL, NULL);
    (void)tasks;
  }
  return 0;
}
