/* Real-guest harness: see guest-harness.h. Paths come from meson through the
 * environment: HW_SOURCE_ROOT (scripts/, qemu-configs/) and HW_HAYWIRE (the program). */
#include "guest-harness.h"

#include <glib/gstdio.h>

#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *
source_root(void)
{
  const char *s = g_getenv("HW_SOURCE_ROOT");
  g_assert_nonnull(s);
  return s;
}

static void
parse_proc_line(const char *line, HwTruthProc *p)
{
  g_auto(GStrv) kv = g_strsplit(line, " ", 0);
  for (guint i = 0; kv[i]; i++) {
    const char *eq = strchr(kv[i], '=');
    if (!eq)
      continue;
    g_autofree char *k = g_strndup(kv[i], (gsize)(eq - kv[i]));
    guint64 v = g_ascii_strtoull(eq + 1, NULL, g_str_has_prefix(eq + 1, "0x") ? 16 : 10);
    if (!strcmp(k, "pid")) p->pid = (int)v;
    else if (!strcmp(k, "va")) p->va = v;
    else if (!strcmp(k, "pa")) p->pa = v;
    else if (!strcmp(k, "grad_va")) p->grad_va = v;
    else if (!strcmp(k, "grad_pa")) p->grad_pa = v;
    else if (!strcmp(k, "grad_w")) p->grad_w = (guint)v;
    else if (!strcmp(k, "grad_h")) p->grad_h = (guint)v;
    else if (!strcmp(k, "page_size")) p->page_size = v;
  }
}

static HwTruthImage *
parse_image_line(const char *line)
{
  HwTruthImage *im = g_new0(HwTruthImage, 1);
  im->pas = g_array_new(FALSE, FALSE, sizeof(guint64));
  g_auto(GStrv) kv = g_strsplit(line, " ", 0);
  for (guint i = 0; kv[i]; i++) {
    const char *eq = strchr(kv[i], '=');
    if (!eq)
      continue;
    g_autofree char *k = g_strndup(kv[i], (gsize)(eq - kv[i]));
    if (!strcmp(k, "kind")) {
      im->kind = g_strdup(eq + 1);
    } else if (!strcmp(k, "pas")) {
      g_auto(GStrv) pas = g_strsplit(eq + 1, ",", 0);
      for (guint j = 0; pas[j]; j++) {
        guint64 pa = g_ascii_strtoull(pas[j], NULL, 16);
        g_array_append_val(im->pas, pa);
      }
    } else {
      guint64 v = g_ascii_strtoull(eq + 1, NULL, g_str_has_prefix(eq + 1, "0x") ? 16 : 10);
      if (!strcmp(k, "pid")) im->pid = (int)v;
      else if (!strcmp(k, "va")) im->va = v;
      else if (!strcmp(k, "size")) im->size = v;
    }
  }
  g_assert_nonnull(im->kind);
  return im;
}

const HwTruthImage *
hw_test_guest_image(HwTestGuest *g, int pid, const char *kind)
{
  for (guint i = 0; i < g->images->len; i++) {
    const HwTruthImage *im = g_ptr_array_index(g->images, i);
    if (im->pid == pid && strcmp(im->kind, kind) == 0)
      return im;
  }
  return NULL;
}

/* A test that fails aborts the program before hw_test_guest_stop (and a time-out
 * sends SIGTERM, maybe while the guest still boots): without this, its QEMU would keep
 * running, spinning a host core, and its memory file would stay in /dev/shm. The
 * handler reads boot-guest's qemu.pid and mem-path files and does only async-signal-
 * safe things, then dies as it would have. */
#define MAX_GUESTS 8   /* running at once in one test program (the fault tests: 2) */
static char crash_pid_file[MAX_GUESTS][4096], crash_mem_file[MAX_GUESTS][4096];
static volatile sig_atomic_t crash_armed[MAX_GUESTS];

/* The first line of PATH into BUF (NUL-terminated), or "". */
static void
read_line(const char *path, char *buf, gsize size)
{
  buf[0] = 0;
  int fd = open(path, O_RDONLY);
  if (fd < 0)
    return;
  ssize_t n = read(fd, buf, size - 1);
  close(fd);
  buf[n > 0 ? n : 0] = 0;
  for (ssize_t i = 0; i < n; i++)
    if (buf[i] == '\n')
      buf[i] = 0;
}

