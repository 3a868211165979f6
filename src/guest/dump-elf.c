/* QEMU's dump-guest-memory ELF files, x86-64 and AArch64: the RAM map from the PT_LOAD
 * segments, each vCPU's registers from the notes. The file is hostile input: every offset
 * and size is checked against the file before anything there is read, every read is a
 * memcpy (nothing in the file need be aligned), and every loop runs to a capped count. */
#include <haywire/dump.h>
#include <haywire/error.h>
#include "le-bytes.h"

#include <elf.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#define PAGE HW_PAGE_SIZE
#define MAX_PHDRS 4096u
#define MAX_VCPUS 1024u
/* QEMU writes two notes per vCPU on x86-64, up to four on AArch64 (PRSTATUS, PRFPREG,
 * SVE, PAC), and one VMCOREINFO. */
#define MAX_NOTES (8u * MAX_VCPUS)
#define NOTE_HEADER 12u
#define ALIGN4(n) (((guint64)(n) + 3) & ~(guint64)3)

/* QEMU's QEMUCPUState (x86-64): u32 version, u32 size, RAX..R15, RIP, RFLAGS, ten
 * segments {u32 selector, limit, flags, pad; u64 base}, CR0..CR4, and since QEMU 5.0,
 * when size says so, the kernel GS base. */
#define QS_GPRS 8u
#define QS_SEGS 152u
#define QS_SEG_BYTES 24u
#define QS_CRS 392u
#define QS_KERNEL_GS_BASE 432u
#define QS_MIN QS_KERNEL_GS_BASE
enum { SEG_CS, SEG_DS, SEG_ES, SEG_FS, SEG_GS, SEG_SS, SEG_LDT, SEG_TR, SEG_GDT, SEG_IDT };
#define SEG_FLAGS_L (1u << 21)   /* QEMU's DESC_L_MASK: a 64-bit code segment */
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define EFER_LINUX 0xd01ull      /* SCE | LME | LMA | NXE, what Linux x86-64 runs with */

/* Linux's arm64 struct elf_prstatus: pr_reg (x0..x30, sp, pc, pstate) at byte 112. */
#define PRSTATUS_ARM64_REG 112u
#define ARM64_REGS 34u

typedef struct {
  const guint8 *name;    /* namesz bytes */
  guint32 namesz;
  guint32 type;
  const guint8 *desc;    /* descsz bytes */
  guint32 descsz;
} Note;

typedef struct {
  guint32 type;
  guint64 offset, paddr, filesz, memsz;
} Phdr;

typedef struct {
  guint16 machine;
  HwArch arch;
  /* The note that holds one vCPU's registers: its name and type. */
  const char *cpu_note;
  guint32 cpu_type;
  /* Only QEMU writes that note: a core file without one came from elsewhere. */
  gboolean cpu_note_proves_qemu;
  /* Fill REGS from N; NULL, or what is wrong with N (the caller frees it). */
  char *(*read_cpu)(const Note *n, HwRegs *regs);
} DumpArch;

typedef struct {
  const guint8 *d;
  gsize size;
  const char *name;
  const DumpArch *arch;
  guint64 phoff;
  guint phnum;
  guint n_notes;           /* over all PT_NOTE segments */
  gboolean process_core;   /* notes only a process's core file has */
  HwDumpInfo *out;
} Dump;

static G_GNUC_PRINTF(3, 4) gboolean
refuse(GError **error, const char *name, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *why = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_set_error(error, HW_ERROR, HW_ERROR_FAILED, "%s is not a QEMU dump-guest-memory file: %s",
              name, why);
  return FALSE;
}

static gboolean
in_file(const Dump *x, guint64 off, guint64 len)
{
  return off <= x->size && len <= x->size - off;
}

