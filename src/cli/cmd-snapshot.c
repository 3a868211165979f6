/* haywire snapshot save FILE | snapshot diff A B: page hashes of all RAM at one paused
 * moment, and which pages changed between two such moments, with whose they are. */
#include "cli/cli.h"

#include <glib/gstdio.h>
#include <string.h>

/* What the snapshot says about its moment: epoch, run state, QEMU, vCPU registers, and
 * the processes when the Linux layer finds the kernel. */
static JsonObject *
moment(HwCli *cli, HwLinux *lx)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  hw_cli_json_moment(b, cli);
  json_builder_set_member_name(b, "qemu");
  json_builder_add_string_value(b, cli->qmp ? hw_qmp_get_version(cli->qmp) : "none");
  json_builder_set_member_name(b, "arch");
  json_builder_add_string_value(b, hw_guest_get_arch_name(cli->guest));
  json_builder_set_member_name(b, "taken_unix_us");
  json_builder_add_int_value(b, g_get_real_time());
  g_autofree char *stop = hw_cli_event_stamp(cli, "STOP", 0);
  json_builder_set_member_name(b, "stop_event");
  if (stop)
    json_builder_add_string_value(b, stop);
  else
    json_builder_add_null_value(b);
  json_builder_set_member_name(b, "vcpus");
  json_builder_begin_array(b);
  for (guint c = 0; c < hw_guest_get_vcpu_count(cli->guest); c++) {
    g_autoptr(HwRegs) regs = hw_cli_regs(cli, (int)c, NULL);
    json_builder_begin_object(b);
    guint n = 0;
    const char *const *names = regs ? hw_regs_get_names(regs, &n) : NULL;
    for (guint k = 0; k < n; k++) {
      guint64 v = 0;
      if (hw_regs_get(regs, names[k], &v))
        hw_cli_json_hex(b, names[k], v);
    }
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  g_autoptr(GArray) tasks = lx ? hw_linux_list_tasks(lx, FALSE, NULL, NULL) : NULL;
  json_builder_set_member_name(b, "processes");
  json_builder_begin_array(b);
  for (guint i = 0; tasks && i < tasks->len; i++) {
    const HwTask *t = &g_array_index(tasks, HwTask, i);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "pid");
    json_builder_add_int_value(b, t->pid);
    json_builder_set_member_name(b, "comm");
    json_builder_add_string_value(b, t->comm);
    hw_cli_json_hex(b, "pgd", t->pgd_gpa);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  return json_object_ref(json_node_get_object(root));
}

HwSnapshot *
hw_cli_take_snapshot(HwCli *cli, gboolean data, HwOwnerMap **owners, GError **error)
{
  if (!hw_cli_pause(cli, error))
    return NULL;
  g_autoptr(GError) lx_error = NULL;
  HwLinux *lx = hw_cli_linux(cli, &lx_error);
  if (lx == NULL)
    g_debug("no owners: %s", lx_error->message);
  g_autoptr(HwOwnerMap) map = lx ? hw_owner_map_build(lx, NULL, NULL) : NULL;
  g_autoptr(JsonObject) meta = moment(cli, lx);
  HwPhysMem *mem = hw_guest_get_physmem(cli->guest);
  HwSnapshot *s = hw_snapshot_take(mem, map, meta, 0, error);
  if (s != NULL && data && !hw_snapshot_add_data(s, mem, 0, error))
    g_clear_pointer(&s, hw_snapshot_free);
  if (!hw_cli_release_after(cli, s != NULL, error)) {
    hw_snapshot_free(s);
    return NULL;
  }
  if (owners)
    *owners = g_steal_pointer(&map);
  return s;
}

