/* Linux without a profile, against a real booted guest: what haywire reads from kernel
 * memory (BTF, tasks, maple trees) must equal what the guest's own /proc printed. */
#include "guest-harness.h"
#include "../common/read-png.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static HwTestGuest *guest;

static void
test_kernel(void)
{
  /* Cold, then warm from a fresh cache dir. */
  g_autofree char *cache = g_dir_make_tmp("hw-cache-XXXXXX", NULL);
  g_setenv("HAYWIRE_CACHE_DIR", cache, TRUE);
  for (int round = 0; round < 2; round++) {
    g_autoptr(HwRun) r = hw_test_runv(guest, "--json", "kernel", NULL);
    JsonObject *k = hw_run_object(r);
    g_assert_cmpint(json_object_get_boolean_member(k, "from_cache"), ==, round == 1);
    /* arm64 reports _stext (its header page before it is neither mapped nor kept), and
     * its kallsyms lacks data symbols such as init_task (no KALLSYMS_ALL). */
    if (hw_test_guest_ksym(guest, "_text"))
      g_assert_cmphex(hw_json_hex(k, "text_va"), ==, hw_test_guest_ksym(guest, "_text"));
    else
      g_assert_cmphex(hw_json_hex(k, "text_va"), ==, hw_test_guest_ksym(guest, "_stext"));
    if (hw_test_guest_ksym(guest, "init_task"))
      g_assert_cmphex(hw_json_hex(k, "init_task"), ==, hw_test_guest_ksym(guest, "init_task"));
    g_assert_cmpstr(json_object_get_string_member(k, "banner"), ==, guest->version);
    g_assert_cmpint(json_object_get_int_member(k, "btf_types"), >, 10000);
    g_test_message("discovery %s: %.1f ms", round ? "warm" : "cold",
                   json_object_get_double_member(k, "discovery_ms"));
  }
  g_autofree char *rm = g_strdup_printf("rm -rf '%s'", cache);
  g_spawn_command_line_sync(rm, NULL, NULL, NULL, NULL);
  g_unsetenv("HAYWIRE_CACHE_DIR");
}

static JsonArray *
ps_tasks(HwRun *r)
{
  JsonObject *o = hw_run_object(r);
  g_assert_false(json_object_get_boolean_member(o, "partial"));
  return json_object_get_array_member(o, "tasks");
}

static void
test_ps(void)
{
  g_autoptr(HwRun) r = hw_test_runv(guest, "--no-cache", "--json", "ps", NULL);
  JsonArray *tasks = ps_tasks(r);
  guint user = 0;
  for (guint i = 0; i < guest->ps->len; i++) {
    HwTruthTask *want = guest->ps->pdata[i];
    gboolean found = FALSE;
    for (guint k = 0; k < json_array_get_length(tasks) && !found; k++) {
      JsonObject *t = json_array_get_object_element(tasks, k);
      if (json_object_get_int_member(t, "pid") != want->pid)
        continue;
      found = TRUE;
      /* task_struct.comm holds 15 characters; /proc shows kernel threads' full names
       * (and a workqueue suffix), which start with it. */
      const char *comm = json_object_get_string_member(t, "comm");
      if (want->kthread && strlen(comm) == 15)
        g_assert_true(g_str_has_prefix(want->comm, comm));
      else if (want->kthread)
        g_assert_true(g_str_has_prefix(want->comm, comm) &&
                      (want->comm[strlen(comm)] == '\0' || want->comm[strlen(comm)] == '-'));
      else
        g_assert_cmpstr(comm, ==, want->comm);
      g_assert_cmpint(json_object_get_int_member(t, "ppid"), ==, want->ppid);
      g_assert_cmpint(json_object_get_boolean_member(t, "kernel_thread"), ==, want->kthread);
      /* Kernel threads have no page tables of their own; processes do. */
      g_assert_cmpint(hw_json_hex(t, "pgd") != 0, ==, !want->kthread);
    }
    if (!found)
      g_error("pid %d (%s) listed by the guest is missing", want->pid, want->comm);
    user += !want->kthread;
  }
  g_assert_cmpuint(user, >=, 3);   /* init and the two test programs */

  /* --threads lists at least as many tasks. */
  g_autoptr(HwRun) th = hw_test_runv(guest, "--json", "ps", "--threads", NULL);
  g_assert_cmpuint(json_array_get_length(ps_tasks(th)), >=, json_array_get_length(tasks));
}

