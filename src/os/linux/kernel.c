/* Kernel discovery from guest RAM alone: the kernel image (first mapping of the
 * kernel-text window), its BTF blob, the banner, and init_task found by a validated
 * search for the boot CPU's idle task "swapper/0". */
#include "os/linux/linux-private.h"
#include <haywire/error.h>

#include <string.h>

#define MAX_ROOT_CANDIDATES 8
#define IMAGE_WINDOW (256ull << 20)              /* search this far past _text first */
#define BTF_MIN_VMLINUX (256u << 10)             /* module BTF is far smaller */

void
hw_linux_free(HwLinux *lx)
{
  if (lx == NULL)
    return;
  hw_mmu_free(lx->kmmu);
  hw_regs_free(lx->regs);
  hw_btf_free(lx->btf);
  g_free(lx->info.banner);
  g_free(lx);
}

const HwLinuxInfo *
hw_linux_get_info(const HwLinux *lx)
{
  return &lx->info;
}

const HwMmu *
hw_linux_get_kernel_mmu(const HwLinux *lx)
{
  return lx->kmmu;
}

typedef struct {
  HwLinux *lx;
  guint64 start;        /* gpa of the searched stretch */
  const void *needle;
  gsize nlen, align;
  HwLinuxHitFn fn;
  gpointer data;
  gboolean stop;
} Search;

static void
search_stretch(const guint8 *base, gsize len, gpointer data)
{
  Search *s = data;
  const guint8 *e = base + len;
  if (s->align >= 4 && s->nlen >= 4) {
    /* Aligned needle: compare one 32-bit word per step (much faster than memmem). */
    guint32 first;
    memcpy(&first, s->needle, 4);
    const guint8 *p = base + ((s->align - s->start % s->align) % s->align);
    for (; !s->stop && p + s->nlen <= e; p += s->align) {
      guint32 w;
      memcpy(&w, p, 4);
      if (w == first && memcmp(p, s->needle, s->nlen) == 0)
        s->stop = s->fn(s->lx, s->start + (guint64)(p - base), p, (gsize)(e - p), s->data);
    }
    return;
  }
  const guint8 *p = base;
  while (!s->stop && p + s->nlen <= e) {
    const guint8 *hit = memchr(p, *(const guint8 *)s->needle, (gsize)(e - p - s->nlen + 1));
    if (hit == NULL)
      break;
    guint64 gpa = s->start + (guint64)(hit - base);
    if (gpa % s->align == 0 && memcmp(hit, s->needle, s->nlen) == 0)
      s->stop = s->fn(s->lx, gpa, hit, (gsize)(e - hit), s->data);
    p = hit + 1;
  }
}

gboolean
hw_linux_search_ram(HwLinux *lx, guint64 lo, guint64 hi, const void *needle, gsize nlen,
                    gsize align, HwLinuxHitFn fn, gpointer data, GError **error)
{
  guint n;
  const HwRamRange *r = hw_physmem_get_ranges(lx->mem, &n);
  Search s = { lx, 0, needle, nlen, align, fn, data, FALSE };
  for (guint i = 0; i < n && !s.stop; i++) {
    guint64 start = MAX(lo, r[i].gpa), end = MIN(hi, r[i].gpa + r[i].size);
    if (start >= end)
      continue;
    s.start = start;
    if (!hw_physmem_access(lx->mem, start, end - start, search_stretch, &s, error))
      return FALSE;
  }
  return TRUE;
}

/* ---- banner ----------------------------------------------------------------------- */

typedef struct {
  const char *release, *version;   /* from init_task's uts namespace */
} BannerWant;

static gboolean
banner_hit(HwLinux *lx, guint64 gpa, const guint8 *p, gsize avail, gpointer data)
{
  const BannerWant *want = data;
  gsize n = 0;
  while (n < MIN(avail, (gsize)512) && p[n] != '\n' && p[n] != '\0' && g_ascii_isprint(p[n]))
    n++;
  /* linux_banner: "Linux version X (builder) (compiler) #1 SMP ..."; a line running to
   * the end of the stretch has no newline there to read. */
  if (n < 20 || n == avail || p[n] != '\n' || memchr(p, '(', n) == NULL ||
      memchr(p, '#', n) == NULL)
    return FALSE;
  g_autofree char *line = g_strndup((const char *)p, n);
  /* The image holds look-alikes (templates, other builds' strings): the banner of the
   * running kernel names the release and version its uts namespace reports. */
  if (want->release && (strstr(line, want->release) == NULL ||
                        strstr(line, want->version) == NULL))
    return FALSE;
  lx->info.banner = g_steal_pointer(&line);
  return TRUE;
}