/* DATA: --data, store the pages too. */
static int
snapshot_save(HwCli *cli, int argc, char **argv, gboolean data)
{
  g_autoptr(GError) error = NULL;
  if (argc != 2)
    return hw_cli_usage("snapshot", "save takes one FILE");
  gint64 t0 = g_get_monotonic_time();
  g_autoptr(HwSnapshot) s = hw_cli_take_snapshot(cli, data, NULL, &error);
  if (s == NULL || !hw_snapshot_save(s, argv[1], &error))
    return hw_cli_fail(error);
  GStatBuf st;
  guint64 bytes = g_stat(argv[1], &st) == 0 ? (guint64)st.st_size : 0;
  guint n;
  const HwRamRange *r = hw_snapshot_get_ranges(s, &n);
  guint64 pages = 0;
  for (guint i = 0; i < n; i++)
    pages += r[i].size / HW_PAGE_SIZE;
  double ms = (g_get_monotonic_time() - t0) / 1000.0;
  if (cli->json) {
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    hw_cli_json_moment(b, cli);
    json_builder_set_member_name(b, "file");
    json_builder_add_string_value(b, argv[1]);
    json_builder_set_member_name(b, "pages");
    json_builder_add_int_value(b, (gint64)pages);
    json_builder_set_member_name(b, "bytes");
    json_builder_add_int_value(b, (gint64)bytes);
    json_builder_set_member_name(b, "data");
    json_builder_add_boolean_value(b, hw_snapshot_has_data(s));
    json_builder_set_member_name(b, "ms");
    json_builder_add_double_value(b, ms);
    json_builder_end_object(b);
    hw_cli_print_json(json_builder_get_root(b));
  } else {
    fprintf(stderr, "wrote %s: %" G_GUINT64_FORMAT " pages%s, %.1f MiB, epoch %"
            G_GUINT64_FORMAT ", %s, in %.1f ms\n", argv[1], pages,
            hw_snapshot_has_data(s) ? " with their data" : "", bytes / 1048576.0, cli->epoch,
            cli->run_state ? cli->run_state : "live", ms);
  }
  return HW_EXIT_OK;
}

/* A diffed page's owners: from the live map of B's moment, else from the snapshot that
 * had the data (B; A for vanished pages). */
static GArray *
owners_of(const HwPageDiff *d, HwSnapshot *a, HwSnapshot *b, HwOwnerMap *live)
{
  GArray *out = g_array_new(FALSE, FALSE, sizeof(HwSnapshotOwner));
  if (live && d->change != HW_PAGE_VANISHED) {
    g_autoptr(GArray) o = hw_owner_map_lookup(live, d->gpa);
    for (guint i = 0; i < o->len; i++) {
      const HwOwner *x = &g_array_index(o, HwOwner, i);
      if (x->kind == HW_OWNER_PROCESS) {
        HwSnapshotOwner y = { d->gpa, x->va, x->pid };
        g_array_append_val(out, y);
      }
    }
    return out;
  }
  g_array_unref(out);
  return hw_snapshot_owners(d->change == HW_PAGE_VANISHED ? a : b, d->gpa);
}

/* The comm of PID in the snapshot's process list, or "?". */
static const char *
comm_of(HwSnapshot *s, gint32 pid)
{
  JsonObject *m = hw_snapshot_get_metadata(s);
  JsonNode *pn = json_object_get_member(m, "processes");
  JsonArray *ps = pn && JSON_NODE_HOLDS_ARRAY(pn) ? json_node_get_array(pn) : NULL;
  for (guint i = 0; ps && i < json_array_get_length(ps); i++) {
    JsonNode *e = json_array_get_element(ps, i);
    if (!JSON_NODE_HOLDS_OBJECT(e))
      continue;
    JsonObject *o = json_node_get_object(e);
    gint64 p;
    const char *c;
    if (hw_json_get_int(o, "pid", &p, NULL) && p == pid && hw_json_get_string(o, "comm", &c, NULL))
      return c;
  }
  return "?";
}

/* --picture: DIFF drawn over B's RAM map into PATH, titled "A -> B" (B '-': "now"). */
static gboolean
write_picture(const char *path, const HwSnapshot *b, const GArray *diff, const char *a_name,
              const char *b_name, GError **error)
{
  guint n;
  const HwRamRange *ranges = hw_snapshot_get_ranges(b, &n);
  g_autofree char *title = g_strdup_printf("%s -> %s", a_name,
                                           strcmp(b_name, "-") == 0 ? "now" : b_name);
  g_autoptr(HwCanvas) c = hw_diff_draw(ranges, n, (const HwPageDiff *)diff->data,
                                       diff->len, title, error);
  return c != NULL && hw_canvas_write_png(c, path, error);
}