static char *
read_cpu_x86_64(const Note *n, HwRegs *r)
{
  static const char *const gprs[] = {
    "RAX", "RBX", "RCX", "RDX", "RSI", "RDI", "RSP", "RBP", "R8", "R9", "R10", "R11",
    "R12", "R13", "R14", "R15", "RIP", "RFL",
  };
  if (n->descsz < QS_GPRS)
    return g_strdup_printf("%u bytes, too short for its header", n->descsz);
  guint32 size = hw_le32(n->desc + 4);
  if (size < QS_MIN || size > n->descsz)
    return g_strdup_printf("its size field says %u bytes (at least %u, at most the note's %u)",
                           size, QS_MIN, n->descsz);
  for (guint i = 0; i < G_N_ELEMENTS(gprs); i++)
    hw_regs_set(r, gprs[i], hw_le64(n->desc + QS_GPRS + 8 * i));
  const guint8 *cs = n->desc + QS_SEGS + QS_SEG_BYTES * SEG_CS;
  const guint8 *cr = n->desc + QS_CRS;
  guint64 cr0 = hw_le64(cr), cr4 = hw_le64(cr + 32);
  hw_regs_set(r, "CPL", hw_le32(cs) & 3);
  hw_regs_set(r, "CR0", cr0);
  hw_regs_set(r, "CR2", hw_le64(cr + 16));
  hw_regs_set(r, "CR3", hw_le64(cr + 24));
  hw_regs_set(r, "CR4", cr4);
  /* The dump has no EFER. Paging with PAE in a 64-bit code segment is long mode; so is
   * a 32-bit (compat) code segment with an IDT above 4 GiB, which only LIDT in 64-bit
   * mode can load: a 64-bit kernel running a 32-bit process. */
  guint64 idt_base = hw_le64(n->desc + QS_SEGS + QS_SEG_BYTES * SEG_IDT + 16);
  gboolean long_mode = (cr0 & CR0_PG) && (cr4 & CR4_PAE) &&
                       ((hw_le32(cs + 8) & SEG_FLAGS_L) || idt_base > G_MAXUINT32);
  hw_regs_set(r, "EFER", long_mode ? EFER_LINUX : 0);
  hw_regs_set(r, "EFER_INFERRED", 1);
  hw_regs_set(r, "FS_BASE", hw_le64(n->desc + QS_SEGS + QS_SEG_BYTES * SEG_FS + 16));
  hw_regs_set(r, "GS_BASE", hw_le64(n->desc + QS_SEGS + QS_SEG_BYTES * SEG_GS + 16));
  if (size >= QS_KERNEL_GS_BASE + 8)
    hw_regs_set(r, "KERNELGSBASE", hw_le64(n->desc + QS_KERNEL_GS_BASE));
  return NULL;
}

static char *
read_cpu_aarch64(const Note *n, HwRegs *r)
{
  if (n->descsz < PRSTATUS_ARM64_REG + 8 * ARM64_REGS)
    return g_strdup_printf("%u bytes, too short for the registers (%u)", n->descsz,
                           PRSTATUS_ARM64_REG + 8 * ARM64_REGS);
  const guint8 *reg = n->desc + PRSTATUS_ARM64_REG;
  for (guint i = 0; i < 31; i++) {
    char name[8];
    g_snprintf(name, sizeof name, "X%u", i);
    hw_regs_set(r, name, hw_le64(reg + 8 * i));
  }
  guint64 pstate = hw_le64(reg + 8 * 33);
  hw_regs_set(r, "SP", hw_le64(reg + 8 * 31));
  hw_regs_set(r, "PC", hw_le64(reg + 8 * 32));
  hw_regs_set(r, "CPSR", pstate);
  hw_regs_set(r, "EL", (pstate >> 2) & 3);
  return NULL;
}

static const DumpArch arches[] = {
  { EM_X86_64, HW_ARCH_X86_64, "QEMU", 0, TRUE, read_cpu_x86_64 },
  { EM_AARCH64, HW_ARCH_AARCH64, "CORE", NT_PRSTATUS, FALSE, read_cpu_aarch64 },
};

static gboolean
parse_header(Dump *x, GError **error)
{
  const guint8 *d = x->d;
  if (d == NULL || x->size < SELFMAG || memcmp(d, ELFMAG, SELFMAG) != 0)
    return refuse(error, x->name, "not an ELF file");
  if (x->size < sizeof(Elf64_Ehdr) || d[EI_CLASS] != ELFCLASS64 || d[EI_DATA] != ELFDATA2LSB ||
      d[EI_VERSION] != EV_CURRENT || hw_le16(d + offsetof(Elf64_Ehdr, e_type)) != ET_CORE)
    return refuse(error, x->name, "not a 64-bit little-endian ELF core file");
  guint16 machine = hw_le16(d + offsetof(Elf64_Ehdr, e_machine));
  for (guint i = 0; i < G_N_ELEMENTS(arches) && x->arch == NULL; i++)
    if (arches[i].machine == machine)
      x->arch = &arches[i];
  if (x->arch == NULL)
    return refuse(error, x->name, "a core file for ELF machine %u, not written by QEMU's "
                  "dump-guest-memory for x86-64 or AArch64", machine);
  guint16 phentsize = hw_le16(d + offsetof(Elf64_Ehdr, e_phentsize));
  if (phentsize != sizeof(Elf64_Phdr))
    return refuse(error, x->name, "program headers of %u bytes, not %zu", phentsize,
                  sizeof(Elf64_Phdr));
  x->phoff = hw_le64(d + offsetof(Elf64_Ehdr, e_phoff));
  x->phnum = hw_le16(d + offsetof(Elf64_Ehdr, e_phnum));
  /* PN_XNUM (0xffff), the count kept in section 0, is over the cap as well. */
  if (x->phnum > MAX_PHDRS)
    return refuse(error, x->name, "%u program headers (at most %u)", x->phnum, MAX_PHDRS);
  guint64 fit = x->phoff > x->size ? 0 : (x->size - x->phoff) / sizeof(Elf64_Phdr);
  if (fit < x->phnum)
    return refuse(error, x->name, "program header %u runs past the end of the file (truncated?)",
                  (guint)fit);
  return TRUE;
}