static void
check_maps(int pid)
{
  g_autofree char *p = g_strdup_printf("%d", pid);
  g_autoptr(HwRun) r = hw_test_runv(guest, "--json", "maps", p, NULL);
  JsonObject *o = hw_run_object(r);
  g_assert_false(json_object_get_boolean_member(o, "partial"));
  JsonArray *maps = json_object_get_array_member(o, "maps");
  g_autoptr(GPtrArray) want = g_ptr_array_new();
  g_autofree char *prefix = g_strdup_printf("%d ", pid);
  for (guint i = 0; i < guest->maps->len; i++)
    if (g_str_has_prefix(guest->maps->pdata[i], prefix))
      g_ptr_array_add(want, (char *)guest->maps->pdata[i] + strlen(prefix));
  g_assert_cmpuint(want->len, >=, 8);
  g_assert_cmpuint(json_array_get_length(maps), ==, want->len);
  for (guint i = 0; i < want->len; i++) {
    JsonObject *m = json_array_get_object_element(maps, i);
    g_autofree char *got = g_strdup_printf("%08" G_GINT64_MODIFIER "x-%08" G_GINT64_MODIFIER
                                           "x %s %08" G_GINT64_MODIFIER "x %s",
                                           hw_json_hex(m, "start"), hw_json_hex(m, "end"),
                                           json_object_get_string_member(m, "perms"),
                                           hw_json_hex(m, "offset"),
                                           json_object_get_string_member(m, "path"));
    g_strstrip(got);
    g_assert_cmpstr(got, ==, want->pdata[i]);
  }
}

static void
test_maps(void)
{
  check_maps(guest->sleep.pid);   /* runs from a tmpfs mount: path crosses a mount */
  check_maps(guest->spin.pid);
}

/* The sleeping test program is not on the vCPU: only its own page tables reach it. */
static void
test_read_pid(void)
{
  g_autofree char *pid = g_strdup_printf("%d", guest->sleep.pid);
  g_autofree char *va = g_strdup_printf("0x%" G_GINT64_MODIFIER "x", guest->sleep.va);
  g_autoptr(HwRun) t = hw_test_runv(guest, "--json", "translate", va, "--pid", pid, NULL);
  g_assert_cmphex(hw_json_hex(hw_run_object(t), "pa"), ==, guest->sleep.pa);

  g_autofree char *dir = g_dir_make_tmp("hw-pid-XXXXXX", NULL);
  g_autofree char *file = g_build_filename(dir, "buf.bin", NULL);
  g_autoptr(HwRun) r = hw_test_runv(guest, "read", va, "20K", "--pid", pid, "-o", file, NULL);
  g_assert_cmpint(r->status, ==, 0);
  g_autofree char *got = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(file, &got, &len, NULL));
  g_assert_cmpuint(len, ==, 20 * 1024);
  g_assert_cmpmem(got, strlen(HW_TEST_MARKER), HW_TEST_MARKER, strlen(HW_TEST_MARKER));
  guint8 grad[64 * 64 * 4];
  hw_test_expected_gradient(grad, 64, 64);
  g_assert_cmpmem(got + 4096, sizeof grad, grad, sizeof grad);
  unlink(file);
  rmdir(dir);

  /* A pid that does not exist, and a kernel thread: clear errors. */
  g_autoptr(HwRun) none = hw_test_runv(guest, "translate", va, "--pid", "99999", NULL);
  g_assert_cmpint(none->status, ==, 1);
  g_assert_nonnull(strstr(none->err, "no process with pid 99999"));
  g_autoptr(HwRun) kt = hw_test_runv(guest, "translate", va, "--pid", "2", NULL);
  g_assert_cmpint(kt->status, ==, 1);
  g_assert_nonnull(strstr(kt->err, "kernel thread"));
  g_assert_true(hw_test_guest_running(guest));
}