static void
on_fatal_signal(int sig)
{
  for (int k = 0; k < MAX_GUESTS; k++) {
    if (!crash_armed[k])
      continue;
    char line[4096];
    read_line(crash_pid_file[k], line, sizeof line);
    long pid = 0;
    for (const char *p = line; *p >= '0' && *p <= '9'; p++)
      pid = pid * 10 + (*p - '0');
    if (pid > 0)
      kill((pid_t)pid, SIGKILL);
    read_line(crash_mem_file[k], line, sizeof line);
    if (line[0] == '/')
      unlink(line);
  }
  signal(sig, SIG_DFL);
  raise(sig);
}

/* Watch RUN_DIR's QEMU; returns its slot for disarm_crash_cleanup. */
static int
arm_crash_cleanup(const char *run_dir)
{
  int k = 0;
  while (k < MAX_GUESTS && crash_armed[k])
    k++;
  g_assert_cmpint(k, <, MAX_GUESTS);
  g_snprintf(crash_pid_file[k], sizeof crash_pid_file[k], "%s/qemu.pid", run_dir);
  g_snprintf(crash_mem_file[k], sizeof crash_mem_file[k], "%s/mem-path", run_dir);
  crash_armed[k] = 1;
  /* SIGTRAP: g_error() ends a failing test with it. */
  const int sigs[] = { SIGABRT, SIGTERM, SIGINT, SIGHUP, SIGSEGV, SIGTRAP };
  for (gsize i = 0; i < G_N_ELEMENTS(sigs); i++)
    signal(sigs[i], on_fatal_signal);
  return k;
}

static void
parse_serial(HwTestGuest *g)
{
  g_autofree char *path = g_build_filename(g->run_dir, "serial.log", NULL);
  g_autoptr(GError) error = NULL;
  g_assert_true(g_file_get_contents(path, &g->serial, NULL, &error));
  g_auto(GStrv) lines = g_strsplit(g->serial, "\n", 0);
  for (guint i = 0; lines[i]; i++) {
    char *l = g_strstrip(lines[i]);
    if (g_str_has_prefix(l, "HWTRUTH ") && strstr(l, "mode=spin"))
      parse_proc_line(l, &g->spin);
    else if (g_str_has_prefix(l, "HWTRUTH ") && strstr(l, "mode=sleep"))
      parse_proc_line(l, &g->sleep);
    else if (g_str_has_prefix(l, "HWIMAGE pid="))
      g_ptr_array_add(g->images, parse_image_line(l));
    else if (g_str_has_prefix(l, "HWTICK-BUF pid=")) {
      const char *va = strstr(l, "va=0x"), *pages = strstr(l, "pages=");
      g_assert_nonnull(va);
      g_assert_nonnull(pages);
      g->tick_va = g_ascii_strtoull(va + 5, NULL, 16);
      g->tick_pages = (guint)g_ascii_strtoull(pages + 6, NULL, 10);
    }
    else if (g_str_has_prefix(l, "HWGUEST-VERSION "))
      g->version = g_strdup(l + 16);
    else if (g_str_has_prefix(l, "HWPS pid=")) {
      HwTruthTask *t = g_new0(HwTruthTask, 1);
      const char *comm = strstr(l, " comm=");
      g_assert_nonnull(comm);
      t->comm = g_strdup(comm + 6);
      int kthread = 0;
      g_assert_cmpint(sscanf(l, "HWPS pid=%d ppid=%d state=%c kthread=%d", &t->pid, &t->ppid,
                             &t->state, &kthread), ==, 4);
      t->kthread = kthread;
      g_ptr_array_add(g->ps, t);
    } else if (g_str_has_prefix(l, "HWMAP pid=")) {
      /* "HWMAP pid=87 00400000-00401000 r--p 00000000 00:02 8    /hwtest" */
      g_auto(GStrv) f = g_strsplit_set(l + 10, " ", 0);
      g_autoptr(GPtrArray) words = g_ptr_array_new();
      for (guint k = 0; f[k]; k++)
        if (f[k][0])
          g_ptr_array_add(words, f[k]);
      g_assert_cmpuint(words->len, >=, 6);
      /* Keep pid, range, perms, offset and path (dev and inode are not compared). */
      g_ptr_array_add(g->maps, g_strstrip(g_strdup_printf("%s %s %s %s %s",
                                               (char *)words->pdata[0], (char *)words->pdata[1],
                                               (char *)words->pdata[2], (char *)words->pdata[3],
                                               words->len > 6 ? (char *)words->pdata[6] : "")));
    } else if (g_str_has_prefix(l, "HWGUEST-KSYM ")) {
      g_auto(GStrv) kv = g_strsplit(l + 13, " ", 0);
      for (guint k = 0; kv[k]; k++) {
        const char *eq = strchr(kv[k], '=');
        if (!eq || !g_str_has_prefix(eq + 1, "0x"))
          continue;
        guint64 *v = g_new(guint64, 1);
        *v = g_ascii_strtoull(eq + 3, NULL, 16);
        g_hash_table_insert(g->ksyms, g_strndup(kv[k], (gsize)(eq - kv[k])), v);
      }
    }
  }
  g_assert_cmpint(g->spin.pid, >, 0);
  g_assert_cmpint(g->sleep.pid, >, 0);
  g_assert_cmpuint(g->sleep.page_size, >=, 4096);
  g_assert_cmphex(g->spin.pa, !=, 0);
  g_assert_cmpuint(g->ps->len, >=, 3);
  g_assert_cmpuint(g->maps->len, >=, 8);
  g_assert_nonnull(g->version);
}