/* Release and version strings from init_task->nsproxy->uts_ns (65-byte arrays). */
static void
read_uts(HwLinux *lx, char release[66], char version[66])
{
  const HwLinuxOffsets *o = &lx->off;
  guint64 nsproxy = 0, uts = 0;
  release[0] = version[0] = '\0';
  if (!hw_linux_read_u64(lx, lx->info.init_task_va + o->task_nsproxy, &nsproxy, NULL) ||
      !hw_linux_is_kernel_ptr(nsproxy) ||
      !hw_linux_read_u64(lx, nsproxy + o->nsproxy_uts, &uts, NULL) ||
      !hw_linux_is_kernel_ptr(uts) ||
      !hw_linux_read(lx, uts + o->uts_release, release, 65, NULL) ||
      !hw_linux_read(lx, uts + o->uts_version, version, 65, NULL))
    release[0] = version[0] = '\0';
  release[65] = version[65] = '\0';
}

void
hw_linux_find_banner(HwLinux *lx)
{
  static const char needle[] = "Linux version ";
  char release[66], version[66];
  guint64 lo = lx->info.text_gpa;
  read_uts(lx, release, version);
  BannerWant want = { release[0] ? release : NULL, version };
  hw_linux_search_ram(lx, lo, lo + IMAGE_WINDOW, needle, sizeof needle - 1, 1, banner_hit, &want, NULL);
  if (lx->info.banner == NULL && release[0])
    lx->info.banner = g_strdup_printf("Linux version %s %s", release, version);
}

/* ---- BTF -------------------------------------------------------------------------- */

typedef struct {
  guint64 gpa;
  gsize size;
} BtfHit;

static gboolean
btf_hit(HwLinux *lx, guint64 gpa, const guint8 *p, gsize avail, gpointer data)
{
  BtfHit *best = data;
  gsize total;
  if (hw_btf_check_header(p, avail, &total, NULL) && total >= BTF_MIN_VMLINUX &&
      total > best->size) {
    best->gpa = gpa;
    best->size = total;
    return TRUE;  /* vmlinux's BTF is the first large one in the image */
  }
  return FALSE;
}

/* Parse the BTF blob at GPA from a copy (the mapping may vanish under a parse). */
static HwBtf *
load_btf_at(HwLinux *lx, guint64 gpa, gsize size, GError **error)
{
  g_autofree guint8 *copy = g_try_malloc(size);
  if (copy == NULL) {
    g_set_error(error, HW_ERROR, HW_ERROR_LIMIT, "no memory for %" G_GSIZE_FORMAT
                " bytes of BTF", size);
    return NULL;
  }
  if (!hw_physmem_read(lx->mem, gpa, copy, size, error)) {
    g_prefix_error(error, "BTF: ");
    return NULL;
  }
  gint64 t0 = g_get_monotonic_time();
  HwBtf *btf = hw_btf_new(copy, size, error);
  g_debug("BTF parse: %.1f ms", (g_get_monotonic_time() - t0) / 1000.0);
  return btf;
}

static gboolean
find_btf(HwLinux *lx, GError **error)
{
  static const guint8 magic[] = { 0x9f, 0xeb, 0x01, 0x00 };
  BtfHit best = { 0, 0 };
  guint64 lo = lx->info.text_gpa;
  if (!hw_linux_search_ram(lx, lo, lo + IMAGE_WINDOW, magic, sizeof magic, 4, btf_hit, &best, error))
    return FALSE;
  if (best.size == 0 &&
      !hw_linux_search_ram(lx, 0, G_MAXUINT64, magic, sizeof magic, 4, btf_hit, &best, error))
    return FALSE;
  if (best.size == 0) {
    g_set_error(error, HW_ERROR, HW_ERROR_BTF,
                "no kernel BTF in guest RAM (the kernel needs CONFIG_DEBUG_INFO_BTF=y)");
    return FALSE;
  }
  lx->btf = load_btf_at(lx, best.gpa, best.size, error);
  if (lx->btf == NULL)
    return FALSE;
  lx->info.btf_gpa = best.gpa;
  lx->info.btf_size = best.size;
  lx->info.btf_types = hw_btf_get_type_count(lx->btf);
  return hw_linux_offsets_load(lx->btf, &lx->off, error);
}

const HwBtf *
hw_linux_get_btf(HwLinux *lx, GError **error)
{
  if (lx->btf == NULL)
    lx->btf = load_btf_at(lx, lx->info.btf_gpa, lx->info.btf_size, error);
  return lx->btf;
}

/* ---- init_task -------------------------------------------------------------------- */

/* Does the task at TASK_GPA look like the boot CPU's idle task, in physical RAM alone?
 * Gives its tasks.next pointer. */
