/* Fuzz the Linux walkers over arbitrary kernel memory: the task list (and each
 * process's threads), the maple tree (or vm_next list) of every mm, and the dentry and
 * mount walk behind each file path. The harness maps the input at the kernel's direct
 * map (a 1 GiB page, in tables of its own before the input) with a fixed made-up struct
 * layout; init_task sits at the input's first byte. */
#include <haywire/haywire.h>
#include "linux-layout.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const guint8 *data, gsize size);

#define DIRECT_MAP 0xffff888000000000ull
#define TABLES 0x2000u                 /* PML4 at 0, PDPT at 0x1000; the input after */
#define FUZZ_MAX_INPUT (1u << 20)
#define PTE_P_RW (3ull)
#define PTE_PS (1ull << 7)

int
LLVMFuzzerTestOneInput(const guint8 *data, gsize size)
{
  if (size < layout.task_size || size > FUZZ_MAX_INPUT)
    return 0;
  gsize ram_size = (TABLES + size + 4095) & ~(gsize)4095;
  g_autofree guint8 *ram = g_malloc0(ram_size);
  guint64 pml4e = 0x1000 | PTE_P_RW, pdpte = 0 | PTE_P_RW | PTE_PS;   /* 1 GiB at gpa 0 */
  memcpy(ram + ((DIRECT_MAP >> 39) & 511) * 8, &pml4e, 8);
  memcpy(ram + 0x1000 + ((DIRECT_MAP >> 30) & 511) * 8, &pdpte, 8);
  memcpy(ram + TABLES, data, size);
  HwRamRange range = { 0, ram_size, 0 };
  HwPhysMem *mem = hw_physmem_new_from_data(ram, ram_size, &range, 1, NULL);
  if (mem == NULL)
    return 0;
  HwX86Paging paging = { .cr3 = 0, .la57 = FALSE, .nxe = TRUE };
  HwLinux lx = { 0 };
  lx.arch = &hw_linux_arch_x86_64;
  lx.mem = mem;
  lx.kmmu = hw_mmu_new_x86_64(mem, &paging);
  lx.off = layout;
  /* The input's first word picks the VMA list kind: either walker gets its turn. */
  lx.off.maps_kind = (data[0] & 1) ? HW_LINUX_MAPS_LIST : HW_LINUX_MAPS_MAPLE;
  lx.info.init_task_va = DIRECT_MAP + TABLES;
  lx.info.init_task_gpa = TABLES;
  lx.info.page_size = 4096;

  gboolean partial = FALSE;
  GArray *tasks = hw_linux_list_tasks(&lx, TRUE, &partial, NULL);
  for (guint i = 0; tasks != NULL && i < tasks->len && i < 16; i++) {
    const HwTask *t = &g_array_index(tasks, HwTask, i);
    if (t->mm_va == 0)
      continue;
    GArray *vmas = hw_linux_list_vmas(&lx, t, &partial, NULL);
    if (vmas != NULL)
      hw_vma_array_free(vmas);
    HwMmu *mmu = hw_linux_task_mmu(&lx, t, NULL);
    hw_mmu_free(mmu);
  }
  if (tasks != NULL)
    g_array_unref(tasks);
  HwTask found;
  hw_linux_find_task(&lx, 1, &found, NULL);
  /* The reverse map over every task's tables and the kernel's. */
  HwOwnerMap *owners = hw_owner_map_build(&lx, NULL, NULL);
  if (owners != NULL) {
    for (guint64 gpa = 0; gpa < ram_size; gpa += 64 * 4096) {
      GArray *o = hw_owner_map_lookup(owners, gpa);
      g_array_unref(o);
    }
    hw_owner_map_free(owners);
  }
  hw_mmu_free(lx.kmmu);
  hw_physmem_free(mem);
  return 0;
}