/* An empty guest record for CONFIG in RUN_DIR (NULL: a new one named after TEMPLATE),
 * its clean-up armed. */
static HwTestGuest *
guest_new(const char *config, const char *run_dir, const char *template)
{
  HwTestGuest *g = g_new0(HwTestGuest, 1);
  g_autoptr(GError) error = NULL;
  g->config = g_strdup(config);
  g->ksyms = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  g->ps = g_ptr_array_new();
  g->maps = g_ptr_array_new_with_free_func(g_free);
  g->images = g_ptr_array_new();
  g->run_dir = run_dir ? g_strdup(run_dir) : g_dir_make_tmp(template, &error);
  g_assert_no_error(error);
  g->crash_slot = arm_crash_cleanup(g->run_dir);
  return g;
}

static HwTestGuest *
boot(const char *config, gboolean stopped, const char *run_dir)
{
  HwTestGuest *g = guest_new(config, run_dir, "hw-guest-XXXXXX");
  g_autoptr(GError) error = NULL;

  g_autofree char *script = g_build_filename(source_root(), "scripts", "boot-guest", NULL);
  const char *flavour = g_getenv("HW_GUEST_FLAVOUR");
  const char *argv[] = { script, config, g->run_dir, flavour ? "--flavour" : NULL, flavour,
                         NULL };
  g_autofree char *out = NULL, *err = NULL;
  int status = 0;
  g_autoptr(GStrvBuilder) envb = g_strv_builder_new();
  g_auto(GStrv) env0 = g_get_environ();
  g_strv_builder_addv(envb, (const char **)env0);
  if (stopped)
    g_strv_builder_add(envb, "HAYWIRE_BOOT_STOPPED=1");
  g_auto(GStrv) env = g_strv_builder_end(envb);
  gint64 t0 = g_get_monotonic_time();
  g_assert_true(g_spawn_sync(NULL, (char **)argv, env, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                             &status, &error));
  g_assert_no_error(error);
  if (!g_spawn_check_wait_status(status, NULL))
    g_error("boot-guest %s failed:\n%s", config, err);
  g_test_message("booted %s in %.1f s", config, (g_get_monotonic_time() - t0) / 1e6);

  g_auto(GStrv) lines = g_strsplit(out, "\n", 0);
  for (guint i = 0; lines[i]; i++) {
    if (g_str_has_prefix(lines[i], "HAYWIRE_QMP="))
      g->qmp = g_strdup(lines[i] + 12);
    else if (g_str_has_prefix(lines[i], "HAYWIRE_GDB="))
      g->gdb = g_strdup(lines[i] + 12);
    else if (g_str_has_prefix(lines[i], "HAYWIRE_MEM="))
      g->mem = g_strdup(lines[i] + 12);
    else if (g_str_has_prefix(lines[i], "HAYWIRE_QEMU_PID="))
      g->qemu_pid = (int)g_ascii_strtoll(lines[i] + 17, NULL, 10);
  }
  g_assert_nonnull(g->qmp);
  g_assert_nonnull(g->mem);
  g_assert_cmpint(g->qemu_pid, >, 0);
  if (!stopped)
    parse_serial(g);
  return g;
}

