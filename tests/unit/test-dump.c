/* dump-guest-memory ELF files: small dumps built here the way QEMU 7.2 lays them out
 * (x86-64 and AArch64), and broken ones, each refused with what is wrong. */
#include <haywire/dump.h>
#include <haywire/error.h>

#include <elf.h>
#include <stddef.h>
#include <string.h>

#define QS_SIZE 440u           /* QEMUCPUState with kernel_gs_base */
#define PRSTATUS_X86_64 336u
#define PRSTATUS_ARM64 392u
#define LONG_CS_FLAGS 0x00a09b00u  /* QEMU's flags of a 64-bit code segment: L (bit 21) set */
#define CR0_LINUX 0x80050033ull      /* PG set */
#define CR4_LINUX 0x6f0ull           /* PAE set */
/* A note named "CORE" or "QEMU" (8 bytes with the NUL and padding), DESCSZ 4-aligned. */
#define NOTE_BYTES(descsz) (12u + 8u + (descsz))

/* ---- building dumps ------------------------------------------------------------------- */

typedef struct {
  guint64 gpa, size;
} Load;

/* One dump: ELF header, a PT_NOTE then the PT_LOADs, the notes, the loads' data. */
typedef struct {
  GByteArray *b;
  gsize notes_at, notes_len;
  gsize data_at[4];
} Image;

static void
image_clear(Image *img)
{
  if (img->b)
    g_byte_array_unref(img->b);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Image, image_clear)

static void
set16(guint8 *p, guint16 v)
{
  v = GUINT16_TO_LE(v);
  memcpy(p, &v, 2);
}

static void
set32(guint8 *p, guint32 v)
{
  v = GUINT32_TO_LE(v);
  memcpy(p, &v, 4);
}

static void
set64(guint8 *p, guint64 v)
{
  v = GUINT64_TO_LE(v);
  memcpy(p, &v, 8);
}

static void
append32(GByteArray *b, guint32 v)
{
  v = GUINT32_TO_LE(v);
  g_byte_array_append(b, (const guint8 *)&v, 4);
}

static void
pad4(GByteArray *b)
{
  static const guint8 zeros[3];
  g_byte_array_append(b, zeros, (4 - b->len % 4) % 4);
}

static void
add_note(GByteArray *notes, const char *name, guint32 type, const guint8 *desc, guint32 descsz)
{
  append32(notes, (guint32)strlen(name) + 1);
  append32(notes, descsz);
  append32(notes, type);
  g_byte_array_append(notes, (const guint8 *)name, (guint)strlen(name) + 1);
  pad4(notes);
  g_byte_array_append(notes, desc, descsz);
  pad4(notes);
}

static gsize
phdr_at(guint i)
{
  return sizeof(Elf64_Ehdr) + i * sizeof(Elf64_Phdr);
}

/* Where FIELD of the ELF header, or of program header I, is in B. */
#define EH(b, field) ((b)->data + offsetof(Elf64_Ehdr, field))
#define PH(b, i, field) ((b)->data + phdr_at(i) + offsetof(Elf64_Phdr, field))