/* Program header I (inside the file: parse_header checked them all). */
static void
read_phdr(const Dump *x, guint i, Phdr *ph)
{
  const guint8 *p = x->d + x->phoff + (guint64)i * sizeof(Elf64_Phdr);
  ph->type = hw_le32(p + offsetof(Elf64_Phdr, p_type));
  ph->offset = hw_le64(p + offsetof(Elf64_Phdr, p_offset));
  ph->paddr = hw_le64(p + offsetof(Elf64_Phdr, p_paddr));
  ph->filesz = hw_le64(p + offsetof(Elf64_Phdr, p_filesz));
  ph->memsz = hw_le64(p + offsetof(Elf64_Phdr, p_memsz));
}

/* The name is NUL-terminated as ELF says; a writer that leaves the NUL out is let be. */
static gboolean
note_named(const Note *n, const char *name)
{
  gsize len = strlen(name);
  return (n->namesz == len || (n->namesz == len + 1 && n->name[len] == '\0')) &&
         memcmp(n->name, name, len) == 0;
}

static gboolean
take_note(Dump *x, const Note *n, GError **error)
{
  const DumpArch *a = x->arch;
  if (note_named(n, "CORE") && (n->type == NT_PRPSINFO || n->type == NT_AUXV ||
                                n->type == NT_FILE))
    x->process_core = TRUE;
  if (!note_named(n, a->cpu_note) || n->type != a->cpu_type)
    return TRUE;
  GPtrArray *all = x->out->regs;
  if (all->len >= MAX_VCPUS)
    return refuse(error, x->name, "more than %u vCPUs", MAX_VCPUS);
  g_autoptr(HwRegs) regs = hw_regs_new(a->arch);
  g_autofree char *why = a->read_cpu(n, regs);
  if (why != NULL)
    return refuse(error, x->name, "vCPU %u's %s note: %s", all->len, a->cpu_note, why);
  g_ptr_array_add(all, g_steal_pointer(&regs));
  return TRUE;
}

/* The notes in the LEN bytes at P (the data of program header PH_INDEX). */
static gboolean
parse_notes(Dump *x, guint ph_index, const guint8 *p, guint64 len, GError **error)
{
  guint64 pos = 0;
  while (pos < len) {
    if (x->n_notes >= MAX_NOTES)
      return refuse(error, x->name, "more than %u notes", MAX_NOTES);
    Note n = { 0 };
    guint64 rest = len - pos;
    gboolean fits = rest >= NOTE_HEADER;
    if (fits) {
      n.namesz = hw_le32(p + pos);
      n.descsz = hw_le32(p + pos + 4);
      n.type = hw_le32(p + pos + 8);
      rest -= NOTE_HEADER;
      fits = ALIGN4(n.namesz) <= rest && ALIGN4(n.descsz) <= rest - ALIGN4(n.namesz);
    }
    if (!fits)
      return refuse(error, x->name, "note %u (program header %u) runs past the end of its "
                    "segment (truncated?)", x->n_notes, ph_index);
    n.name = p + pos + NOTE_HEADER;
    n.desc = n.name + ALIGN4(n.namesz);
    pos += NOTE_HEADER + ALIGN4(n.namesz) + ALIGN4(n.descsz);
    x->n_notes++;
    if (!take_note(x, &n, error))
      return FALSE;
  }
  return TRUE;
}

/* The vCPUs' registers from every PT_NOTE segment. */
static gboolean
parse_note_segments(Dump *x, GError **error)
{
  for (guint i = 0; i < x->phnum; i++) {
    Phdr ph;
    read_phdr(x, i, &ph);
    if (ph.type != PT_NOTE)
      continue;
    if (!in_file(x, ph.offset, ph.filesz))
      return refuse(error, x->name, "program header %u: the notes run past the end of the "
                    "file (truncated?)", i);
    if (!parse_notes(x, i, x->d + ph.offset, ph.filesz, error))
      return FALSE;
  }
  return TRUE;
}

static gboolean
check_origin(const Dump *x, GError **error)
{
  if (x->process_core)
    return refuse(error, x->name, "a process's core file (it has NT_PRPSINFO, NT_AUXV or "
                  "NT_FILE notes), not written by QEMU's dump-guest-memory");
  if (x->arch->cpu_note_proves_qemu && x->out->regs->len == 0)
    return refuse(error, x->name, "no notes named \"%s\": not written by QEMU's "
                  "dump-guest-memory", x->arch->cpu_note);
  return TRUE;
}

