/* Recordings read with no QEMU: a `snapshot save --data` file and QEMU's own
 * dump-guest-memory file, both taken at one paused moment of the booted guest, must
 * give the same answers as the paused guest itself (ps, maps, translate of a kernel and
 * a process address, owners, read --pid, scan), and bad recordings must be refused
 * clearly. */
#include "guest-harness.h"

#include <glib/gstdio.h>
#include <string.h>

static HwTestGuest *guest;

/* What a recording's answers may differ in from the live guest's: the moment's name and
 * the timing. */
static const char *const moment_members[] = {
  "epoch", "run_state", "state", "stop_event", "resume_event", "paused_ms", "ms",
};

static char *
normalized(JsonNode *node)
{
  g_autoptr(JsonNode) copy = json_node_copy(node);
  if (JSON_NODE_HOLDS_OBJECT(copy))
    for (guint i = 0; i < G_N_ELEMENTS(moment_members); i++)
      json_object_remove_member(json_node_get_object(copy), moment_members[i]);
  return json_to_string(copy, FALSE);
}

/* Every JSON line of RUN (succeeded), normalized, joined. */
static char *
answer(HwRun *r)
{
  if (r->status != 0)
    g_error("haywire failed (%d): %s", r->status, r->err);
  g_autoptr(GPtrArray) lines = hw_run_json_lines(r);
  GString *s = g_string_new(NULL);
  for (guint i = 0; i < lines->len; i++) {
    g_autofree char *t = normalized(lines->pdata[i]);
    g_string_append_printf(s, "%s\n", t);
  }
  return g_string_free(s, FALSE);
}

typedef struct {
  const char *name;
  const char *args[10];
} Query;

/* The questions, with PID, VA and PA filled in. */
static GPtrArray *
questions(const char *pid, const char *va, const char *pa, const char *kva, const char *out)
{
  GPtrArray *q = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
#define Q(...) g_ptr_array_add(q, g_strdupv((char *[]){ __VA_ARGS__, NULL }))
  Q("--json", "ps");
  Q("--json", "translate", (char *)kva);   /* vCPU 0's view of the kernel's text */
  Q("--json", "maps", (char *)pid);
  Q("--json", "translate", (char *)va, "--pid", (char *)pid);
  Q("--json", "owners", (char *)pa);
  Q("--json", "scan", "--pid", (char *)pid);
  Q("--json", "scan", "--string", HW_TEST_MARKER);
  Q("read", (char *)va, "20K", "--pid", (char *)pid, "-o", (char *)out);
#undef Q
  return q;
}

static HwRun *
ask(HwTestGuest *g, const char *opt, const char *file, char **q)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new();
  if (opt) {
    g_ptr_array_add(args, (char *)opt);
    g_ptr_array_add(args, (char *)file);
  }
  for (guint i = 0; q[i]; i++)
    g_ptr_array_add(args, q[i]);
  g_ptr_array_add(args, NULL);
  return hw_test_run(g, (const char *const *)args->pdata);
}

static char *
file_sha256(const char *path)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(path, &data, &len, NULL));
  return g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guint8 *)data, len);
}