static void
build(Image *img, guint16 machine, const GByteArray *notes, const Load *loads, guint n_loads)
{
  g_assert_cmpuint(n_loads, <=, G_N_ELEMENTS(img->data_at));
  guint phnum = 1 + n_loads;
  GByteArray *b = img->b = g_byte_array_new();
  g_byte_array_set_size(b, phdr_at(phnum));
  memset(b->data, 0, b->len);
  memcpy(b->data, ELFMAG, SELFMAG);
  b->data[EI_CLASS] = ELFCLASS64;
  b->data[EI_DATA] = ELFDATA2LSB;
  b->data[EI_VERSION] = EV_CURRENT;
  set16(EH(b, e_type), ET_CORE);
  set16(EH(b, e_machine), machine);
  set32(EH(b, e_version), EV_CURRENT);
  set64(EH(b, e_phoff), phdr_at(0));
  set16(EH(b, e_ehsize), 8);   /* as QEMU 7.2 writes it */
  set16(EH(b, e_phentsize), sizeof(Elf64_Phdr));
  set16(EH(b, e_phnum), phnum);

  img->notes_at = b->len;
  img->notes_len = notes ? notes->len : 0;
  set32(PH(b, 0, p_type), PT_NOTE);
  set64(PH(b, 0, p_offset), img->notes_at);
  set64(PH(b, 0, p_filesz), img->notes_len);
  set64(PH(b, 0, p_memsz), img->notes_len);
  if (notes)
    g_byte_array_append(b, notes->data, notes->len);
  for (guint i = 0; i < n_loads; i++) {
    img->data_at[i] = b->len;
    set32(PH(b, 1 + i, p_type), PT_LOAD);
    set64(PH(b, 1 + i, p_offset), b->len);
    set64(PH(b, 1 + i, p_paddr), loads[i].gpa);
    set64(PH(b, 1 + i, p_filesz), loads[i].size);
    set64(PH(b, 1 + i, p_memsz), loads[i].size);
    gsize at = b->len;
    g_byte_array_set_size(b, (guint)(at + loads[i].size));
    memset(b->data + at, 0xa0 + (int)i, loads[i].size);
  }
}

/* What one x86-64 vCPU's QEMU note says. */
typedef struct {
  guint64 rip, cr0, cr3, cr4, idt_base;
  guint32 cs_selector, cs_flags;
  guint32 size;                 /* QEMUCPUState's size field; 0: QS_SIZE */
} X86Cpu;

static void
add_qemu_note(GByteArray *notes, const X86Cpu *c, guint seed)
{
  guint8 desc[QS_SIZE] = { 0 };
  set32(desc + 0, 1);
  set32(desc + 4, c->size ? c->size : QS_SIZE);
  for (guint i = 0; i < 16; i++)
    set64(desc + 8 + 8 * i, seed * 0x100 + i);
  set64(desc + 136, c->rip);
  set64(desc + 144, 0x246);
  set32(desc + 152, c->cs_selector);           /* cs */
  set32(desc + 152 + 8, c->cs_flags);
  set64(desc + 152 + 3 * 24 + 16, 0x7f0000001000ull + seed);      /* fs.base */
  set64(desc + 152 + 4 * 24 + 16, 0xffff888000000000ull + seed);  /* gs.base */
  set64(desc + 152 + 9 * 24 + 16, c->idt_base);
  set64(desc + 392, c->cr0);
  set64(desc + 392 + 16, 0x5794a9);
  set64(desc + 392 + 24, c->cr3);
  set64(desc + 392 + 32, c->cr4);
  set64(desc + 432, 0xffff8880000a0000ull + seed);
  add_note(notes, "QEMU", 0, desc, sizeof desc);
}

/* The kernel's PRSTATUS for x86-64, filled with a pattern: registers come from the
 * QEMU notes, never from this. */
static void
add_x86_prstatus(GByteArray *notes)
{
  guint8 desc[PRSTATUS_X86_64];
  memset(desc, 0xee, sizeof desc);
  add_note(notes, "CORE", NT_PRSTATUS, desc, sizeof desc);
}

static const X86Cpu user_cpu = {
  0x401db0, CR0_LINUX, 0x2a44000, CR4_LINUX, 0xfffffe0000000000ull, 0x33, LONG_CS_FLAGS, 0,
};
/* Protected mode without paging, an older QEMUCPUState (no kernel_gs_base). */
static const X86Cpu flat_cpu = { 0xfff0, 0x11, 0, 0, 0, 0x8, 0x00cf9b00, 432 };