static gboolean
init_task_phys_ok(HwLinux *lx, guint64 task_gpa, guint64 *next_out)
{
  const HwLinuxOffsets *o = &lx->off;
  g_autofree guint8 *t = g_malloc(o->task_size);
  guint32 pid, tgid, flags;
  guint64 mm, next, prev;

  if (!hw_physmem_read(lx->mem, task_gpa, t, o->task_size, NULL))
    return FALSE;
  memcpy(&pid, t + o->task_pid, 4);
  memcpy(&tgid, t + o->task_tgid, 4);
  memcpy(&flags, t + o->task_flags, 4);
  memcpy(&mm, t + o->task_mm, 8);
  memcpy(&next, t + o->task_tasks + o->list_next, 8);
  memcpy(&prev, t + o->task_tasks + o->list_prev, 8);
  /* active_mm is not checked: the idle task borrows (or drops) it with lazy TLB. */
  if (pid != 0 || tgid != 0 || mm != 0 || !(flags & HW_LINUX_PF_KTHREAD) ||
      !hw_linux_is_kernel_ptr(next) || !hw_linux_is_kernel_ptr(prev))
    return FALSE;
  *next_out = next;
  return TRUE;
}

/* Through the kernel's tables: the next task's tasks.prev points back at the task at
 * TASK_GPA, which gives its VA, and that VA maps to TASK_GPA. Fills init_task_*. */
static gboolean
init_task_va_ok(HwLinux *lx, guint64 task_gpa, guint64 next)
{
  const HwLinuxOffsets *o = &lx->off;
  guint64 back;
  HwTranslation tr;
  if (!hw_linux_read_u64(lx, next + o->list_prev, &back, NULL) || back < o->task_tasks)
    return FALSE;
  guint64 va = back - o->task_tasks;
  if (!hw_mmu_translate(lx->kmmu, va, &tr, NULL) || tr.pa != task_gpa)
    return FALSE;
  lx->info.init_task_va = va;
  lx->info.init_task_gpa = task_gpa;
  return TRUE;
}

/* Is the task at GPA the boot CPU's idle task? Fills init_task_* on success. */
static gboolean
check_init_task(HwLinux *lx, guint64 task_gpa)
{
  guint64 next;
  return init_task_phys_ok(lx, task_gpa, &next) && init_task_va_ok(lx, task_gpa, next);
}

#define MAX_INIT_CANDIDATES 64

static gboolean
swapper_hit(HwLinux *lx, guint64 gpa, const guint8 *p, gsize avail, gpointer data)
{
  GArray *found = data;
  guint64 next, task = gpa - lx->off.task_comm;
  if (gpa >= lx->off.task_comm && init_task_phys_ok(lx, task, &next))
    g_array_append_val(found, task);
  return found->len >= MAX_INIT_CANDIDATES;
}

/* Tasks in physical RAM that look like init_task ("swapper/0", pid 0, a kernel thread),
 * searched for once: near the kernel image first, else everywhere. */
static GArray *
init_task_candidates(HwLinux *lx, GError **error)
{
  static const char comm[16] = "swapper/0";
  g_autoptr(GArray) found = g_array_new(FALSE, FALSE, sizeof(guint64));
  guint64 lo = lx->info.text_gpa;
  if (!hw_linux_search_ram(lx, lo, lo + IMAGE_WINDOW, comm, sizeof comm, 8, swapper_hit, found,
                           error))
    return NULL;
  if (found->len == 0 &&
      !hw_linux_search_ram(lx, 0, G_MAXUINT64, comm, sizeof comm, 8, swapper_hit, found, error))
    return NULL;
  return g_steal_pointer(&found);
}

/* The candidate that validates through lx->kmmu. */
static gboolean
find_init_task(HwLinux *lx, GArray *candidates, GError **error)
{
  for (guint i = 0; i < candidates->len; i++) {
    guint64 gpa = g_array_index(candidates, guint64, i), next;
    if (init_task_phys_ok(lx, gpa, &next) && init_task_va_ok(lx, gpa, next))
      return TRUE;
  }
  g_set_error(error, HW_ERROR, HW_ERROR_FAILED,
              "no init_task (idle task \"swapper/0\") found in guest RAM%s",
              candidates->len ? " that the kernel's page tables map" : "");
  return FALSE;
}

gboolean
hw_linux_validate(HwLinux *lx, GError **error)
{
  HwTranslation t;
  gsize total = 0;
  gboolean btf_ok = FALSE;
  guint8 head[64];   /* the header's known part is 24 bytes */
  gsize n = MIN(lx->info.btf_size, sizeof head);
  if (hw_physmem_read(lx->mem, lx->info.btf_gpa, head, n, NULL))
    btf_ok = hw_btf_check_header(head, n, &total, NULL) &&
             total == lx->info.btf_size;
  if (!btf_ok || !hw_mmu_translate(lx->kmmu, lx->info.text_va, &t, NULL) ||
      t.pa != lx->info.text_gpa || !check_init_task(lx, lx->info.init_task_gpa)) {
    g_set_error(error, HW_ERROR, HW_ERROR_FAILED, "cached kernel layout is stale");
    return FALSE;
  }
  return TRUE;
}