HwTestGuest *
hw_test_guest_libvirt(const char *config, const char *variant)
{
  HwTestGuest *g = guest_new(config, NULL, "hw-libvirt-XXXXXX");
  g_autoptr(GError) error = NULL;
  g->domain = g_strdup_printf("haywire-test-%d", (int)getpid());
  g_autofree char *script = g_build_filename(source_root(), "tests", "guest", "libvirt-guest.sh",
                                             NULL);
  g_autofree char *assets = g_build_filename(source_root(), "guest-assets", NULL);
  const char *argv[] = { script, "start", g->run_dir, g->domain, variant, assets, NULL };
  g_autofree char *out = NULL, *err = NULL;
  int status = 0;
  gint64 t0 = g_get_monotonic_time();
  g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                             &status, &error));
  g_assert_no_error(error);
  if (!g_spawn_check_wait_status(status, NULL))
    g_error("libvirt-guest.sh start %s failed:\n%s%s", variant, out, err);
  g_test_message("booted libvirt domain %s (%s RAM) in %.1f s", g->domain, variant,
                 (g_get_monotonic_time() - t0) / 1e6);
  g_auto(GStrv) lines = g_strsplit(out, "\n", 0);
  for (guint i = 0; lines[i]; i++)
    if (g_str_has_prefix(lines[i], "HAYWIRE_QEMU_PID="))
      g->qemu_pid = (int)g_ascii_strtoll(lines[i] + 17, NULL, 10);
  g_assert_cmpint(g->qemu_pid, >, 0);
  g->qmp = g_build_filename(g->run_dir, "qmp-observer.sock", NULL);   /* for messages only */
  parse_serial(g);
  return g;
}

HwTestGuest *
hw_test_guest_boot(const char *config)
{
  return boot(config, FALSE, NULL);
}

HwTestGuest *
hw_test_guest_boot_in(const char *config, const char *run_dir)
{
  return boot(config, FALSE, run_dir);
}

HwTestGuest *
hw_test_guest_start_stopped(const char *config)
{
  return boot(config, TRUE, NULL);
}

void
hw_test_guest_stop(HwTestGuest *g)
{
  if (g == NULL)
    return;
  crash_armed[g->crash_slot] = 0;   /* stop-guest does it properly from here */
  if (g->domain) {
    g_autofree char *lv = g_build_filename(source_root(), "tests", "guest", "libvirt-guest.sh",
                                           NULL);
    const char *lv_argv[] = { lv, "stop", g->run_dir, g->domain, NULL };
    g_spawn_sync(NULL, (char **)lv_argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                 NULL, NULL, NULL);
  }
  g_autofree char *script = g_build_filename(source_root(), "scripts", "stop-guest", NULL);
  const char *argv[] = { script, g->run_dir, NULL };
  g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
               NULL, NULL, NULL, NULL, NULL, NULL);
  g_autofree char *rm = g_strdup_printf("rm -rf '%s'", g->run_dir);
  g_spawn_command_line_sync(rm, NULL, NULL, NULL, NULL);
  g_hash_table_unref(g->ksyms);
  for (guint i = 0; i < g->ps->len; i++) {
    HwTruthTask *t = g->ps->pdata[i];
    g_free(t->comm);
    g_free(t);
  }
  g_ptr_array_unref(g->ps);
  g_ptr_array_unref(g->maps);
  for (guint i = 0; i < g->images->len; i++) {
    HwTruthImage *im = g_ptr_array_index(g->images, i);
    g_array_unref(im->pas);
    g_free(im->kind);
    g_free(im);
  }
  g_ptr_array_unref(g->images);
  g_free(g->version);
  g_free(g->config);
  g_free(g->run_dir);
  g_free(g->qmp);
  g_free(g->gdb);
  g_free(g->mem);
  g_free(g->domain);
  g_free(g->serial);
  g_free(g);
}