/* The text listing is grouped by owner: the processes that map a page (all of them, so
 * a shared page makes its own group), and last the pages no process maps. */
typedef struct {
  char *name;            /* "93/hwtest-sleeper", "93/a 94/b", or "" for no process */
  gint32 first_pid;      /* for the order; G_MAXINT32 for no process */
  guint pages;
  GString *lines;
} Group;

static void
group_free(gpointer data)
{
  Group *g = data;
  g_free(g->name);
  g_string_free(g->lines, TRUE);
  g_free(g);
}

static void
group_page(GHashTable *groups, const HwPageDiff *d, GArray *owners, HwSnapshot *named)
{
  g_autoptr(GString) key = g_string_new(NULL);
  gint32 last = -1;
  for (guint k = 0; k < owners->len; k++) {
    const HwSnapshotOwner *o = &g_array_index(owners, HwSnapshotOwner, k);
    if (o->pid != last)
      g_string_append_printf(key, "%s%d/%s", key->len ? " " : "", o->pid, comm_of(named, o->pid));
    last = o->pid;
  }
  Group *g = g_hash_table_lookup(groups, key->str);
  if (g == NULL) {
    g = g_new0(Group, 1);
    g->name = g_strdup(key->str);
    g->first_pid = owners->len ? g_array_index(owners, HwSnapshotOwner, 0).pid : G_MAXINT32;
    g->lines = g_string_new(NULL);
    g_hash_table_insert(groups, g->name, g);
  }
  g->pages++;
  g_string_append_printf(g->lines, owners->len ? "  0x%09" G_GINT64_MODIFIER "x %-8s"
                                                : "  0x%09" G_GINT64_MODIFIER "x %s",
                         d->gpa, hw_page_change_name(d->change));
  for (guint k = 0; k < owners->len; k++) {
    const HwSnapshotOwner *o = &g_array_index(owners, HwSnapshotOwner, k);
    if (owners->len == 1)
      g_string_append_printf(g->lines, " va 0x%" G_GINT64_MODIFIER "x", o->va);
    else
      g_string_append_printf(g->lines, " %d@0x%" G_GINT64_MODIFIER "x", o->pid, o->va);
  }
  g_string_append_c(g->lines, '\n');
}

static gint
compare_group(gconstpointer a, gconstpointer b)
{
  const Group *x = *(Group *const *)a, *y = *(Group *const *)b;
  if (x->first_pid != y->first_pid)
    return x->first_pid < y->first_pid ? -1 : 1;
  return strcmp(x->name, y->name);
}

static void
print_groups(GHashTable *groups)
{
  g_autoptr(GPtrArray) list = g_ptr_array_new();
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init(&it, groups);
  while (g_hash_table_iter_next(&it, NULL, &value))
    g_ptr_array_add(list, value);
  g_ptr_array_sort(list, compare_group);
  for (guint i = 0; i < list->len; i++) {
    const Group *g = list->pdata[i];
    printf("%s: %u page%s\n%s", g->name[0] ? g->name : "no process maps them (the kernel's, "
           "page cache, free)", g->pages, g->pages == 1 ? "" : "s", g->lines->str);
  }
}