static gboolean
take_load(Dump *x, guint i, const Phdr *ph, GError **error)
{
  /* QEMU's paging dumps write mappings of no RAM with nothing in the file. */
  if (ph->filesz == 0)
    return TRUE;
  if (ph->filesz != ph->memsz)
    return refuse(error, x->name, "program header %u: RAM at 0x%" G_GINT64_MODIFIER "x has "
                  "0x%" G_GINT64_MODIFIER "x bytes in the file but 0x%" G_GINT64_MODIFIER
                  "x in memory", i, ph->paddr, ph->filesz, ph->memsz);
  if (ph->paddr % PAGE != 0 || ph->filesz % PAGE != 0)
    return refuse(error, x->name, "program header %u: RAM at 0x%" G_GINT64_MODIFIER "x, 0x%"
                  G_GINT64_MODIFIER "x bytes, is not in whole 4 KiB pages", i, ph->paddr,
                  ph->filesz);
  if (ph->paddr + ph->filesz < ph->paddr)
    return refuse(error, x->name, "program header %u: RAM at 0x%" G_GINT64_MODIFIER "x, 0x%"
                  G_GINT64_MODIFIER "x bytes, runs past the end of the address space", i,
                  ph->paddr, ph->filesz);
  if (!in_file(x, ph->offset, ph->filesz))
    return refuse(error, x->name, "program header %u: the data of RAM at 0x%" G_GINT64_MODIFIER
                  "x runs past the end of the file (truncated?)", i, ph->paddr);
  HwRamRange r = { ph->paddr, ph->filesz, ph->offset };
  g_array_append_val(x->out->ranges, r);
  return TRUE;
}

static gint
compare_range(gconstpointer a, gconstpointer b)
{
  const HwRamRange *x = a, *y = b;
  return x->gpa < y->gpa ? -1 : x->gpa > y->gpa;
}

static gint
compare_offset(gconstpointer a, gconstpointer b)
{
  const HwRamRange *x = a, *y = b;
  return x->file_offset < y->file_offset ? -1 : x->file_offset > y->file_offset;
}

/* The RAM ranges from the PT_LOAD segments: sorted, apart, each inside the file. */
static gboolean
parse_loads(Dump *x, GError **error)
{
  for (guint i = 0; i < x->phnum; i++) {
    Phdr ph;
    read_phdr(x, i, &ph);
    if (ph.type == PT_LOAD && !take_load(x, i, &ph, error))
      return FALSE;
  }
  GArray *ranges = x->out->ranges;
  if (ranges->len == 0)
    return refuse(error, x->name, "no RAM (no PT_LOAD segment)");
  g_array_sort(ranges, compare_range);
  for (guint i = 1; i < ranges->len; i++) {
    const HwRamRange *prev = &g_array_index(ranges, HwRamRange, i - 1);
    const HwRamRange *r = &g_array_index(ranges, HwRamRange, i);
    if (r->gpa < prev->gpa + prev->size)
      return refuse(error, x->name, "RAM segments overlap at 0x%" G_GINT64_MODIFIER "x", r->gpa);
  }
  /* Nor may their data share bytes of the file: QEMU writes each once, and a reader that
   * copies them out would copy shared bytes once per segment. */
  g_autoptr(GArray) by_offset = g_array_copy(ranges);
  g_array_sort(by_offset, compare_offset);
  for (guint i = 1; i < by_offset->len; i++) {
    const HwRamRange *prev = &g_array_index(by_offset, HwRamRange, i - 1);
    const HwRamRange *r = &g_array_index(by_offset, HwRamRange, i);
    if (r->file_offset < prev->file_offset + prev->size)
      return refuse(error, x->name, "RAM segments share file data at offset 0x%"
                    G_GINT64_MODIFIER "x", r->file_offset);
  }
  return TRUE;
}

gboolean
hw_dump_parse(const guint8 *d, gsize size, const char *name, HwDumpInfo *out, GError **error)
{
  g_auto(HwDumpInfo) info = {
    .ranges = g_array_new(FALSE, FALSE, sizeof(HwRamRange)),
    .regs = g_ptr_array_new_with_free_func((GDestroyNotify)hw_regs_free),
  };
  Dump x = { .d = d, .size = size, .name = name, .out = &info };
  *out = (HwDumpInfo){ 0 };
  if (!parse_header(&x, error) || !parse_note_segments(&x, error) ||
      !check_origin(&x, error) || !parse_loads(&x, error))
    return FALSE;
  info.arch = x.arch->arch;
  *out = info;
  info = (HwDumpInfo){ 0 };
  return TRUE;
}

void
hw_dump_info_clear(HwDumpInfo *out)
{
  if (out->ranges != NULL)
    g_array_unref(out->ranges);
  if (out->regs != NULL)
    g_ptr_array_unref(out->regs);
  *out = (HwDumpInfo){ 0 };
}