/* ---- open ------------------------------------------------------------------------- */

/* Which of the kernel-root candidates is init_mm's: the one from which init_task
 * validates. Finds the image, BTF and init_task on the way. */
gboolean
hw_linux_discover(HwLinux *lx, GError **error)
{
  g_autoptr(HwMmu) base = g_steal_pointer(&lx->kmmu);
  guint64 roots[MAX_ROOT_CANDIDATES];
  guint n = hw_mmu_kernel_root_candidates(base, roots, G_N_ELEMENTS(roots));
  g_autoptr(GError) last = NULL;
  g_autoptr(GArray) tasks = NULL;
  for (guint i = 0; i < n; i++) {
    g_clear_pointer(&lx->kmmu, hw_mmu_free);
    g_clear_error(&last);
    lx->kmmu = hw_mmu_copy_with_kernel_root(base, roots[i]);
    if (!lx->arch->find_image(lx, &last))
      continue;
    /* BTF and the init_task candidates are found in physical RAM: once is enough, and
     * failing there is final. */
    if (lx->btf == NULL && !find_btf(lx, error))
      return FALSE;
    if (tasks == NULL && (tasks = init_task_candidates(lx, error)) == NULL)
      return FALSE;
    if (find_init_task(lx, tasks, &last)) {
      g_debug("kernel root 0x%" G_GINT64_MODIFIER "x (candidate %u of %u)", roots[i], i + 1, n);
      return lx->arch->finish_image(lx, error);
    }
  }
  g_propagate_error(error, g_steal_pointer(&last));
  return FALSE;
}

HwLinux *
hw_linux_open(HwGuest *guest, const char *cache_dir, GError **error)
{
  gint64 t0 = g_get_monotonic_time();
  g_autoptr(HwLinux) lx = g_new0(HwLinux, 1);
  static const HwLinuxArch *const arches[] = { &hw_linux_arch_x86_64, &hw_linux_arch_aarch64 };
  lx->guest = guest;
  lx->mem = hw_guest_get_physmem(guest);
  if (lx->mem == NULL) {
    g_set_error(error, HW_ERROR, HW_ERROR_NO_MEMORY_FILE, "guest RAM is not mapped");
    return NULL;
  }
  for (gsize i = 0; i < G_N_ELEMENTS(arches); i++)
    if (arches[i]->arch == hw_guest_get_arch(guest))
      lx->arch = arches[i];
  if (lx->arch == NULL) {
    g_set_error(error, HW_ERROR, HW_ERROR_UNSUPPORTED,
                "Linux discovery does not support %s guests",
                hw_guest_get_arch_name(guest));
    return NULL;
  }
  /* vCPU 0's registers give the paging mode; the kernel half's tables are the ones
   * from which init_task validates (a vCPU in user mode may hold PTI/KPTI tables). */
  lx->regs = hw_guest_read_regs(guest, 0, error);
  if (lx->regs == NULL)
    return NULL;
  guint64 ttbr1;
  if (lx->arch->recover_paging && hw_guest_is_offline(guest) &&
      !hw_regs_get(lx->regs, "TTBR1_EL1", &ttbr1) && !lx->arch->recover_paging(lx, error))
    return NULL;
  lx->kmmu = hw_mmu_new_from_regs(lx->mem, lx->regs, error);
  if (lx->kmmu == NULL)
    return NULL;

  if (cache_dir != NULL && hw_linux_cache_load(lx, cache_dir, NULL)) {
    lx->info.from_cache = TRUE;
  } else {
    memset(&lx->info, 0, sizeof lx->info);
    g_clear_pointer(&lx->btf, hw_btf_free);
    if (!hw_linux_discover(lx, error))
      return NULL;
    g_debug("kernel found after %.1f ms", (g_get_monotonic_time() - t0) / 1000.0);
    hw_linux_find_banner(lx);
    if (lx->info.banner == NULL)
      lx->info.banner = g_strdup("(no banner found)");
    lx->info.kaslr_slide = lx->arch->kaslr_slide(lx);
    lx->info.kernel_pgd_gpa = hw_mmu_get_kernel_root(lx->kmmu);
    if (cache_dir != NULL)
      hw_linux_cache_store(lx, cache_dir);
  }
  lx->info.paging_levels = hw_mmu_get_levels(lx->kmmu);
  lx->info.page_size = hw_mmu_get_page_size(lx->kmmu, lx->info.text_va);
  lx->info.discovery_ms = (g_get_monotonic_time() - t0) / 1000.0;
  return g_steal_pointer(&lx);
}
