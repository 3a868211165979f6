/* Fuzz Linux kernel discovery over arbitrary guest RAM: the kernel-root candidates, the
 * image in the kernel-text window, the search for init_task ("swapper/0" at an 8-byte
 * multiple, checked in RAM, then through the page tables) near the image and then
 * everywhere, the banner search and its parse, and the check that a found layout is
 * still valid. x86-64, with the unit tests' made-up struct layout.
 *
 * Guest RAM is the harness's page tables and a BTF blob (so discovery skips its BTF
 * search: fuzz-btf has the parser), then the input after a 16-byte header. The tables
 * map the direct map (1 GiB pages over the first 8 GiB) and, unless told not to, 512 4 KiB
 * pages of the input as the kernel image at a 2 MiB slot of the kernel-text window; the
 * header may instead point CR3 into the input, set PTI's user bit, or split RAM in two
 * ranges with a hole. RAM ends where the input ends: a read past it is a finding. */
#include <haywire/haywire.h>
#include "linux-layout.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const guint8 *data, gsize size);

#define FUZZ_MAX_INPUT (1u << 20)
#define PML4_K 0x0000u        /* the kernel's PGD */
#define PML4_U 0x1000u        /* PTI's user PGD beside it: maps nothing */
#define PDPT_DM 0x2000u       /* direct map: 1 GiB pages */
#define PDPT_K 0x3000u        /* kernel-text window ... */
#define PD_K 0x4000u
#define PT_K 0x5000u
#define BTF_GPA 0x6000u
#define HARNESS 0x7000u       /* the input (after its header) from here */
#define DIRECT_MAP 0xffff888000000000ull
#define KERNEL_MAP 0xffffffff80000000ull
#define HIGH_GPA (4ull << 30) /* the second RAM range, with a hole before it */
#define PTE_P_RW 3ull
#define PTE_PS (1ull << 7)
#define PTI_USER 0x1000ull

typedef struct {
  guint8 flags;         /* bit 0: PTI's user bit in CR3; bit 1: CR3 at CR3_OFF in the input
                         * (its own tables); bit 2: RAM from HOLE_OFF on moved to 4 GiB;
                         * bit 3: no kernel image mapped by the harness */
  guint8 pad;
  guint16 text_slot;    /* _text's 2 MiB slot in the window (mod 512): the KASLR slide */
  guint32 text_off;     /* _text's page in the input (bytes, mod its size) */
  guint32 cr3_off;
  guint32 hole_off;
} Header;

/* A BTF header with no types and an empty string section: discovery only needs one. */
static const guint8 empty_btf[] = { 0x9f, 0xeb, 0x01, 0x00, 0x18, 0x00, 0x00, 0x00,
                                    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                    0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00 };

static void
put64(guint8 *ram, guint64 gpa, guint64 v)
{
  memcpy(ram + gpa, &v, 8);
}

int
LLVMFuzzerTestOneInput(const guint8 *data, gsize size)
{
  Header h;
  if (size <= sizeof h || size > FUZZ_MAX_INPUT)
    return 0;
  memcpy(&h, data, sizeof h);
  gsize in_len = size - sizeof h, ram_size = HARNESS + in_len;
  g_autofree guint8 *ram = g_malloc0(ram_size);
  memcpy(ram + HARNESS, data + sizeof h, in_len);
  memcpy(ram + BTF_GPA, empty_btf, sizeof empty_btf);

  put64(ram, PML4_K + 8 * ((DIRECT_MAP >> 39) & 511), PDPT_DM | PTE_P_RW);
  for (guint64 i = 0; i < 8; i++)
    put64(ram, PDPT_DM + 8 * i, (i << 30) | PTE_P_RW | PTE_PS);
  guint64 text_gpa = HARNESS + ((h.text_off % in_len) & ~0xfffull);
  if (!(h.flags & 8)) {
    put64(ram, PML4_K + 8 * ((KERNEL_MAP >> 39) & 511), PDPT_K | PTE_P_RW);
    put64(ram, PDPT_K + 8 * ((KERNEL_MAP >> 30) & 511), PD_K | PTE_P_RW);
    put64(ram, PD_K + 8 * (h.text_slot % 512), PT_K | PTE_P_RW);
    for (guint64 i = 0; i < 512; i++)
      put64(ram, PT_K + 8 * i, (text_gpa + i * 4096) | PTE_P_RW);
  }

  HwRamRange ranges[2] = { { 0, ram_size, 0 } };
  guint n_ranges = 1;
  if (h.flags & 4) {
    gsize split = HARNESS + h.hole_off % in_len;
    if (split > HARNESS) {
      ranges[0].size = split;
      ranges[1] = (HwRamRange){ HIGH_GPA, ram_size - split, split };
      n_ranges = 2;
    }
  }
  HwPhysMem *mem = hw_physmem_new_from_data(ram, ram_size, ranges, n_ranges, NULL);
  if (mem == NULL)
    return 0;

  guint64 cr3 = PML4_K;
  if (h.flags & 2)
    cr3 = HARNESS + ((h.cr3_off % in_len) & ~0xfffull);
  if (h.flags & 1)
    cr3 = (h.flags & 2) ? cr3 | PTI_USER : PML4_U;
  HwX86Paging paging = { .cr3 = cr3, .la57 = FALSE, .nxe = TRUE };
  HwLinux lx = { 0 };
  lx.arch = &hw_linux_arch_x86_64;
  lx.mem = mem;
  lx.kmmu = hw_mmu_new_x86_64(mem, &paging);
  lx.off = layout;
  lx.btf = hw_btf_new(empty_btf, sizeof empty_btf, NULL);
  lx.info.btf_gpa = BTF_GPA;
  lx.info.btf_size = sizeof empty_btf;

  gboolean found = lx.btf != NULL && hw_linux_discover(&lx, NULL);
  /* The banner search also runs when discovery failed: with whatever it left. */
  if (lx.kmmu != NULL)
    hw_linux_find_banner(&lx);
  if (found) {
    hw_linux_validate(&lx, NULL);
    lx.arch->kaslr_slide(&lx);
  }
  g_free(lx.info.banner);
  hw_btf_free(lx.btf);
  hw_mmu_free(lx.kmmu);
  hw_physmem_free(mem);
  return 0;
}