/* Lines of `scan --json` output: hits, then a summary. */

static gboolean
has_hit(GPtrArray *objs, const char *member, guint64 value)
{
  for (guint i = 0; i + 1 < objs->len; i++) {
    JsonObject *o = json_node_get_object(objs->pdata[i]);
    if (json_object_has_member(o, member) && hw_json_hex(o, member) == value)
      return TRUE;
  }
  return FALSE;
}

static void
test_scan_string(void)
{
  /* Physical: both copies of the marker, at the pagemap addresses. */
  g_autoptr(HwRun) r = hw_test_runv(guest, "--json", "scan", "--string", HW_TEST_MARKER, NULL);
  g_autoptr(GPtrArray) phys = hw_run_json_lines(r);
  g_assert_true(has_hit(phys, "gpa", guest->spin.pa));
  g_assert_true(has_hit(phys, "gpa", guest->sleep.pa));
  JsonObject *sum = json_node_get_object(phys->pdata[phys->len - 1]);
  g_assert_cmpstr(json_object_get_string_member(sum, "kind"), ==, "summary");
  g_assert_cmpstr(json_object_get_string_member(sum, "state"), ==, "paused-by-haywire");
  g_assert_nonnull(json_object_get_string_member(sum, "stop_event"));
  g_assert_nonnull(json_object_get_string_member(sum, "resume_event"));
  g_assert_true(hw_test_guest_running(guest));

  /* One process: the marker at its own virtual address, and the right physical one. */
  g_autofree char *pid = g_strdup_printf("%d", guest->sleep.pid);
  g_autoptr(HwRun) pr = hw_test_runv(guest, "--json", "scan", "--string", HW_TEST_MARKER,
                                     "--pid", pid, NULL);
  g_autoptr(GPtrArray) proc = hw_run_json_lines(pr);
  g_assert_true(has_hit(proc, "va", guest->sleep.va));
  g_assert_true(has_hit(proc, "gpa", guest->sleep.pa));
  g_assert_false(has_hit(proc, "gpa", guest->spin.pa));   /* not another process's copy */

  /* Paused guest: two scans agree exactly, and say the guest was already paused. */
  g_autoptr(HwRun) p = hw_test_runv(guest, "pause", NULL);
  g_autoptr(HwRun) a = hw_test_runv(guest, "--json", "scan", "--string", "HAYWIRE", NULL);
  g_autoptr(HwRun) b = hw_test_runv(guest, "--json", "scan", "--string", "HAYWIRE", NULL);
  g_autoptr(HwRun) c = hw_test_runv(guest, "resume", NULL);
  g_autoptr(GPtrArray) la = hw_run_json_lines(a), lb = hw_run_json_lines(b);
  g_assert_cmpuint(la->len, ==, lb->len);
  g_assert_cmpuint(la->len, >, 2);
  for (guint i = 0; i + 1 < la->len; i++) {
    g_autofree char *x = json_to_string(la->pdata[i], FALSE);
    g_autofree char *y = json_to_string(lb->pdata[i], FALSE);
    g_assert_cmpstr(x, ==, y);
    g_assert_nonnull(strstr(x, "\"already-paused\""));
  }
}

/* The owner of KIND for PID in the owners list of one `owners --json` line, or NULL. */
static JsonObject *
find_owner(JsonObject *line, const char *kind, gint64 pid)
{
  JsonArray *owners = json_object_get_array_member(line, "owners");
  for (guint i = 0; i < json_array_get_length(owners); i++) {
    JsonObject *o = json_array_get_object_element(owners, i);
    if (strcmp(json_object_get_string_member(o, "kind"), kind) == 0 &&
        json_object_get_int_member(o, "pid") == pid)
      return o;
  }
  return NULL;
}

