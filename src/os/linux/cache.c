/* Per-boot cache of discovery results: where the kernel, its BTF and init_task are,
 * and the struct offsets taken from BTF, so warm commands skip the RAM search and the
 * BTF parse. The file is named after the memory file (path, inode, size); its content
 * is only trusted after kernel.c re-validates it against guest RAM, so a reboot (new
 * KASLR slide, new kernel) simply falls back to a cold discovery. */
#include "os/linux/linux-private.h"
#include <haywire/error.h>

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#define CACHE_MAGIC "haywire-linux-cache 2"

static char *
cache_path(HwLinux *lx, const char *dir)
{
  const char *mem_path = hw_guest_get_mem_path(lx->guest);
  struct stat st;
  if (mem_path == NULL || stat(mem_path, &st) != 0)
    return NULL;
  g_autofree char *key = g_strdup_printf("%s:%lu:%lu:%lld", mem_path, (unsigned long)st.st_dev,
                                         (unsigned long)st.st_ino, (long long)st.st_size);
  g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, key, -1);
  g_autofree char *name = g_strdup_printf("%.32s.linux", sum);
  return g_build_filename(dir, name, NULL);
}

void
hw_linux_cache_store(HwLinux *lx, const char *dir)
{
  g_autofree char *path = cache_path(lx, dir);
  if (path == NULL || g_mkdir_with_parents(dir, 0700) != 0)
    return;
  g_autoptr(GString) s = g_string_new(CACHE_MAGIC "\n");
  const HwLinuxInfo *i = &lx->info;
  g_string_append_printf(s, "btf_gpa=%" G_GUINT64_FORMAT "\nbtf_size=%" G_GUINT64_FORMAT
                         "\nbtf_types=%u\ntext_va=%" G_GUINT64_FORMAT "\ntext_gpa=%"
                         G_GUINT64_FORMAT "\ninit_task_va=%" G_GUINT64_FORMAT
                         "\ninit_task_gpa=%" G_GUINT64_FORMAT "\nkernel_pgd_gpa=%"
                         G_GUINT64_FORMAT "\nkaslr_slide=%" G_GINT64_FORMAT "\n",
                         i->btf_gpa, i->btf_size, i->btf_types, i->text_va, i->text_gpa,
                         i->init_task_va, i->init_task_gpa, i->kernel_pgd_gpa, i->kaslr_slide);
  hw_linux_offsets_write(&lx->off, s);
  /* Banner last: it is free text. */
  g_string_append_printf(s, "banner=%s\n", i->banner ? i->banner : "");
  g_file_set_contents(path, s->str, (gssize)s->len, NULL);
}

gboolean
hw_linux_cache_load(HwLinux *lx, const char *dir, GError **error)
{
  g_autofree char *path = cache_path(lx, dir);
  g_autofree char *text = NULL;
  if (path == NULL || !g_file_get_contents(path, &text, NULL, error))
    return FALSE;
  g_auto(GStrv) lines = g_strsplit(text, "\n", 512);
  if (lines[0] == NULL || strcmp(lines[0], CACHE_MAGIC) != 0) {
    g_set_error(error, HW_ERROR, HW_ERROR_FAILED, "cache %s: wrong format", path);
    return FALSE;
  }
  HwLinuxInfo *i = &lx->info;
  for (guint k = 1; lines[k]; k++) {
    char *eq = strchr(lines[k], '=');
    if (eq == NULL)
      continue;
    *eq = '\0';
    const char *name = lines[k], *val = eq + 1;
    if (strcmp(name, "banner") == 0) {
      g_free(i->banner);
      i->banner = g_strndup(val, 512);
      continue;
    }
    if (strcmp(name, "kaslr_slide") == 0) {
      i->kaslr_slide = g_ascii_strtoll(val, NULL, 10);
      continue;
    }
    guint64 v = g_ascii_strtoull(val, NULL, 10);
    if (strcmp(name, "btf_gpa") == 0) i->btf_gpa = v;
    else if (strcmp(name, "btf_size") == 0) i->btf_size = v;
    else if (strcmp(name, "btf_types") == 0) i->btf_types = (guint32)v;
    else if (strcmp(name, "text_va") == 0) i->text_va = v;
    else if (strcmp(name, "text_gpa") == 0) i->text_gpa = v;
    else if (strcmp(name, "init_task_va") == 0) i->init_task_va = v;
    else if (strcmp(name, "init_task_gpa") == 0) i->init_task_gpa = v;
    else if (strcmp(name, "kernel_pgd_gpa") == 0) i->kernel_pgd_gpa = v;
    else hw_linux_offsets_read(&lx->off, name, v);
  }
  if (i->kernel_pgd_gpa == 0) {
    g_set_error(error, HW_ERROR, HW_ERROR_FAILED, "cache %s: no kernel root", path);
    return FALSE;
  }
  /* The kernel half on the cached init_mm.pgd; validation checks it maps init_task. */
  HwMmu *k = hw_mmu_copy_with_kernel_root(lx->kmmu, i->kernel_pgd_gpa);
  hw_mmu_free(lx->kmmu);
  lx->kmmu = k;
  return hw_linux_offsets_check(&lx->off, error) && hw_linux_validate(lx, error);
}
