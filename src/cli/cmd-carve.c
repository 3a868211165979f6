/* haywire carve: scan for images and write each one as a file, while the guest is
 * still paused: encoded files byte for byte, raw pixels as PNG; with --thumbnails, a
 * small PNG of each beside it. */
#include "cli/scan-session.h"

#include <errno.h>
#include <glib/gstdio.h>

typedef struct {
  const char *dir;
  GPtrArray *files;     /* char*, parallel to the hits; NULL where nothing was written */
  GPtrArray *thumbs;    /* char*, parallel to FILES; NULL without --thumbnails */
  guint failed;
} Carve;

/* A thumbnail of the file just carved into DIR/STEM.*: a decoding failure costs only
 * the thumbnail (a warning), never the carve. Returns its path, or NULL. */
static char *
thumbnail(const Carve *c, const HwReader *reader, const HwImage *im, const char *stem)
{
  g_autofree char *name = g_strconcat(stem, ".thumb.png", NULL);
  g_autofree char *path = g_build_filename(c->dir, name, NULL);
  g_autoptr(GError) e = NULL;
  if (!hw_carve_write_thumbnail(reader, im, path, HW_THUMBNAIL_SIDE, &e)) {
    g_printerr("haywire: carve: warning: no thumbnail of %s: %s\n", stem, e->message);
    return NULL;
  }
  return g_steal_pointer(&path);
}

static gboolean
carve_hits(HwCli *cli, const HwScanOptions *o, GArray *hits, const HwReader *reader,
           gpointer data, GError **error)
{
  Carve *c = data;
  for (guint i = 0; i < hits->len; i++) {
    const HwScanHit *h = &g_array_index(hits, HwScanHit, i);
    const HwImage *im = &h->image;
    g_autofree char *stem =
        o->pid > 0 ? g_strdup_printf("%s-pid%d-va-%" G_GINT64_MODIFIER "x",
                                     hw_image_kind_name(im->kind), o->pid, h->va)
                   : g_strdup_printf("%s-gpa-%" G_GINT64_MODIFIER "x",
                                     hw_image_kind_name(im->kind), h->gpa);
    g_autofree char *name = g_strconcat(stem, ".", hw_carve_extension(im->kind), NULL);
    char *path = g_build_filename(c->dir, name, NULL);
    g_autoptr(GError) e = NULL;
    if (!hw_carve_write(reader, im, path, &e)) {
      /* One unreadable image does not lose the others. */
      g_printerr("haywire: carve: %s: %s\n", name, e->message);
      g_clear_pointer(&path, g_free);
      c->failed++;
    }
    g_ptr_array_add(c->files, path);
    if (c->thumbs != NULL)
      g_ptr_array_add(c->thumbs, path ? thumbnail(c, reader, im, stem) : NULL);
  }
  return TRUE;
}

/* --gpu: every framebuffer of the guest's DRM devices as DIR/fb-ID.png, one pause for
 * all; one line (or JSON object) for each. */
static gboolean
carve_framebuffers(HwCli *cli, const char *dir, GError **error)
{
  if (!hw_cli_pause(cli, error))
    return FALSE;
  gboolean partial = FALSE;
  g_autoptr(HwDrm) drm = hw_cli_drm(cli, &partial, error);
  guint n = 0;
  const HwDrmFramebuffer *fb = drm ? hw_drm_get_framebuffers(drm, &n) : NULL;
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < n; i++) {
    HwCliScreen sc;
    g_autoptr(GError) why = NULL;
    g_autofree guint8 *rgba = hw_cli_framebuffer_rgba(cli, &fb[i], &sc, &why);
    g_autofree char *name = g_strdup_printf("fb-%u.png", fb[i].id);
    g_autofree char *path = g_build_filename(dir, name, NULL);
    if (rgba != NULL)
      hw_png_write_rgba(path, sc.width, sc.height, rgba, (gsize)sc.width * 4, &why);
    g_autofree char *who = fb[i].pid >= 0 ? g_strdup_printf("pid %d (%s)", fb[i].pid, fb[i].comm)
                                          : g_strdup_printf("the kernel (%s)", fb[i].comm);
    if (cli->json) {
      g_autoptr(JsonBuilder) b = json_builder_new();
      json_builder_begin_object(b);
      json_builder_set_member_name(b, "kind");
      json_builder_add_string_value(b, "framebuffer");
      json_builder_set_member_name(b, "framebuffer");
      json_builder_add_int_value(b, fb[i].id);
      json_builder_set_member_name(b, "width");
      json_builder_add_int_value(b, fb[i].width);
      json_builder_set_member_name(b, "height");
      json_builder_add_int_value(b, fb[i].height);
      json_builder_set_member_name(b, "format");
      json_builder_add_string_value(b, fb[i].format);
      json_builder_set_member_name(b, "pid");
      json_builder_add_int_value(b, fb[i].pid);
      json_builder_set_member_name(b, "on_screen");
      json_builder_add_boolean_value(b, fb[i].primary);
      json_builder_set_member_name(b, "file");
      if (why == NULL)
        json_builder_add_string_value(b, path);
      else
        json_builder_add_null_value(b);
      json_builder_set_member_name(b, "error");
      if (why != NULL)
        json_builder_add_string_value(b, why->message);
      else
        json_builder_add_null_value(b);
      json_builder_set_member_name(b, "partial");
      json_builder_add_boolean_value(b, why == NULL && sc.partial);
      json_builder_end_object(b);
      JsonNode *root = json_builder_get_root(b);
      g_ptr_array_add(lines, json_to_string(root, FALSE));
      json_node_unref(root);
    } else {
      g_ptr_array_add(lines, why ? g_strdup_printf("framebuffer %u %ux%u %s of %s: not written: %s",
                                                   fb[i].id, fb[i].width, fb[i].height,
                                                   fb[i].format, who, why->message)
                                 : g_strdup_printf("framebuffer %u %ux%u %s of %s%s  -> %s",
                                                   fb[i].id, fb[i].width, fb[i].height,
                                                   fb[i].format, who,
                                                   fb[i].primary ? ", on screen" : "", path));
    }
  }
  if (!hw_cli_release_after(cli, drm != NULL, error))
    return FALSE;
  for (guint i = 0; i < lines->len; i++)
    printf("%s\n", (char *)lines->pdata[i]);
  return TRUE;
}