/* The notes as QEMU writes them: every vCPU's PRSTATUS, then every vCPU's QEMU note. */
static GByteArray *
x86_notes(const X86Cpu *cpus, guint n)
{
  GByteArray *notes = g_byte_array_new();
  for (guint i = 0; i < n; i++)
    add_x86_prstatus(notes);
  for (guint i = 0; i < n; i++)
    add_qemu_note(notes, &cpus[i], i);
  return notes;
}

/* RAM given out of gpa order: 8 KiB at 1 MiB, then 4 KiB at 0. */
static const Load x86_loads[] = { { 0x100000, 0x2000 }, { 0, 0x1000 } };

static void
build_x86(Image *img)
{
  const X86Cpu cpus[] = { user_cpu, flat_cpu };
  g_autoptr(GByteArray) notes = x86_notes(cpus, G_N_ELEMENTS(cpus));
  build(img, EM_X86_64, notes, x86_loads, G_N_ELEMENTS(x86_loads));
}

static void
add_arm_prstatus(GByteArray *notes, guint64 pstate)
{
  guint8 desc[PRSTATUS_ARM64] = { 0 };
  set32(desc + 32, 1);               /* pr_pid */
  for (guint i = 0; i < 31; i++)
    set64(desc + 112 + 8 * i, 0x1000 + i);
  set64(desc + 112 + 8 * 31, 0xffff800012345000ull);
  set64(desc + 112 + 8 * 32, 0xffff800010001234ull);
  set64(desc + 112 + 8 * 33, pstate);
  add_note(notes, "CORE", NT_PRSTATUS, desc, sizeof desc);
}

static void
build_arm(Image *img)
{
  g_autoptr(GByteArray) notes = g_byte_array_new();
  add_arm_prstatus(notes, 0x3c5);    /* EL1h, DAIF masked */
  guint8 fp[528] = { 0 };
  add_note(notes, "CORE", NT_PRFPREG, fp, sizeof fp);
  add_note(notes, "LINUX", 0x405, fp, 16);      /* NT_ARM_SVE: skipped */
  static const Load loads[] = { { 0x40000000, 0x3000 } };
  build(img, EM_AARCH64, notes, loads, 1);
}

/* ---- good dumps ----------------------------------------------------------------------- */

static guint64
get_reg(const HwRegs *regs, const char *name)
{
  guint64 v = 0xdeadbeefdeadbeefull;
  if (!hw_regs_get(regs, name, &v))
    g_error("register %s missing", name);
  return v;
}

static void
parse_ok(const Image *img, HwDumpInfo *info)
{
  g_autoptr(GError) error = NULL;
  g_assert_true(hw_dump_parse(img->b->data, img->b->len, "test.dump", info, &error));
  g_assert_no_error(error);
}

/* Two vCPUs and two RAM segments out of order: ranges sorted with their file offsets,
 * registers from the QEMU notes (not the PRSTATUS ones), EFER inferred. */