/* owners of the sleeping program's buffer: that program at the VA it printed, and the
 * kernel (its direct map of all RAM); owners of its top page table: a page table of
 * its own. */
static void
test_owners(void)
{
  g_autofree char *pa = g_strdup_printf("0x%" G_GINT64_MODIFIER "x", guest->sleep.pa);
  g_autofree char *pid = g_strdup_printf("%d", guest->sleep.pid);
  g_autoptr(HwRun) ps = hw_test_runv(guest, "--json", "ps", NULL);
  JsonArray *tasks = json_object_get_array_member(hw_run_object(ps), "tasks");
  guint64 pgd = 0;
  for (guint i = 0; i < json_array_get_length(tasks); i++) {
    JsonObject *t = json_array_get_object_element(tasks, i);
    if (json_object_get_int_member(t, "pid") == guest->sleep.pid)
      pgd = hw_json_hex(t, "pgd");
  }
  g_assert_cmphex(pgd, !=, 0);
  g_autofree char *pgd_text = g_strdup_printf("0x%" G_GINT64_MODIFIER "x", pgd);
  g_autoptr(HwRun) r = hw_test_runv(guest, "--json", "owners", pa, pgd_text, NULL);
  g_autoptr(GPtrArray) lines = hw_run_json_lines(r);
  g_assert_cmpuint(lines->len, ==, 2);
  JsonObject *buf = json_node_get_object(lines->pdata[0]);
  g_assert_cmphex(hw_json_hex(buf, "gpa"), ==, guest->sleep.pa);
  g_assert_cmpstr(json_object_get_string_member(buf, "run_state"), ==, "paused-by-haywire");
  JsonObject *proc = find_owner(buf, "process", guest->sleep.pid);
  g_assert_nonnull(proc);
  g_assert_cmphex(hw_json_hex(proc, "va"), ==, guest->sleep.va & ~0xfffull);
  g_assert_true(g_str_has_prefix(json_object_get_string_member(proc, "comm"), "hwtest"));
  g_assert_true(json_object_get_boolean_member(proc, "writable"));
  g_assert_nonnull(find_owner(buf, "kernel", 0));
  JsonObject *table = find_owner(json_node_get_object(lines->pdata[1]), "page-table",
                                 guest->sleep.pid);
  g_assert_nonnull(table);
  g_assert_cmpint(json_object_get_int_member(table, "level"), >=, 3);
  /* Text: one block per address, the process named. */
  g_autoptr(HwRun) text = hw_test_runv(guest, "owners", pa, NULL);
  g_assert_cmpint(text->status, ==, 0);
  g_autofree char *want = g_strdup_printf(" %s hwtest", pid);
  g_assert_nonnull(strstr(text->out, want));
  g_assert_true(hw_test_guest_running(guest));
}

/* The memory file's written pages now (the guest paused by the test), by file offset:
 * read with pread between SEEK_DATA and SEEK_HOLE, so its holes are neither copied nor
 * allocated (a 4 GiB guest writes a few hundred MiB). */
static GHashTable *
copy_memory(void)
{
  GHashTable *pages = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
  int fd = open(guest->mem, O_RDONLY);
  g_assert_cmpint(fd, >=, 0);
  off_t end = lseek(fd, 0, SEEK_END), pos = 0;
  while (pos < end) {
    off_t data = lseek(fd, pos, SEEK_DATA);
    if (data < 0)
      break;
    off_t hole = lseek(fd, data, SEEK_HOLE);
    for (off_t p = data & ~(off_t)4095; p < hole; p += 4096) {
      guint8 *page = g_malloc(4096);
      g_assert_cmpint(pread(fd, page, 4096, p), ==, 4096);
      g_hash_table_insert(pages, g_memdup2(&(guint64){ (guint64)p }, 8), page);
    }
    pos = hole;
  }
  close(fd);
  return pages;
}