static void
test_recordings(void)
{
  /* In memory: QEMU writes the dump at memory speed (4 GiB for the 4 GiB guest). */
  g_autofree char *dir = g_strdup("/dev/shm/hw-offline-XXXXXX");
  g_assert_nonnull(g_mkdtemp(dir));
  g_autofree char *snap = g_build_filename(dir, "moment.snap", NULL);
  g_autofree char *dump = g_build_filename(dir, "moment.elf", NULL);
  g_autofree char *out = g_build_filename(dir, "read.bin", NULL);
  g_autofree char *pid = g_strdup_printf("%d", guest->sleep.pid);
  g_autofree char *va = g_strdup_printf("0x%" G_GINT64_MODIFIER "x", guest->sleep.va);
  g_autofree char *pa = g_strdup_printf("0x%" G_GINT64_MODIFIER "x", guest->sleep.pa);
  guint64 text = hw_test_guest_ksym(guest, "_text") ? hw_test_guest_ksym(guest, "_text")
                                                   : hw_test_guest_ksym(guest, "_stext");
  g_assert_cmphex(text, !=, 0);
  g_autofree char *kva = g_strdup_printf("0x%" G_GINT64_MODIFIER "x", text);
  g_autoptr(GPtrArray) qs = questions(pid, va, pa, kva, out);

  /* One paused moment: the live answers, a --data snapshot and QEMU's dump of it. */
  hw_test_observer_run(guest, "stop", NULL);
  g_autoptr(GPtrArray) live = g_ptr_array_new_with_free_func(g_free);
  g_autofree char *live_read = NULL;
  for (guint i = 0; i < qs->len; i++) {
    g_autoptr(HwRun) r = ask(guest, NULL, NULL, qs->pdata[i]);
    g_ptr_array_add(live, i + 1 < qs->len ? answer(r) : NULL);
    g_assert_cmpint(r->status, ==, 0);
  }
  live_read = file_sha256(out);
  g_autoptr(HwRun) save = hw_test_runv(guest, "snapshot", "save", snap, "--data", NULL);
  g_assert_cmpint(save->status, ==, 0);
  g_assert_nonnull(strstr(save->err, "with their data"));
  g_autofree char *dump_args = g_strdup_printf("{\"paging\": false, \"protocol\": \"file:%s\"}",
                                               dump);
  hw_test_observer_run(guest, "dump-guest-memory", dump_args);
  hw_test_observer_run(guest, "cont", NULL);

  /* The guest runs on; the recordings still say what it was. */
  static const char *const kinds[] = { "--snapshot", "--dump" };
  for (guint k = 0; k < G_N_ELEMENTS(kinds); k++) {
    const char *file = k == 0 ? snap : dump;
    for (guint i = 0; i < qs->len; i++) {
      g_autoptr(HwRun) r = ask(NULL, kinds[k], file, qs->pdata[i]);
      if (i + 1 == qs->len) {
        g_assert_cmpint(r->status, ==, 0);
        g_autofree char *got = file_sha256(out);
        g_assert_cmpstr(got, ==, live_read);
        continue;
      }
      g_autofree char *got = answer(r);
      if (g_strcmp0(got, live->pdata[i]) != 0)
        g_error("%s %s: %s\ndiffers from the live guest's\n%s", kinds[k],
                ((char **)qs->pdata[i])[1], got, (char *)live->pdata[i]);
    }
    g_autoptr(HwRun) info = hw_test_runv(NULL, "--json", kinds[k], file, "info", NULL);
    JsonObject *o = hw_run_object(info);
    g_assert_cmpstr(json_object_get_string_member(o, "status"), ==, "recorded");
    g_assert_false(json_object_get_boolean_member(o, "running"));
    g_autoptr(HwRun) pause = hw_test_runv(NULL, kinds[k], file, "pause", NULL);
    g_assert_cmpint(pause->status, ==, 2);
  }
  g_test_message("live, snapshot and dump agree on %u questions", qs->len);

  /* The dump made into a snapshot: the same pages as the live snapshot where the RAM
   * maps agree (AArch64), else refused as another RAM map (x86-64: QEMU also dumps the
   * BIOS ROM). */
  g_autofree char *conv = g_build_filename(dir, "from-dump.snap", NULL);
  g_autoptr(HwRun) cs = hw_test_runv(NULL, "--dump", dump, "snapshot", "save", conv, NULL);
  g_assert_cmpint(cs->status, ==, 0);
  g_autoptr(HwRun) li = hw_test_runv(NULL, "--json", "--snapshot", snap, "info", NULL);
  g_autoptr(HwRun) di = hw_test_runv(NULL, "--json", "--dump", dump, "info", NULL);
  gboolean same_map = json_array_get_length(json_object_get_array_member(hw_run_object(li), "ram")) ==
                      json_array_get_length(json_object_get_array_member(hw_run_object(di), "ram"));
  g_autoptr(HwRun) cd = hw_test_runv(NULL, "snapshot", "diff", snap, conv, NULL);
  if (same_map) {
    g_assert_cmpint(cd->status, ==, 0);
    g_assert_nonnull(strstr(cd->err, "0 pages differ"));
  } else {
    g_assert_cmpint(cd->status, ==, 1);
    g_assert_nonnull(strstr(cd->err, "different RAM maps"));
    g_assert_cmpstr(cd->out, ==, "");
  }

  /* Bad recordings: one clear line, exit 1, nothing else. */
  g_autofree char *cut = g_build_filename(dir, "cut.snap", NULL);
  g_autofree char *data = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(snap, &data, &len, NULL));
  g_assert_true(g_file_set_contents(cut, data, (gssize)(len / 2), NULL));
  struct {
    const char *opt, *file, *why;
  } bad[] = {
    { "--snapshot", cut, "damaged or truncated" },
    { "--dump", cut, "not a QEMU dump-guest-memory file" },
    { "--snapshot", dump, "not a usable snapshot" },
    { "--dump", "/proc/self/exe", "not a QEMU dump-guest-memory file" },
    { "--dump", "/nonexistent.elf", "cannot open /nonexistent.elf: No such file" },
  };
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(HwRun) r = hw_test_runv(NULL, bad[i].opt, bad[i].file, "ps", NULL);
    g_assert_cmpint(r->status, ==, 1);
    if (strstr(r->err, bad[i].why) == NULL || strchr(r->err, '\n') != r->err + strlen(r->err) - 1)
      g_error("%s %s: %s", bad[i].opt, bad[i].file, r->err);
    g_assert_cmpstr(r->out, ==, "");
  }
  /* A hashes-only snapshot cannot be read as RAM. */
  g_autofree char *plain = g_build_filename(dir, "plain.snap", NULL);
  g_autoptr(HwRun) ps = hw_test_runv(guest, "snapshot", "save", plain, NULL);
  g_assert_cmpint(ps->status, ==, 0);
  g_autoptr(HwRun) pr = hw_test_runv(NULL, "--snapshot", plain, "ps", NULL);
  g_assert_cmpint(pr->status, ==, 1);
  g_assert_nonnull(strstr(pr->err, "--data"));
  g_assert_true(hw_test_guest_running(guest));

  const char *const files[] = { snap, dump, out, cut, plain, conv };
  for (guint i = 0; i < G_N_ELEMENTS(files); i++)
    g_unlink(files[i]);
  g_rmdir(dir);
}

void
hw_test_add_offline_tests(HwTestGuest *g)
{
  guest = g;
  g_autofree char *p = g_strdup_printf("/offline/%s/", g->config);
  hw_test_add(p, "recordings", test_recordings);
}