static void
test_x86_two_vcpus(void)
{
  g_auto(Image) img = { 0 };
  build_x86(&img);
  g_auto(HwDumpInfo) info = { 0 };
  parse_ok(&img, &info);
  g_assert_cmpint(info.arch, ==, HW_ARCH_X86_64);

  g_assert_cmpuint(info.ranges->len, ==, 2);
  const HwRamRange *r = (const HwRamRange *)info.ranges->data;
  g_assert_cmphex(r[0].gpa, ==, 0);
  g_assert_cmphex(r[0].size, ==, 0x1000);
  g_assert_cmphex(r[0].file_offset, ==, img.data_at[1]);
  g_assert_cmphex(r[1].gpa, ==, 0x100000);
  g_assert_cmphex(r[1].size, ==, 0x2000);
  g_assert_cmphex(r[1].file_offset, ==, img.data_at[0]);
  g_assert_cmpuint(img.b->data[r[0].file_offset], ==, 0xa1);

  g_assert_cmpuint(info.regs->len, ==, 2);
  const HwRegs *c0 = g_ptr_array_index(info.regs, 0);
  g_assert_cmpint(hw_regs_get_arch(c0), ==, HW_ARCH_X86_64);
  g_assert_cmphex(get_reg(c0, "RAX"), ==, 0);
  g_assert_cmphex(get_reg(c0, "RSP"), ==, 6);
  g_assert_cmphex(get_reg(c0, "R15"), ==, 15);
  g_assert_cmphex(get_reg(c0, "RIP"), ==, 0x401db0);
  g_assert_cmphex(get_reg(c0, "RFL"), ==, 0x246);
  g_assert_cmphex(get_reg(c0, "CPL"), ==, 3);
  g_assert_cmphex(get_reg(c0, "CR0"), ==, CR0_LINUX);
  g_assert_cmphex(get_reg(c0, "CR2"), ==, 0x5794a9);
  g_assert_cmphex(get_reg(c0, "CR3"), ==, 0x2a44000);
  g_assert_cmphex(get_reg(c0, "CR4"), ==, CR4_LINUX);
  g_assert_cmphex(get_reg(c0, "EFER"), ==, 0xd01);
  g_assert_cmphex(get_reg(c0, "EFER_INFERRED"), ==, 1);
  g_assert_cmphex(get_reg(c0, "FS_BASE"), ==, 0x7f0000001000ull);
  g_assert_cmphex(get_reg(c0, "GS_BASE"), ==, 0xffff888000000000ull);
  g_assert_cmphex(get_reg(c0, "KERNELGSBASE"), ==, 0xffff8880000a0000ull);

  const HwRegs *c1 = g_ptr_array_index(info.regs, 1);
  g_assert_cmphex(get_reg(c1, "RAX"), ==, 0x100);
  g_assert_cmphex(get_reg(c1, "RIP"), ==, 0xfff0);
  g_assert_cmphex(get_reg(c1, "CPL"), ==, 0);
  g_assert_cmphex(get_reg(c1, "EFER"), ==, 0);
  g_assert_cmphex(get_reg(c1, "EFER_INFERRED"), ==, 1);
  g_assert_cmphex(get_reg(c1, "GS_BASE"), ==, 0xffff888000000001ull);
  guint64 v;
  g_assert_false(hw_regs_get(c1, "KERNELGSBASE", &v));   /* size 432: not there */

  hw_dump_info_clear(&info);
  g_assert_null(info.ranges);
  g_assert_null(info.regs);
}

typedef struct {
  const char *name;
  guint64 cr0, cr4, idt_base;
  guint32 cs_flags;
  guint64 efer;
} EferCase;

static const EferCase efer_cases[] = {
  { "long-mode", CR0_LINUX, CR4_LINUX, 0xfffffe0000000000ull, LONG_CS_FLAGS, 0xd01 },
  { "long-mode-low-idt", CR0_LINUX, CR4_LINUX, 0x1000, LONG_CS_FLAGS, 0xd01 },
  /* A 64-bit kernel running a 32-bit process: CS has no L bit, the IDT is high. */
  { "compat-mode", CR0_LINUX, CR4_LINUX, 0xfffffe0000000000ull, 0x00cffb00, 0xd01 },
  { "pae-32-bit", CR0_LINUX, CR4_LINUX, 0xc1800000, 0x00cf9b00, 0 },
  { "no-pae", CR0_LINUX, 0x10, 0xfffffe0000000000ull, LONG_CS_FLAGS, 0 },
  { "no-paging", 0x11, CR4_LINUX, 0xfffffe0000000000ull, LONG_CS_FLAGS, 0 },
};