/* Whether the page at file offset OFF differs between the copies (a hole reads zeros). */
static gboolean
page_differs(GHashTable *a, GHashTable *b, guint64 off)
{
  static const guint8 zeros[4096];
  const guint8 *x = g_hash_table_lookup(a, &off), *y = g_hash_table_lookup(b, &off);
  return memcmp(x ? x : zeros, y ? y : zeros, 4096) != 0;
}

/* `snapshot diff A B --picture` into DIR: the same listing (LINES) on stdout and nothing
 * more, and a PNG of B's RAM map that is what hw_diff_draw() draws for the listing (title
 * aside), with the changed colour at a changed page (the tick page at TICK_PA if it is). */
static void
check_diff_picture(const char *dir, const char *a, const char *b, GPtrArray *lines,
                   guint64 tick_pa)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *pic = g_build_filename(dir, "diff.png", NULL);
  g_autoptr(HwRun) dp = hw_test_runv(NULL, "--json", "snapshot", "diff", a, b, "--picture",
                                     pic, NULL);
  g_assert_cmpint(dp->status, ==, 0);
  g_autoptr(GPtrArray) plines = hw_run_json_lines(dp);
  g_assert_cmpuint(plines->len, ==, lines->len);

  g_autoptr(GArray) pages = g_array_new(FALSE, FALSE, sizeof(HwPageDiff));
  guint64 changed_gpa = G_MAXUINT64;
  for (guint i = 0; i < lines->len; i++) {
    JsonObject *o = json_node_get_object(lines->pdata[i]);
    const char *change = json_object_get_string_member(o, "change");
    guint k = HW_PAGE_CHANGED;
    while (k <= HW_PAGE_VANISHED && strcmp(change, hw_page_change_name(k)) != 0)
      k++;
    g_assert_cmpuint(k, <=, HW_PAGE_VANISHED);
    HwPageDiff d = { hw_json_hex(o, "gpa"), k };
    g_array_append_val(pages, d);
    if (k == HW_PAGE_CHANGED && (changed_gpa == G_MAXUINT64 || d.gpa == tick_pa))
      changed_gpa = d.gpa;
  }
  g_assert_cmphex(changed_gpa, !=, G_MAXUINT64);

  g_autoptr(HwSnapshot) snap = hw_snapshot_load(b, &error);
  g_assert_no_error(error);
  guint n;
  const HwRamRange *ram = hw_snapshot_get_ranges(snap, &n);
  g_autoptr(HwCanvas) want = hw_diff_draw(ram, n, (const HwPageDiff *)pages->data, pages->len,
                                          NULL, &error);
  g_assert_no_error(error);
  guint w, h;
  g_autofree guint8 *px = hw_test_read_png(pic, &w, &h);
  g_assert_cmpuint(w, ==, want->width);
  g_assert_cmpuint(h, ==, want->height);

  g_autofree HwOverviewRange *where = g_new0(HwOverviewRange, n);
  for (guint r = 0; r < n; r++)
    where[r] = (HwOverviewRange){ ram[r].gpa, ram[r].size / HW_PAGE_SIZE, NULL };
  guint x, y, side;
  g_assert_true(hw_overview_locate(where, n, changed_gpa, &x, &y, &side));
  g_assert_cmphex(hw_test_rgb(px, w, x, y), ==, hw_diff_colour(HW_PAGE_CHANGED));
  /* Below the title, from the first page's row down, pixel for pixel. */
  g_assert_true(hw_overview_locate(where, n, ram[0].gpa, &x, &y, &side));
  g_assert_cmpmem(px + (gsize)y * w * 4, (gsize)(h - y) * w * 4,
                  want->rgba + (gsize)y * w * 4, (gsize)(h - y) * w * 4);
  g_test_message("%s: %ux%u", pic, w, h);
}

/* Two snapshots around a tick of the sleeping hwtest, each beside a copy of the memory
 * file taken in the same pause: the diff holds exactly the 4 KiB pages in which the
 * copies differ, and names hwtest (pid, VA) as the owner of its rewritten tick pages. */
