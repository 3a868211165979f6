/* How haywire reaches guest RAM on each launch configuration: a shared memory file by
 * its path, a memfd through QEMU's fd, plain RAM copied out of QEMU's process, several
 * NUMA backends at once, each the way it allows; `info` says which and works even with
 * no access to RAM at all; what access is missing is said in words. The ground-truth
 * checks (translate, read, ps, maps, scan) run on the same guests from the other test
 * files, chosen per config in meson.build. */
#include "guest-harness.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static HwTestGuest *guest;
static const char *config;

/* The backends each configuration has, the machine's own first. */
typedef struct {
  const char *id, *type, *access;
  gboolean is_mem_file;   /* its path is the harness's memory file */
} Backend;

static const struct {
  const char *config;
  Backend backends[4];
  guint64 ram_mib;
} expected[] = {
  { "x86-64-q35", { { "ram0", "memory-backend-file", "mmap", TRUE } }, 512 },
  { "x86-64-q35-memfd", { { "ram0", "memory-backend-memfd", "mmap", FALSE } }, 512 },
  { "x86-64-q35-ram", { { "pc.ram", "memory-backend-ram", "copy", FALSE } }, 512 },
  { "x86-64-pc-share-off", { { "ram0", "memory-backend-file", "copy", FALSE } }, 256 },
  { "libvirt-plain", { { "pc.ram", "memory-backend-ram", "copy", FALSE } }, 512 },
  { "libvirt-memfd", { { "pc.ram", "memory-backend-memfd", "mmap", FALSE } }, 512 },
  { "x86-64-q35-numa", { { "node0", "memory-backend-file", "mmap", TRUE },
                         { "node1", "memory-backend-ram", "copy", FALSE },
                         { "dimm0", "memory-backend-memfd", "mmap", FALSE } }, 640 },
};

static gint
find_expected(void)
{
  for (guint i = 0; i < G_N_ELEMENTS(expected); i++)
    if (strcmp(expected[i].config, config) == 0)
      return (gint)i;
  return -1;
}

static gboolean
has_backend(JsonArray *list, const Backend *want, JsonObject **out)
{
  for (guint i = 0; i < json_array_get_length(list); i++) {
    JsonObject *b = json_array_get_object_element(list, i);
    if (strcmp(json_object_get_string_member(b, "id"), want->id) == 0) {
      *out = b;
      return TRUE;
    }
  }
  return FALSE;
}

/* Each backend, its type, how it is read and from where; the RAM total; the text says
 * whether reads copy. */
static void
test_info(void)
{
  gint k = find_expected();
  g_assert_cmpint(k, >=, 0);
  g_autoptr(HwRun) r = hw_test_runv(guest, "--json", "info", NULL);
  JsonObject *o = hw_run_object(r);
  g_assert_true(json_object_get_null_member(o, "ram_error"));
  JsonArray *list = json_object_get_array_member(o, "backends");
  guint n = 0;
  gboolean copies = FALSE;
  for (const Backend *want = expected[k].backends; want->id; want++, n++) {
    JsonObject *b = NULL;
    if (!has_backend(list, want, &b))
      g_error("backend %s missing from info", want->id);
    g_assert_cmpstr(json_object_get_string_member(b, "type"), ==, want->type);
    g_assert_cmpstr(json_object_get_string_member(b, "access"), ==, want->access);
    const char *path = json_object_get_string_member(b, "path");
    g_autofree char *proc = g_strdup_printf("/proc/%d/", guest->qemu_pid);
    if (want->is_mem_file)
      g_assert_cmpstr(path, ==, guest->mem);
    else if (strcmp(want->access, "copy") == 0)
      g_assert_true(g_str_has_prefix(path, proc) && strcmp(path + strlen(proc), "mem") == 0);
    else
      g_assert_true(g_str_has_prefix(path, proc) && strstr(path, "/fd/"));
    copies |= strcmp(want->access, "copy") == 0;
  }
  g_assert_cmpuint(json_array_get_length(list), ==, n);
  g_assert_cmpstr(json_object_get_string_member(
                      json_array_get_object_element(list, 0), "id"), ==,
                  expected[k].backends[0].id);
  g_assert_cmpint(json_object_get_boolean_member(o, "copies"), ==, copies);
  /* All of it, but for the legacy hole the pc machine keeps below 1 MiB. */
  guint64 total = hw_json_hex(o, "ram_size");
  g_assert_cmphex(total, <=, expected[k].ram_mib << 20);
  g_assert_cmphex(total, >, (expected[k].ram_mib << 20) - (1u << 20));
  /* Every range names its source. */
  JsonArray *ram = json_object_get_array_member(o, "ram");
  for (guint i = 0; i < json_array_get_length(ram); i++)
    g_assert_nonnull(json_object_get_string_member(json_array_get_object_element(ram, i),
                                                   "source"));
  g_autoptr(HwRun) text = hw_test_runv(guest, "info", NULL);
  g_assert_cmpint(text->status, ==, 0);
  g_assert_nonnull(strstr(text->out, copies ? "access:      copies" : "access:      zero-copy"));
}

/* A scan of all RAM through the access mode in use finds the test marker at the
 * physical address the guest says it is at. */