static void
test_x86_efer(gconstpointer data)
{
  const EferCase *c = data;
  X86Cpu cpu = user_cpu;
  cpu.cr0 = c->cr0;
  cpu.cr4 = c->cr4;
  cpu.idt_base = c->idt_base;
  cpu.cs_flags = c->cs_flags;
  g_autoptr(GByteArray) notes = x86_notes(&cpu, 1);
  g_auto(Image) img = { 0 };
  build(&img, EM_X86_64, notes, x86_loads, 1);
  g_auto(HwDumpInfo) info = { 0 };
  parse_ok(&img, &info);
  g_assert_cmpuint(info.regs->len, ==, 1);
  g_assert_cmphex(get_reg(g_ptr_array_index(info.regs, 0), "EFER"), ==, c->efer);
  g_assert_cmphex(get_reg(g_ptr_array_index(info.regs, 0), "EFER_INFERRED"), ==, 1);
}

/* One vCPU from its PRSTATUS; the FP and SVE notes skipped; no TTBR or TCR made up. */
static void
test_arm_one_vcpu(void)
{
  g_auto(Image) img = { 0 };
  build_arm(&img);
  g_auto(HwDumpInfo) info = { 0 };
  parse_ok(&img, &info);
  g_assert_cmpint(info.arch, ==, HW_ARCH_AARCH64);
  g_assert_cmpuint(info.ranges->len, ==, 1);
  const HwRamRange *r = (const HwRamRange *)info.ranges->data;
  g_assert_cmphex(r[0].gpa, ==, 0x40000000);
  g_assert_cmphex(r[0].size, ==, 0x3000);
  g_assert_cmphex(r[0].file_offset, ==, img.data_at[0]);
  g_assert_cmpuint(info.regs->len, ==, 1);
  const HwRegs *c = g_ptr_array_index(info.regs, 0);
  g_assert_cmpint(hw_regs_get_arch(c), ==, HW_ARCH_AARCH64);
  g_assert_cmphex(get_reg(c, "X0"), ==, 0x1000);
  g_assert_cmphex(get_reg(c, "X29"), ==, 0x101d);
  g_assert_cmphex(get_reg(c, "X30"), ==, 0x101e);
  g_assert_cmphex(get_reg(c, "SP"), ==, 0xffff800012345000ull);
  g_assert_cmphex(get_reg(c, "PC"), ==, 0xffff800010001234ull);
  g_assert_cmphex(get_reg(c, "CPSR"), ==, 0x3c5);
  g_assert_cmphex(get_reg(c, "EL"), ==, 1);
  guint64 v;
  g_assert_false(hw_regs_get(c, "TTBR0_EL1", &v));
  g_assert_false(hw_regs_get(c, "TCR_EL1", &v));
  g_assert_false(hw_regs_get(c, "EFER", &v));
}

/* An AArch64 dump without vCPU notes is still a dump: RAM, no registers. */
static void
test_arm_no_vcpus(void)
{
  g_auto(Image) img = { 0 };
  static const Load loads[] = { { 0x40000000, 0x1000 } };
  build(&img, EM_AARCH64, NULL, loads, 1);
  g_auto(HwDumpInfo) info = { 0 };
  parse_ok(&img, &info);
  g_assert_cmpuint(info.ranges->len, ==, 1);
  g_assert_cmpuint(info.regs->len, ==, 0);
}

/* Program headers that are neither notes nor RAM, and empty PT_LOADs, are passed over. */
static void
test_other_phdrs(void)
{
  g_auto(Image) img = { 0 };
  static const Load loads[] = { { 0x40000000, 0x1000 }, { 0x80000000, 0 } };
  build(&img, EM_AARCH64, NULL, loads, 2);
  set32(PH(img.b, 0, p_type), PT_NULL);
  set64(PH(img.b, 2, p_memsz), 0x1000);
  g_auto(HwDumpInfo) info = { 0 };
  parse_ok(&img, &info);
  g_assert_cmpuint(info.ranges->len, ==, 1);
  g_assert_cmphex(g_array_index(info.ranges, HwRamRange, 0).gpa, ==, 0x40000000);
}

/* ---- bad dumps ------------------------------------------------------------------------ */

static void
spoil_empty(Image *img)
{
  g_byte_array_set_size(img->b, 0);
}