/* The text listing: grouped by owner, every page once; the tick page under the sleeping
 * hwtest's group with its VA. */
static void
check_diff_text(const char *a, const char *b, guint n_pages, guint64 tick_pa)
{
  g_autoptr(HwRun) t = hw_test_runv(NULL, "snapshot", "diff", a, b, NULL);
  g_assert_cmpint(t->status, ==, 0);
  g_auto(GStrv) lines = g_strsplit(t->out, "\n", 0);
  g_autofree char *group = g_strdup_printf("%d/", guest->sleep.pid);
  g_autofree char *tick = g_strdup_printf("  0x%09" G_GINT64_MODIFIER "x changed  va 0x%"
                                          G_GINT64_MODIFIER "x", tick_pa, guest->tick_va);
  const char *in = NULL;
  guint pages = 0, headed = 0;
  gboolean tick_found = FALSE;
  for (guint i = 0; lines[i]; i++) {
    if (lines[i][0] == '\0')
      continue;
    if (lines[i][0] != ' ') {
      in = lines[i];
      headed += (guint)g_ascii_strtoull(strrchr(lines[i], ':') + 2, NULL, 10);
      continue;
    }
    pages++;
    if (strcmp(lines[i], tick) == 0)
      tick_found = in && g_str_has_prefix(in, group);
  }
  g_assert_cmpuint(pages, ==, n_pages);
  g_assert_cmpuint(headed, ==, n_pages);
  g_assert_true(tick_found);
}

static void
test_snapshot_diff(void)
{
  g_assert_cmphex(guest->tick_va, !=, 0);
  g_autofree char *dir = g_dir_make_tmp("hw-snap-XXXXXX", NULL);
  g_autofree char *a = g_build_filename(dir, "a.snap", NULL);
  g_autofree char *b = g_build_filename(dir, "b.snap", NULL);
  hw_test_observer_run(guest, "stop", NULL);
  g_autoptr(HwRun) sa = hw_test_runv(guest, "snapshot", "save", a, NULL);
  g_assert_cmpint(sa->status, ==, 0);
  g_autoptr(GHashTable) ma = copy_memory();
  guint ticks = hw_test_guest_ticks(guest);
  hw_test_observer_run(guest, "cont", NULL);
  for (int i = 0; i < 100 && hw_test_guest_ticks(guest) < ticks + 2; i++)
    g_usleep(100000);
  g_assert_cmpuint(hw_test_guest_ticks(guest), >=, ticks + 2);
  hw_test_observer_run(guest, "stop", NULL);
  g_autoptr(HwRun) sb = hw_test_runv(guest, "snapshot", "save", b, NULL);
  g_assert_cmpint(sb->status, ==, 0);
  g_autoptr(GHashTable) mb = copy_memory();
  hw_test_observer_run(guest, "cont", NULL);

  g_autoptr(HwRun) info = hw_test_runv(guest, "--json", "info", NULL);
  JsonArray *ram = json_object_get_array_member(hw_run_object(info), "ram");
  g_autoptr(HwRun) d = hw_test_runv(NULL, "--json", "snapshot", "diff", a, b, NULL);
  g_assert_cmpint(d->status, ==, 0);
  g_autoptr(GPtrArray) lines = hw_run_json_lines(d);
  g_autoptr(GHashTable) reported = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
                                                         NULL);
  for (guint i = 0; i < lines->len; i++) {
    JsonObject *o = json_node_get_object(lines->pdata[i]);
    g_hash_table_insert(reported, g_memdup2(&(guint64){ hw_json_hex(o, "gpa") }, 8), o);
  }
  /* Every page whose bytes differ between the copies, and no other. */
  guint differ = 0;
  for (guint r = 0; r < json_array_get_length(ram); r++) {
    JsonObject *range = json_array_get_object_element(ram, r);
    guint64 gpa = hw_json_hex(range, "gpa"), size = hw_json_hex(range, "size");
    guint64 off = hw_json_hex(range, "file_offset");
    for (guint64 p = 0; p < size; p += 4096) {
      gboolean changed = page_differs(ma, mb, off + p);
      guint64 at = gpa + p;
      if (changed != g_hash_table_contains(reported, &at))
        g_error("page 0x%" G_GINT64_MODIFIER "x: %s by the copies, %s by the diff", at,
                changed ? "changed" : "the same", changed ? "not reported" : "reported");
      differ += changed;
    }
  }
  g_assert_cmpuint(differ, ==, lines->len);
  /* The tick pages: reported, owned by the sleeping hwtest at their VA. */
  g_autofree char *pid = g_strdup_printf("%d", guest->sleep.pid);
  g_autofree char *va = g_strdup_printf("0x%" G_GINT64_MODIFIER "x", guest->tick_va);
  g_autoptr(HwRun) tr = hw_test_runv(guest, "--json", "translate", "--pid", pid, va, NULL);
  guint64 tick_pa = hw_json_hex(hw_run_object(tr), "pa");
  JsonObject *o = g_hash_table_lookup(reported, &tick_pa);
  if (o == NULL)
    g_error("the tick page 0x%" G_GINT64_MODIFIER "x is not in the diff", tick_pa);
  JsonArray *owners = json_object_get_array_member(o, "owners");
  gboolean named = FALSE;
  for (guint i = 0; i < json_array_get_length(owners); i++) {
    JsonObject *w = json_array_get_object_element(owners, i);
    named |= json_object_get_int_member(w, "pid") == guest->sleep.pid &&
             hw_json_hex(w, "va") == guest->tick_va &&
             g_str_has_prefix(json_object_get_string_member(w, "comm"), "hwtest");
  }
  g_assert_true(named);
  check_diff_text(a, b, lines->len, tick_pa);
  check_diff_picture(dir, a, b, lines, tick_pa);
  g_test_message("%u pages differ across %u ticks", differ, hw_test_guest_ticks(guest) - ticks);
  g_assert_true(hw_test_guest_running(guest));
  g_autofree char *rm = g_strdup_printf("rm -rf '%s'", dir);
  g_spawn_command_line_sync(rm, NULL, NULL, NULL, NULL);
}