guint
hw_test_guest_ticks(HwTestGuest *g)
{
  g_autofree char *path = g_build_filename(g->run_dir, "serial.log", NULL);
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
  guint n = 0;
  for (const char *p = text; (p = strstr(p, "HWTICK n=")) != NULL; p++)
    n++;
  return n;
}

guint64
hw_test_guest_ksym(HwTestGuest *g, const char *name)
{
  guint64 *v = g_hash_table_lookup(g->ksyms, name);
  return v ? *v : 0;
}

void
hw_run_free(HwRun *r)
{
  if (r == NULL)
    return;
  g_free(r->out);
  g_free(r->err);
  if (r->json)
    json_node_unref(r->json);
  g_free(r);
}

HwRun *
hw_test_run(HwTestGuest *g, const char *const *args)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new();
  const char *exe = g_getenv("HW_HAYWIRE");
  g_assert_nonnull(exe);
  g_ptr_array_add(argv, (gpointer)exe);
  if (g && g->domain) {
    g_ptr_array_add(argv, (gpointer)"--domain");
    g_ptr_array_add(argv, g->domain);
    g_ptr_array_add(argv, (gpointer)"--connect");
    g_ptr_array_add(argv, (gpointer)"qemu:///system");
  } else if (g) {
    g_ptr_array_add(argv, (gpointer)"--qmp");
    g_ptr_array_add(argv, g->qmp);
    /* AArch64 registers need the stub; a later --gdb in ARGS overrides it. */
    g_ptr_array_add(argv, (gpointer)"--gdb");
    g_ptr_array_add(argv, g->gdb);
  }
  for (guint i = 0; args[i]; i++)
    g_ptr_array_add(argv, (gpointer)args[i]);
  g_ptr_array_add(argv, NULL);

  HwRun *r = g_new0(HwRun, 1);
  int wait_status = 0;
  g_autoptr(GError) error = NULL;
  /* Keep the caller's environment but never inherit a stray HAYWIRE_MEM. */
  g_auto(GStrv) env = g_environ_unsetenv(g_get_environ(), "HAYWIRE_MEM");
  gint64 t0 = g_get_monotonic_time();
  g_assert_true(g_spawn_sync(NULL, (char **)argv->pdata, env, G_SPAWN_DEFAULT, NULL, NULL,
                             &r->out, &r->err, &wait_status, &error));
  g_assert_no_error(error);
  if (WIFEXITED(wait_status))
    r->status = WEXITSTATUS(wait_status);
  else
    r->status = 128 + WTERMSIG(wait_status);
  g_autoptr(JsonParser) p = json_parser_new();
  if (r->out[0] == '{' && json_parser_load_from_data(p, r->out, -1, NULL))
    r->json = json_node_copy(json_parser_get_root(p));
  g_autofree char *cmdline = g_strjoinv(" ", (char **)argv->pdata);
  g_test_message("$ %s -> %d (%.0f ms)\n%s%s", cmdline, r->status,
                 (g_get_monotonic_time() - t0) / 1000.0, r->err,
                 strlen(r->out) < 2000 ? r->out : "(long output)\n");
  return r;
}

HwRun *
hw_test_runv(HwTestGuest *g, const char *first, ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new();
  va_list ap;
  va_start(ap, first);
  for (const char *a = first; a; a = va_arg(ap, const char *))
    g_ptr_array_add(args, (gpointer)a);
  va_end(ap);
  g_ptr_array_add(args, NULL);
  return hw_test_run(g, (const char *const *)args->pdata);
}

JsonObject *
hw_run_object(HwRun *r)
{
  if (r->status != 0)
    g_error("haywire failed (%d): %s", r->status, r->err);
  g_assert_nonnull(r->json);
  g_assert_true(JSON_NODE_HOLDS_OBJECT(r->json));
  return json_node_get_object(r->json);
}

guint64
hw_json_hex(JsonObject *o, const char *member)
{
  const char *s = json_object_get_string_member_with_default(o, member, NULL);
  g_assert_nonnull(s);
  g_assert_true(g_str_has_prefix(s, "0x"));
  return g_ascii_strtoull(s + 2, NULL, 16);
}