static void
spoil_magic(Image *img)
{
  img->b->data[1] = 'e';
}

static void
spoil_elf32(Image *img)
{
  img->b->data[EI_CLASS] = ELFCLASS32;
}

static void
spoil_big_endian(Image *img)
{
  img->b->data[EI_DATA] = ELFDATA2MSB;
}

static void
spoil_not_core(Image *img)
{
  set16(EH(img->b, e_type), ET_EXEC);
}

static void
spoil_short_header(Image *img)
{
  g_byte_array_set_size(img->b, 40);
}

static void
spoil_machine(Image *img)
{
  set16(EH(img->b, e_machine), EM_S390);
}

static void
spoil_phentsize(Image *img)
{
  set16(EH(img->b, e_phentsize), 32);
}

static void
spoil_phnum_xnum(Image *img)
{
  set16(EH(img->b, e_phnum), PN_XNUM);
}

static void
spoil_phnum_huge(Image *img)
{
  set16(EH(img->b, e_phnum), 4097);
}

static void
spoil_phoff(Image *img)
{
  set64(EH(img->b, e_phoff), G_MAXUINT64 - 8);
}

static void
cut_in_phdrs(Image *img)
{
  g_byte_array_set_size(img->b, (guint)phdr_at(1) + 20);
}

static void
cut_in_notes(Image *img)
{
  g_byte_array_set_size(img->b, (guint)(img->notes_at + img->notes_len / 2));
}

/* The note segment ends half-way into the third note. */
static void
cut_note_segment(Image *img)
{
  set64(PH(img->b, 0, p_filesz), 2 * NOTE_BYTES(PRSTATUS_X86_64) + 30);
}

static void
spoil_note_namesz(Image *img)
{
  set32(img->b->data + img->notes_at, G_MAXUINT32);
}

static void
spoil_note_descsz(Image *img)
{
  set32(img->b->data + img->notes_at + 4, G_MAXUINT32 - 1);
}

static void
cut_in_data(Image *img)
{
  g_byte_array_set_size(img->b, (guint)(img->data_at[1] + 0x800));
}

/* Both RAM segments read the same bytes of the file. */
static void
spoil_shared_data(Image *img)
{
  set64(PH(img->b, 2, p_offset), img->data_at[0]);
}

static void
spoil_overlap(Image *img)
{
  set64(PH(img->b, 2, p_paddr), 0xff000);
  set64(PH(img->b, 2, p_filesz), 0x2000);
  set64(PH(img->b, 2, p_memsz), 0x2000);
  g_byte_array_set_size(img->b, img->b->len + 0x1000);
}

static void
spoil_memsz(Image *img)
{
  set64(PH(img->b, 1, p_memsz), 0x3000);
}

static void
spoil_gpa_unaligned(Image *img)
{
  set64(PH(img->b, 1, p_paddr), 0x100800);
}

static void
spoil_size_unaligned(Image *img)
{
  set64(PH(img->b, 2, p_filesz), 0x800);
  set64(PH(img->b, 2, p_memsz), 0x800);
}

static void
spoil_gpa_wraps(Image *img)
{
  set64(PH(img->b, 1, p_paddr), 0xfffffffffffff000ull);
}

static void
spoil_data_offset(Image *img)
{
  set64(PH(img->b, 1, p_offset), G_MAXUINT64 - 0x1000);
}

static void
spoil_no_loads(Image *img)
{
  set32(PH(img->b, 1, p_type), PT_NULL);
  set32(PH(img->b, 2, p_type), PT_NULL);
}

/* Every "QEMU" note renamed "QEMV": what is left is an x86-64 core from elsewhere. */
static void
spoil_no_qemu_note(Image *img)
{
  for (gsize at = img->notes_at; at + 4 <= img->notes_at + img->notes_len; at++)
    if (memcmp(img->b->data + at, "QEMU", 4) == 0)
      img->b->data[at + 3] = 'V';
}