/* A --live scan of a running guest is torn, lists the pages that changed under it, and
 * marks the hits on them: the tick pages, rewritten once a second, are caught changing
 * under some scan of all RAM (one thread: each spans a good part of a second). Physical
 * hits are at the tick pages' addresses (their text starts each page). */
static void
test_scan_live_torn(void)
{
  g_autofree char *pid = g_strdup_printf("%d", guest->sleep.pid);
  g_autoptr(GHashTable) tick_pas = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  for (guint k = 0; k < guest->tick_pages; k++) {
    g_autofree char *va = g_strdup_printf("0x%" G_GINT64_MODIFIER "x",
                                          guest->tick_va + k * guest->sleep.page_size);
    g_autoptr(HwRun) t = hw_test_runv(guest, "--json", "translate", va, "--pid", pid, NULL);
    g_hash_table_add(tick_pas, g_strdup_printf("0x%" G_GINT64_MODIFIER "x",
                                               hw_json_hex(hw_run_object(t), "pa")));
  }
  guint trials = 0;
  gboolean caught = FALSE;
  gint64 deadline = g_get_monotonic_time() + 120 * G_USEC_PER_SEC;
  for (; g_get_monotonic_time() < deadline && !caught; trials++) {
    g_autoptr(HwRun) r = hw_test_runv(guest, "--json", "scan", "--live", "--threads", "1",
                                      "--string", "HWTICK n=", NULL);
    g_autoptr(GPtrArray) lines = hw_run_json_lines(r);
    JsonObject *sum = json_node_get_object(lines->pdata[lines->len - 1]);
    g_assert_cmpstr(json_object_get_string_member(sum, "state"), ==, "live");
    g_assert_true(json_object_get_boolean_member(sum, "torn"));
    /* The kernel's own data (timers, counters) changes all the time. */
    g_assert_cmpint(json_object_get_int_member(sum, "changed_pages"), >, 0);
    JsonArray *changed = json_object_get_array_member(sum, "changed");
    g_autoptr(GHashTable) set = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < json_array_get_length(changed); i++)
      g_hash_table_add(set, (gpointer)json_array_get_string_element(changed, i));
    guint tick_hits = 0;
    for (guint i = 0; i + 1 < lines->len; i++) {
      JsonObject *h = json_node_get_object(lines->pdata[i]);
      g_assert_true(json_object_has_member(h, "torn"));
      const char *gpa = json_object_get_string_member(h, "gpa");
      if (!g_hash_table_contains(tick_pas, gpa))
        continue;
      tick_hits++;
      if (!json_object_get_boolean_member(h, "torn"))
        continue;
      /* Torn: its page is among the changed ones (the text starts a 4 KiB page). */
      g_assert_true(g_hash_table_contains(set, gpa) ||
                    json_object_get_int_member(sum, "changed_pages") > 4096);
      caught = TRUE;
    }
    g_assert_cmpuint(tick_hits, ==, guest->tick_pages);
  }
  g_test_message("a tick caught under a live scan in %u scans", trials);
  g_assert_true(caught);

  /* The same scan of a guest someone else paused: nothing moves, nothing is torn. */
  hw_test_observer_run(guest, "stop", NULL);
  g_autoptr(HwRun) still = hw_test_runv(guest, "--json", "scan", "--live", "--pid", pid,
                                        "--string", "HWTICK n=", NULL);
  hw_test_observer_run(guest, "cont", NULL);
  g_autoptr(GPtrArray) lines = hw_run_json_lines(still);
  JsonObject *sum = json_node_get_object(lines->pdata[lines->len - 1]);
  g_assert_false(json_object_get_boolean_member(sum, "torn"));
  g_assert_cmpint(json_object_get_int_member(sum, "changed_pages"), ==, 0);
  g_assert_cmpuint(lines->len, >=, guest->tick_pages + 1);   /* its stack holds one too */
  for (guint i = 0; i + 1 < lines->len; i++)
    g_assert_false(json_object_get_boolean_member(json_node_get_object(lines->pdata[i]), "torn"));
  g_assert_true(hw_test_guest_running(guest));
}