static void
test_scan_truth(void)
{
  g_autoptr(HwRun) p = hw_test_runv(guest, "--json", "scan", "--phys", "--string",
                                    HW_TEST_MARKER, NULL);
  g_assert_cmpint(p->status, ==, 0);
  gboolean at_truth = FALSE;
  g_autoptr(GPtrArray) lines = hw_run_json_lines(p);
  for (guint i = 0; i < lines->len; i++) {
    JsonObject *h = json_node_get_object(lines->pdata[i]);
    if (json_object_has_member(h, "gpa") && hw_json_hex(h, "gpa") == guest->sleep.pa)
      at_truth = TRUE;
  }
  g_assert_true(at_truth);
}

/* Who may not read QEMU's memory still gets `info`, with the missing access named;
 * reading commands fail with that message, exit 1. Needs root: it drops to nobody. */
static void
test_permissions(void)
{
  if (getuid() != 0)
    g_error("this test drops to another user to lose access to QEMU: run it as root");
  /* Let nobody reach the QMP socket (not QEMU's memory). */
  g_assert_cmpint(chmod(guest->run_dir, 0755), ==, 0);
  g_assert_cmpint(chmod(guest->qmp, 0777), ==, 0);
  const char *exe = g_getenv("HW_HAYWIRE");
  const char *info[] = { "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", exe,
                         "--json", "--qmp", guest->qmp, "info", NULL };
  g_autofree char *out = NULL, *err = NULL;
  int status = -1;
  g_autoptr(GError) error = NULL;
  g_assert_true(g_spawn_sync(NULL, (char **)info, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
                             &err, &status, &error));
  g_assert_no_error(error);
  g_test_message("info as nobody: %s%s", out, err);
  g_assert_true(g_spawn_check_wait_status(status, NULL));
  g_autoptr(JsonNode) node = json_from_string(out, &error);
  g_assert_no_error(error);
  JsonObject *o = json_node_get_object(node);
  const char *state = json_object_get_string_member(o, "status");
  g_assert_true(strcmp(state, "running") == 0 || strcmp(state, "prelaunch") == 0);
  const char *why = json_object_get_string_member(o, "ram_error");
  g_assert_nonnull(why);
  g_assert_nonnull(strstr(why, "Permission denied"));
  g_assert_nonnull(strstr(why, "uid 0"));   /* whose QEMU it is */

  const char *read[] = { "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", exe,
                         "--qmp", guest->qmp, "read", "--phys", "0", "16", NULL };
  g_autofree char *rout = NULL, *rerr = NULL;
  g_assert_true(g_spawn_sync(NULL, (char **)read, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &rout,
                             &rerr, &status, &error));
  g_test_message("read as nobody: %s", rerr);
  g_assert_true(WIFEXITED(status));
  g_assert_cmpint(WEXITSTATUS(status), ==, 1);
  g_assert_nonnull(strstr(rerr, "Permission denied"));
  g_assert_cmpint(chmod(guest->run_dir, 0700), ==, 0);
}

/* A --qemu-pid that is not the socket's peer: refused in words, exit 1. */
static void
test_wrong_pid(void)
{
  g_autoptr(HwRun) r = hw_test_runv(guest, "--qemu-pid", "1", "read", "--phys", "0", "16",
                                    NULL);
  g_assert_cmpint(r->status, ==, 1);
  g_assert_nonnull(strstr(r->err, "--qemu-pid 1 is not the QEMU behind the QMP socket"));
}

/* A domain that does not exist, a daemon that does not answer, options that do not go
 * together: one clear line, exit 1 (2 for usage). */
static void
test_libvirt_bad(void)
{
  g_autoptr(HwRun) none = hw_test_runv(NULL, "--domain", "haywire-no-such-domain", "--connect",
                                       "qemu:///system", "info", NULL);
  g_assert_cmpint(none->status, ==, 1);
  g_assert_nonnull(strstr(none->err, "libvirt domain haywire-no-such-domain: Domain not found"));
  g_autoptr(HwRun) daemon = hw_test_runv(NULL, "--domain", guest->domain, "--connect",
                                         "qemu+unix:///system?socket=/nonexistent/libvirt-sock",
                                         "info", NULL);
  g_assert_cmpint(daemon->status, ==, 1);
  g_assert_nonnull(strstr(daemon->err, "/nonexistent/libvirt-sock"));
  g_assert_cmpint(strchr(daemon->err, '\n') - daemon->err, ==, (long)strlen(daemon->err) - 1);
  g_autoptr(HwRun) both = hw_test_runv(NULL, "--domain", guest->domain, "--qmp", "/x", "info",
                                       NULL);
  g_assert_cmpint(both->status, ==, 2);
  g_autoptr(HwRun) lone = hw_test_runv(NULL, "--connect", "qemu:///system", "info", NULL);
  g_assert_cmpint(lone->status, ==, 2);
}

void
hw_test_add_access_tests(HwTestGuest *g, gboolean booted)
{
  guest = g;
  config = g->config;
  gint k = find_expected();
  if (k < 0)
    return;   /* the other configs: the zero-copy file, tested throughout */
  g_autofree char *p = g_strdup_printf("/access/%s/", config);
  hw_test_add(p, "info", test_info);
  if (booted)
    hw_test_add(p, "scan-truth", test_scan_truth);
  if (strcmp(expected[k].backends[0].access, "copy") == 0 ||
      g_str_has_suffix(config, "memfd")) {
    /* Through QEMU's process only: a memory file is the file's owner's business. Another
     * user cannot reach libvirt's daemon at all: nothing to see there. */
    if (g->domain == NULL)
      hw_test_add(p, "permissions", test_permissions);
    hw_test_add(p, "wrong-pid", test_wrong_pid);
  }
  if (g->domain)
    hw_test_add(p, "libvirt-bad-requests", test_libvirt_bad);
}