int
hw_cmd_carve(HwCli *cli, int argc, char **argv)
{
  int rc;
  gboolean phys = FALSE, thumbnails = FALSE, gpu = FALSE;
  HwScanOptions o = { 0 };
  g_autofree char *find = NULL, *dir = NULL;
  g_autoptr(GError) error = NULL;
  GOptionEntry entries[] = {
    { "dir", 'd', 0, G_OPTION_ARG_FILENAME, &dir, "write the images into DIR (created if "
      "needed)", "DIR" },
    { "phys", 'p', 0, G_OPTION_ARG_NONE, &phys, "scan all guest RAM (the default)", NULL },
    { "pid", 'P', 0, G_OPTION_ARG_INT, &o.pid, "scan the address space of Linux process PID",
      "PID" },
    { "find", 'f', 0, G_OPTION_ARG_STRING, &find, "image kinds: png,jpeg,gif,bmp,webp,"
      "framebuffer or all (the default)", "KINDS" },
    { "thumbnails", 'T', 0, G_OPTION_ARG_NONE, &thumbnails, "also write NAME.thumb.png beside "
      "each file: the image decoded, at most 128 pixels a side", NULL },
    { "gpu", 'g', 0, G_OPTION_ARG_NONE, &gpu, "also write each framebuffer of the guest's "
      "DRM devices, shown or not, as fb-ID.png (see 'haywire gpu')", NULL },
    { "live", 0, 0, G_OPTION_ARG_NONE, &o.live, "do not pause the guest (files may be torn)",
      NULL },
    { "threads", 't', 0, G_OPTION_ARG_INT, &o.threads, "threads for physical scans", "N" },
    { NULL }
  };
  if (!hw_cli_parse("carve", NULL, "Find images in guest memory and write each as a file in "
                    "DIR: PNG, JPEG, GIF, BMP and WebP files byte for byte as they are in memory, "
                    "raw pixels (framebuffers, decoded bitmaps) converted to PNG. The guest "
                    "stays paused until every file is written.", entries, &argc, &argv, &rc))
    return rc;
  if ((rc = hw_cli_scan_check("carve", argc, argv, phys, find, (1u << HW_IMAGE_N_KINDS) - 1,
                              &o)) >= 0)
    return rc;
  if (dir == NULL)
    return hw_cli_usage("carve", "give the output directory with -d DIR");
  if (g_mkdir_with_parents(dir, 0755) != 0) {
    int e = errno;
    g_set_error(&error, G_IO_ERROR, g_io_error_from_errno(e), "cannot create %s: %s", dir,
                g_strerror(e));
    return hw_cli_fail(error);
  }

  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GPtrArray) thumbs = thumbnails ? g_ptr_array_new_with_free_func(g_free) : NULL;
  Carve c = { .dir = dir, .files = files, .thumbs = thumbs };
  HwScanResult res;
  if (!hw_cli_scan_run(cli, &o, carve_hits, &c, &res, &error))
    return hw_cli_fail(error);
  guint written = 0;
  for (guint i = 0; i < res.hits->len; i++) {
    const char *file = i < files->len ? g_ptr_array_index(files, i) : NULL;
    const char *thumb = thumbs && i < thumbs->len ? g_ptr_array_index(thumbs, i) : NULL;
    if (file == NULL)
      continue;
    written++;
    if (cli->json) {
      g_autoptr(JsonBuilder) b = json_builder_new();
      hw_cli_scan_hit_json(b, &o, &res, i);
      json_builder_set_member_name(b, "file");
      json_builder_add_string_value(b, file);
      if (thumbs != NULL) {
        json_builder_set_member_name(b, "thumbnail");
        if (thumb != NULL)
          json_builder_add_string_value(b, thumb);
        else
          json_builder_add_null_value(b);
      }
      json_builder_set_member_name(b, "state");
      json_builder_add_string_value(b, res.state);
      json_builder_end_object(b);
      hw_cli_print_json(json_builder_get_root(b));
    } else {
      g_autofree char *line = hw_cli_scan_hit_text(&o, &res, i);
      if (thumb != NULL)
        printf("%s  -> %s (thumbnail %s)\n", line, file, thumb);
      else
        printf("%s  -> %s\n", line, file);
    }
  }
  hw_cli_scan_summary(cli, &o, &res, written);
  hw_cli_scan_result_clear(&res);
  if (gpu && !carve_framebuffers(cli, dir, &error))
    return hw_cli_fail(error);
  return c.failed ? HW_EXIT_ERROR : HW_EXIT_OK;
}