/* A guest without a display: `gpu` and `screen` say there is no DRM to see, in one line,
 * and leave the guest running. */
static void
test_gpu_without_drm(void)
{
  const char *cmds[][2] = { { "gpu", NULL }, { "screen", "--output=/dev/null" } };
  for (guint i = 0; i < G_N_ELEMENTS(cmds); i++) {
    g_autoptr(HwRun) r = hw_test_runv(guest, cmds[i][0], cmds[i][1], NULL);
    g_assert_cmpint(r->status, ==, 1);
    /* Which, depends on whether the kernel's own BTF has DRM's types. */
    gboolean said = g_str_has_prefix(r->err, "haywire: no DRM in this guest") ||
                    g_str_has_prefix(r->err, "haywire: no process of the guest has a DRM device "
                                             "open");
    if (!said || strchr(r->err, '\n') != r->err + strlen(r->err) - 1)
      g_error("%s: %s", cmds[i][0], r->err);
  }
  g_assert_true(hw_test_guest_running(guest));
}

void
hw_test_add_linux_tests(HwTestGuest *g)
{
  guest = g;
  g_autofree char *p = g_strdup_printf("/linux/%s/", g->config);
#define ADD(name, fn) hw_test_add(p, name, fn)
  ADD("kernel", test_kernel);
  ADD("ps", test_ps);
  ADD("maps", test_maps);
  ADD("read-pid", test_read_pid);
  ADD("scan-string", test_scan_string);
  ADD("owners", test_owners);
  ADD("snapshot-diff", test_snapshot_diff);
  ADD("scan-live-torn", test_scan_live_torn);
  ADD("gpu-without-drm", test_gpu_without_drm);
#undef ADD
}