/* PICTURE: --picture FILE.png, or NULL. */
static int
snapshot_diff(HwCli *cli, int argc, char **argv, gboolean live_b, const char *picture)
{
  g_autoptr(GError) error = NULL;
  if (argc != 3)
    return hw_cli_usage("snapshot", "diff takes A and B (B may be '-': the guest now)");
  g_autoptr(HwSnapshot) a = hw_snapshot_load(argv[1], &error);
  if (a == NULL)
    return hw_cli_fail(error);
  g_autoptr(HwOwnerMap) live = NULL;
  g_autoptr(HwSnapshot) b = live_b ? hw_cli_take_snapshot(cli, FALSE, &live, &error)
                                   : hw_snapshot_load(argv[2], &error);
  if (b == NULL)
    return hw_cli_fail(error);
  g_autoptr(GArray) diff = hw_snapshot_diff(a, b, &error);
  if (diff == NULL)
    return hw_cli_fail(error);
  guint counts[3] = { 0 };
  g_autoptr(GHashTable) groups = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                                       group_free);
  for (guint i = 0; i < diff->len; i++) {
    const HwPageDiff *d = &g_array_index(diff, HwPageDiff, i);
    counts[d->change]++;
    g_autoptr(GArray) owners = owners_of(d, a, b, live);
    HwSnapshot *named = d->change == HW_PAGE_VANISHED ? a : b;
    if (cli->json) {
      g_autoptr(JsonBuilder) jb = json_builder_new();
      json_builder_begin_object(jb);
      hw_cli_json_hex(jb, "gpa", d->gpa);
      json_builder_set_member_name(jb, "change");
      json_builder_add_string_value(jb, hw_page_change_name(d->change));
      json_builder_set_member_name(jb, "owners");
      json_builder_begin_array(jb);
      for (guint k = 0; k < owners->len; k++) {
        const HwSnapshotOwner *o = &g_array_index(owners, HwSnapshotOwner, k);
        json_builder_begin_object(jb);
        json_builder_set_member_name(jb, "pid");
        json_builder_add_int_value(jb, o->pid);
        json_builder_set_member_name(jb, "comm");
        json_builder_add_string_value(jb, comm_of(named, o->pid));
        hw_cli_json_hex(jb, "va", o->va);
        json_builder_end_object(jb);
      }
      json_builder_end_array(jb);
      json_builder_end_object(jb);
      hw_cli_print_json(json_builder_get_root(jb));
      continue;
    }
    group_page(groups, d, owners, named);
  }
  print_groups(groups);
  fflush(stdout);
  fprintf(stderr, "%u pages differ: %u changed, %u appeared, %u vanished\n", diff->len,
          counts[HW_PAGE_CHANGED], counts[HW_PAGE_APPEARED], counts[HW_PAGE_VANISHED]);
  if (picture != NULL) {
    if (!write_picture(picture, b, diff, argv[1], argv[2], &error))
      return hw_cli_fail(error);
    fprintf(stderr, "wrote %s: %u pages differ\n", picture, diff->len);
  }
  return HW_EXIT_OK;
}

int
hw_cmd_snapshot(HwCli *cli, int argc, char **argv)
{
  int rc;
  gboolean opt_data = FALSE;
  g_autofree char *opt_picture = NULL;
  GOptionEntry entries[] = {
    { "data", 0, 0, G_OPTION_ARG_NONE, &opt_data,
      "save: also store the pages (zstd), for reading the snapshot without the VM", NULL },
    { "picture", 0, 0, G_OPTION_ARG_FILENAME, &opt_picture,
      "diff: draw the change map as a PNG, like overview", "FILE.png" },
    { NULL, 0, 0, 0, NULL, NULL, NULL },
  };
  if (!hw_cli_parse("snapshot", "save FILE [--data] | diff A B [--picture FILE.png]", "Save the content hash of every page "
                    "of guest RAM at one paused moment (with the moment's epoch, registers and "
                    "processes, and the pages each process maps), or list the pages that "
                    "differ between two snapshots, with the processes they belong to. B may "
                    "be '-': the guest now.", entries, &argc, &argv, &rc))
    return rc;
  if (argc < 2)
    return hw_cli_usage("snapshot", "give save FILE or diff A B");
  if (strcmp(argv[1], "save") == 0) {
    if (argc != 3)
      return hw_cli_usage("snapshot", "save takes one FILE");
    if (opt_picture)
      return hw_cli_usage("snapshot", "--picture is for diff");
    if ((rc = hw_cli_attach(cli, TRUE)) >= 0)
      return rc;
    return snapshot_save(cli, argc - 1, argv + 1, opt_data);
  }
  if (strcmp(argv[1], "diff") == 0) {
    gboolean live_b = argc == 4 && strcmp(argv[3], "-") == 0;
    if (opt_data)
      return hw_cli_usage("snapshot", "--data is for save");
    /* Two files need no QEMU; '-' is the guest now. */
    if (live_b && (rc = hw_cli_attach(cli, TRUE)) >= 0)
      return rc;
    return snapshot_diff(cli, argc - 1, argv + 1, live_b, opt_picture);
  }
  return hw_cli_usage("snapshot", "unknown subcommand '%s' (save or diff)", argv[1]);
}