HwQmp *
hw_test_qmp(HwTestGuest *g)
{
  g_autoptr(GError) error = NULL;
  /* QEMU serves one client per QMP socket: observe through the second one. */
  g_autofree char *observer = g_build_filename(g->run_dir, "qmp-observer.sock", NULL);
  HwQmp *q = hw_qmp_connect(observer, 10000, &error);
  g_assert_no_error(error);
  return q;
}

void
hw_test_observer_run(HwTestGuest *g, const char *command, const char *args_json)
{
  g_autoptr(HwQmp) q = hw_test_qmp(g);
  hw_qmp_set_timeout(q, 120000);   /* dump-guest-memory of a 4 GiB guest takes seconds */
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) args = args_json ? json_from_string(args_json, &error) : NULL;
  g_assert_no_error(error);
  g_autoptr(JsonNode) r = hw_qmp_execute(q, command, args ? json_node_get_object(args) : NULL,
                                         &error);
  g_assert_no_error(error);
}

guint8 *
hw_test_screendump(HwTestGuest *g, guint *w, guint *h)
{
  g_autofree char *dir = g_dir_make_tmp("hw-gpu-XXXXXX", NULL);
  g_autofree char *path = g_build_filename(dir, "screen.ppm", NULL);
  g_autofree char *args = g_strdup_printf("{\"filename\": \"%s\"}", path);
  hw_test_observer_run(g, "screendump", args);
  gsize len = 0;
  g_autofree char *ppm = NULL;
  g_assert_true(g_file_get_contents(path, &ppm, &len, NULL));
  g_unlink(path);
  g_rmdir(dir);
  guint maxval = 0;
  int header = 0;
  g_assert_cmpint(sscanf(ppm, "P6 %u %u %u%n", w, h, &maxval, &header), ==, 3);
  g_assert_cmpuint(maxval, ==, 255);
  header++;   /* the one whitespace byte after maxval */
  g_assert_cmpuint(len, ==, (gsize)header + (gsize)*w * *h * 3);
  return g_memdup2(ppm + header, (gsize)*w * *h * 3);
}

gboolean
hw_test_guest_running(HwTestGuest *g)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HwQmp) q = hw_test_qmp(g);
  g_autoptr(JsonObject) st = hw_qmp_execute_object(q, "query-status", NULL, &error);
  g_assert_no_error(error);
  return json_object_get_boolean_member(st, "running");
}

GPtrArray *
hw_run_json_lines(HwRun *r)
{
  g_assert_cmpint(r->status, ==, 0);
  GPtrArray *objs = g_ptr_array_new_with_free_func((GDestroyNotify)json_node_unref);
  g_auto(GStrv) lines = g_strsplit(r->out, "\n", 0);
  for (guint i = 0; lines[i]; i++) {
    if (!lines[i][0])
      continue;
    g_autoptr(JsonParser) p = json_parser_new();
    g_assert_true(json_parser_load_from_data(p, lines[i], -1, NULL));
    g_ptr_array_add(objs, json_node_copy(json_parser_get_root(p)));
  }
  g_assert_cmpuint(objs->len, >=, 1);
  return objs;
}

void
hw_test_expected_gradient(guint8 *out, guint w, guint h)
{
  for (guint y = 0; y < h; y++)
    for (guint x = 0; x < w; x++) {
      guint8 *p = out + (y * w + x) * 4;
      p[0] = (guint8)(x * 4);
      p[1] = (guint8)(y * 4);
      p[2] = (guint8)((x + y) * 2);
      p[3] = 255;
    }
}

void
hw_test_add(const char *prefix, const char *name, GTestFunc fn)
{
  g_autofree char *path = g_strconcat(prefix, name, NULL);
  /* HW_TEST_ONLY: space-separated path prefixes; the others are not registered at all,
   * so the TAP plan counts only what runs (GLib's -p prints a plan per path). */
  const char *only = g_getenv("HW_TEST_ONLY");
  if (only != NULL && *only != '\0') {
    g_auto(GStrv) picks = g_strsplit(only, " ", 0);
    gboolean wanted = FALSE;
    for (guint i = 0; picks[i] && !wanted; i++)
      wanted = picks[i][0] != '\0' && g_str_has_prefix(path, picks[i]);
    if (!wanted)
      return;
  }
  g_test_add_func(path, fn);
}