/* Where vCPU 0's QEMUCPUState is in build_x86's image: after both PRSTATUS notes. */
static gsize
qemu_desc_at(const Image *img)
{
  return img->notes_at + 2 * NOTE_BYTES(PRSTATUS_X86_64) + NOTE_BYTES(0);
}

static void
spoil_qemu_size_small(Image *img)
{
  set32(img->b->data + qemu_desc_at(img) + 4, 400);
}

static void
spoil_qemu_size_big(Image *img)
{
  set32(img->b->data + qemu_desc_at(img) + 4, 448);
}

static void
spoil_process_core(Image *img)
{
  const X86Cpu cpus[] = { user_cpu };
  g_autoptr(GByteArray) notes = x86_notes(cpus, 1);
  guint8 psinfo[136] = { 0 };
  add_note(notes, "CORE", NT_PRPSINFO, psinfo, sizeof psinfo);
  image_clear(img);
  build(img, EM_X86_64, notes, x86_loads, 2);
}

static void
spoil_arm_short_prstatus(Image *img)
{
  g_autoptr(GByteArray) notes = g_byte_array_new();
  guint8 desc[200] = { 0 };
  add_note(notes, "CORE", NT_PRSTATUS, desc, sizeof desc);
  image_clear(img);
  static const Load loads[] = { { 0x40000000, 0x1000 } };
  build(img, EM_AARCH64, notes, loads, 1);
}

static void
spoil_arm_vcpus(Image *img)
{
  g_autoptr(GByteArray) notes = g_byte_array_new();
  for (guint i = 0; i < 1025; i++)
    add_arm_prstatus(notes, 0x3c5);
  image_clear(img);
  static const Load loads[] = { { 0x40000000, 0x1000 } };
  build(img, EM_AARCH64, notes, loads, 1);
}

static void
spoil_many_notes(Image *img)
{
  g_autoptr(GByteArray) notes = g_byte_array_new();
  for (guint i = 0; i < 8193; i++)
    add_note(notes, "X", 7, NULL, 0);
  image_clear(img);
  static const Load loads[] = { { 0x40000000, 0x1000 } };
  build(img, EM_AARCH64, notes, loads, 1);
}

typedef struct {
  const char *name;
  void (*spoil)(Image *img);
  const char *why;
} BadCase;

