/* JPEG through libjpeg(-turbo), from memory: every scanline decoded, through EOI.
 * libjpeg's error_exit must not return: ours longjmps back to the frame that set it up,
 * and everything allocated lives in a JpegRead that its caller frees. Its warnings
 * (corrupt entropy data, a premature end) refuse the file too: libjpeg would patch
 * such data with grey and carry on, and a finder must not count that as an image. */
#include <haywire/error.h>
#include "scan/decode.h"

#include <setjmp.h>
#include <stdio.h>
#include <jpeglib.h>

#define MAX_SCANS 500u          /* progressive files: more scans is a decoding bomb */
#define MAX_MEMORY (512u << 20) /* what libjpeg may allocate (coefficient buffers) */

typedef struct {
  struct jpeg_error_mgr pub;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
} JpegError;

typedef struct {
  struct jpeg_decompress_struct cinfo;
  JpegError err;
  struct jpeg_progress_mgr progress;
  guint8 *row;          /* one row of decoded samples */
  guint8 *rgba;
} JpegRead;

static void
on_error_exit(j_common_ptr cinfo)
{
  JpegError *e = (JpegError *)cinfo->err;
  e->pub.format_message(cinfo, e->message);
  longjmp(e->jump, 1);
}

static void
on_message(j_common_ptr cinfo, int level)
{
  JpegError *e = (JpegError *)cinfo->err;
  if (level < 0) {      /* a warning: the data is corrupt */
    e->pub.format_message(cinfo, e->message);
    longjmp(e->jump, 1);
  }
}

static void
on_progress(j_common_ptr cinfo)
{
  j_decompress_ptr d = (j_decompress_ptr)cinfo;
  if (d->input_scan_number > (int)MAX_SCANS) {
    JpegError *e = (JpegError *)cinfo->err;
    g_snprintf(e->message, sizeof e->message, "more than %u scans", MAX_SCANS);
    longjmp(e->jump, 1);
  }
}

/* One row of decoded samples (RGB, gray or Adobe's inverted CMYK) to RGBA. */
static void
row_to_rgba(const guint8 *in, guint components, guint32 width, guint8 *out)
{
  for (guint32 x = 0; x < width; x++, in += components, out += 4) {
    if (components == 1) {
      out[0] = out[1] = out[2] = in[0];
    } else if (components == 3) {
      out[0] = in[0], out[1] = in[1], out[2] = in[2];
    } else {
      out[0] = (guint8)(in[0] * in[3] / 255);
      out[1] = (guint8)(in[1] * in[3] / 255);
      out[2] = (guint8)(in[2] * in[3] / 255);
    }
    out[3] = 255;
  }
}

/* Everything between the setjmp and its jump: state only in S. */
static gboolean
run(JpegRead *s, const guint8 *data, gsize len, guint max_pixels, gboolean want_rgba,
    GError **error)
{
  struct jpeg_decompress_struct *c = &s->cinfo;
  if (setjmp(s->err.jump)) {
    g_set_error(error, HW_ERROR, HW_ERROR_DECODE, "libjpeg: %s", s->err.message);
    return FALSE;
  }
  jpeg_create_decompress(c);
  c->mem->max_memory_to_use = MAX_MEMORY;
  s->progress.progress_monitor = on_progress;
  c->progress = &s->progress;
  jpeg_mem_src(c, data, (unsigned long)len);
  if (jpeg_read_header(c, TRUE) != JPEG_HEADER_OK) {
    g_set_error(error, HW_ERROR, HW_ERROR_DECODE, "libjpeg: no image");
    return FALSE;
  }
  if (!hw_decode_check_size(c->image_width, c->image_height, max_pixels, error))
    return FALSE;
  if (c->jpeg_color_space == JCS_CMYK || c->jpeg_color_space == JCS_YCCK)
    c->out_color_space = JCS_CMYK;
  else if (c->jpeg_color_space != JCS_GRAYSCALE)
    c->out_color_space = JCS_RGB;
  jpeg_start_decompress(c);
  guint components = (guint)c->output_components;
  if (components != 1 && components != 3 && components != 4) {
    g_set_error(error, HW_ERROR, HW_ERROR_UNSUPPORTED, "libjpeg: %u components", components);
    return FALSE;
  }
  if (c->output_width != c->image_width || c->output_height != c->image_height) {
    g_set_error(error, HW_ERROR, HW_ERROR_DECODE, "libjpeg: output size differs");
    return FALSE;
  }
  if (want_rgba && (s->rgba = hw_decode_alloc_rgba(c->output_width, c->output_height,
                                                   error)) == NULL)
    return FALSE;
  s->row = g_malloc((gsize)c->output_width * components);
  /* Each call returns at least one line or errors (mem_src ends with a fake EOI and a
   * warning, which refuses the file): the loop ends. */
  while (c->output_scanline < c->output_height) {
    JSAMPROW rows[1] = { s->row };
    guint y = c->output_scanline;
    if (jpeg_read_scanlines(c, rows, 1) != 1) {
      g_set_error(error, HW_ERROR, HW_ERROR_DECODE, "libjpeg: no scanline %u", y);
      return FALSE;
    }
    if (s->rgba != NULL)
      row_to_rgba(s->row, components, c->output_width,
                  s->rgba + (gsize)y * c->output_width * 4);
  }
  jpeg_finish_decompress(c);
  return TRUE;
}

gboolean
hw_decode_jpeg(const guint8 *data, gsize len, guint max_pixels, guint32 *width,
               guint32 *height, guint8 **rgba, GError **error)
{
  JpegRead *s = g_new0(JpegRead, 1);
  s->cinfo.err = jpeg_std_error(&s->err.pub);
  s->err.pub.error_exit = on_error_exit;
  s->err.pub.emit_message = on_message;
  gboolean ok = run(s, data, len, max_pixels, rgba != NULL, error);
  if (ok) {
    *width = s->cinfo.output_width;
    *height = s->cinfo.output_height;
    if (rgba != NULL)
      *rgba = g_steal_pointer(&s->rgba);
  }
  jpeg_destroy_decompress(&s->cinfo);   /* also after a jump: frees libjpeg's pools */
  g_free(s->row);
  g_free(s->rgba);
  g_free(s);
  return ok;
}