static const BadCase bad_cases[] = {
  { "empty", spoil_empty, ": not an ELF file" },
  { "not-elf", spoil_magic, ": not an ELF file" },
  { "elf32", spoil_elf32, ": not a 64-bit little-endian ELF core file" },
  { "big-endian", spoil_big_endian, ": not a 64-bit little-endian ELF core file" },
  { "not-core", spoil_not_core, ": not a 64-bit little-endian ELF core file" },
  { "short-header", spoil_short_header, ": not a 64-bit little-endian ELF core file" },
  { "machine", spoil_machine, "machine 22, not written by QEMU's dump-guest-memory" },
  { "phentsize", spoil_phentsize, "program headers of 32 bytes, not 56" },
  { "phnum-xnum", spoil_phnum_xnum, "65535 program headers (at most 4096)" },
  { "phnum-huge", spoil_phnum_huge, "4097 program headers (at most 4096)" },
  { "phoff", spoil_phoff, "program header 0 runs past the end of the file (truncated?)" },
  { "cut-in-phdrs", cut_in_phdrs, "program header 1 runs past the end of the file (truncated?)" },
  { "cut-in-notes", cut_in_notes, "program header 0: the notes run past the end of the file" },
  { "cut-note-segment", cut_note_segment, "note 2 (program header 0) runs past the end of its segment" },
  { "note-namesz", spoil_note_namesz, "note 0 (program header 0) runs past the end" },
  { "note-descsz", spoil_note_descsz, "note 0 (program header 0) runs past the end" },
  { "cut-in-data", cut_in_data, "program header 2: the data of RAM at 0x0 runs past the end of the file (truncated?)" },
  { "overlap", spoil_overlap, ": RAM segments overlap at 0x100000" },
  { "shared-data", spoil_shared_data, ": RAM segments share file data at offset" },
  { "memsz", spoil_memsz, "program header 1: RAM at 0x100000 has 0x2000 bytes in the file but 0x3000 in memory" },
  { "gpa-unaligned", spoil_gpa_unaligned, "RAM at 0x100800, 0x2000 bytes, is not in whole 4 KiB pages" },
  { "size-unaligned", spoil_size_unaligned, "RAM at 0x0, 0x800 bytes, is not in whole 4 KiB pages" },
  { "gpa-wraps", spoil_gpa_wraps, "runs past the end of the address space" },
  { "data-offset", spoil_data_offset, "program header 1: the data of RAM at 0x100000 runs past the end" },
  { "no-loads", spoil_no_loads, ": no RAM (no PT_LOAD segment)" },
  { "no-qemu-note", spoil_no_qemu_note, ": no notes named \"QEMU\": not written by QEMU's dump-guest-memory" },
  { "qemu-size-small", spoil_qemu_size_small, "vCPU 0's QEMU note: its size field says 400 bytes" },
  { "qemu-size-big", spoil_qemu_size_big, "vCPU 0's QEMU note: its size field says 448 bytes" },
  { "process-core", spoil_process_core, "a process's core file" },
  { "arm-short-prstatus", spoil_arm_short_prstatus, "vCPU 0's CORE note: 200 bytes, too short for the registers (384)" },
  { "arm-vcpus", spoil_arm_vcpus, ": more than 1024 vCPUs" },
  { "many-notes", spoil_many_notes, ": more than 8192 notes" },
};

static void
test_bad(gconstpointer data)
{
  const BadCase *c = data;
  g_auto(Image) img = { 0 };
  build_x86(&img);
  c->spoil(&img);
  /* A copy of exactly the bytes left, so that ASan sees any read past them. */
  g_autofree guint8 *d = g_memdup2(img.b->data, img.b->len);
  g_autoptr(GError) error = NULL;
  HwDumpInfo info = { HW_ARCH_X86_64, NULL, NULL };
  g_assert_false(hw_dump_parse(img.b->len ? d : NULL, img.b->len, "bad.dump", &info, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_FAILED);
  if (!g_str_has_prefix(error->message, "bad.dump is not a QEMU dump-guest-memory file: ") ||
      strstr(error->message, c->why) == NULL)
    g_error("%s: %s", c->name, error->message);
  g_assert_cmpint(info.arch, ==, HW_ARCH_UNKNOWN);
  g_assert_null(info.ranges);
  g_assert_null(info.regs);
  hw_dump_info_clear(&info);
  g_assert_false(hw_dump_parse(img.b->len ? d : NULL, img.b->len, "bad.dump", &info, NULL));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/guest/dump/x86-64/two-vcpus", test_x86_two_vcpus);
  for (guint i = 0; i < G_N_ELEMENTS(efer_cases); i++) {
    g_autofree char *path = g_strdup_printf("/guest/dump/x86-64/efer/%s", efer_cases[i].name);
    g_test_add_data_func(path, &efer_cases[i], test_x86_efer);
  }
  g_test_add_func("/guest/dump/aarch64/one-vcpu", test_arm_one_vcpu);
  g_test_add_func("/guest/dump/aarch64/no-vcpus", test_arm_no_vcpus);
  g_test_add_func("/guest/dump/other-phdrs", test_other_phdrs);
  for (guint i = 0; i < G_N_ELEMENTS(bad_cases); i++) {
    g_autofree char *path = g_strdup_printf("/guest/dump/bad/%s", bad_cases[i].name);
    g_test_add_data_func(path, &bad_cases[i], test_bad);
  }
  return g_test_run();
}
