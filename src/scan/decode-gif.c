/* GIF through giflib, from memory: record by record (not DGifSlurp, which keeps every
 * frame's pixels: a file of thousands of full-screen frames would hold gigabytes), each
 * frame's LZW data decoded a line at a time, through the trailer. The RGBA picture is
 * the first frame drawn on a transparent screen. */
#include <haywire/error.h>
#include "scan/decode.h"

#include <gif_lib.h>
#include <string.h>

/* Frames and extensions, as many as the finder allows, and the trailer. */
#define MAX_RECORDS (65536u + 1)
#define MAX_WORK 4u             /* LZW decoding: at most this many screens of pixels */

typedef struct {
  const guint8 *data;
  gsize len, pos;
} Source;

static int
on_read(GifFileType *gif, GifByteType *out, int len)
{
  Source *s = gif->UserData;
  gsize n = MIN((gsize)MAX(len, 0), s->len - s->pos);
  memcpy(out, s->data + s->pos, n);
  s->pos += n;
  return (int)n;
}

static gboolean
fail(GError **error, int code)
{
  const char *msg = GifErrorString(code);
  g_set_error(error, HW_ERROR, HW_ERROR_DECODE, "giflib: %s", msg ? msg : "error");
  return FALSE;
}

/* Draw line Y of the current frame (INDEX, width frame->Width) onto the screen RGBA. */
static void
draw_line(const GifFileType *gif, const GifByteType *index, guint32 y, int transparent,
          guint8 *rgba)
{
  const GifImageDesc *d = &gif->Image;
  const ColorMapObject *map = d->ColorMap ? d->ColorMap : gif->SColorMap;
  guint8 *out = rgba + ((gsize)(d->Top + y) * (gsize)gif->SWidth + (gsize)d->Left) * 4;
  for (int x = 0; x < d->Width; x++, out += 4) {
    if (index[x] == transparent || map == NULL || index[x] >= map->ColorCount)
      continue;         /* stays transparent (an index past the map: nothing to draw) */
    const GifColorType *c = &map->Colors[index[x]];
    out[0] = c->Red, out[1] = c->Green, out[2] = c->Blue, out[3] = 255;
  }
}

/* One frame: its descriptor, then every line. RGBA non-NULL: draw it there. */
static gboolean
read_frame(GifFileType *gif, guint8 *line, int transparent, guint8 *rgba, guint64 *work,
           GError **error)
{
  if (DGifGetImageDesc(gif) == GIF_ERROR)
    return fail(error, gif->Error);
  const GifImageDesc *d = &gif->Image;
  if (d->Width <= 0 || d->Height <= 0 || d->Left < 0 || d->Top < 0 ||
      d->Left + d->Width > gif->SWidth || d->Top + d->Height > gif->SHeight) {
    g_set_error(error, HW_ERROR, HW_ERROR_DECODE, "giflib: a frame outside the screen");
    return FALSE;
  }
  *work += (guint64)d->Width * (guint64)d->Height;
  if (*work > MAX_WORK * (guint64)gif->SWidth * (guint64)gif->SHeight + (1u << 20)) {
    g_set_error(error, HW_ERROR, HW_ERROR_LIMIT, "giflib: too many frames to decode");
    return FALSE;
  }
  /* Interlaced frames come in four passes: rows 0, 8, ..; 4, 12, ..; 2, 6, ..; 1, 3, .. */
  static const int start[4] = { 0, 4, 2, 1 }, step[4] = { 8, 8, 4, 2 };
  int passes = d->Interlace ? 4 : 1;
  for (int p = 0; p < passes; p++)
    for (int y = d->Interlace ? start[p] : 0; y < d->Height; y += d->Interlace ? step[p] : 1) {
      if (DGifGetLine(gif, line, d->Width) == GIF_ERROR)
        return fail(error, gif->Error);
      if (rgba != NULL)
        draw_line(gif, line, (guint32)y, transparent, rgba);
    }
  return TRUE;
}

/* Every record through the trailer; the first frame drawn into RGBA if non-NULL. */
static gboolean
read_records(GifFileType *gif, guint8 *line, guint8 *rgba, GError **error)
{
  int transparent = NO_TRANSPARENT_COLOR;
  guint frames = 0;
  guint64 work = 0;
  for (guint n = 0; n < MAX_RECORDS; n++) {
    GifRecordType type;
    if (DGifGetRecordType(gif, &type) == GIF_ERROR)
      return fail(error, gif->Error);
    switch (type) {
    case IMAGE_DESC_RECORD_TYPE:
      if (!read_frame(gif, line, transparent, frames == 0 ? rgba : NULL, &work, error))
        return FALSE;
      frames++;
      transparent = NO_TRANSPARENT_COLOR;
      break;
    case EXTENSION_RECORD_TYPE: {
      int code;
      GifByteType *ext;
      if (DGifGetExtension(gif, &code, &ext) == GIF_ERROR)
        return fail(error, gif->Error);
      GraphicsControlBlock gcb;
      if (code == GRAPHICS_EXT_FUNC_CODE && ext != NULL && ext[0] >= 4 &&
          DGifExtensionToGCB(ext[0], ext + 1, &gcb) == GIF_OK)
        transparent = gcb.TransparentColor;
      /* Sub-blocks are at most 255 bytes each and the file is finite: this ends. */
      while (ext != NULL)
        if (DGifGetExtensionNext(gif, &ext) == GIF_ERROR)
          return fail(error, gif->Error);
      break;
    }
    case TERMINATE_RECORD_TYPE:
      if (frames == 0) {
        g_set_error(error, HW_ERROR, HW_ERROR_DECODE, "giflib: no frame");
        return FALSE;
      }
      return TRUE;
    default:
      return fail(error, D_GIF_ERR_WRONG_RECORD);
    }
  }
  g_set_error(error, HW_ERROR, HW_ERROR_LIMIT, "giflib: more than %u records", MAX_RECORDS);
  return FALSE;
}

gboolean
hw_decode_gif(const guint8 *data, gsize len, guint max_pixels, guint32 *width,
              guint32 *height, guint8 **rgba, GError **error)
{
  Source src = { data, len, 0 };
  int code = 0;
  GifFileType *gif = DGifOpen(&src, on_read, &code);
  if (gif == NULL)
    return fail(error, code);
  g_autofree guint8 *pixels = NULL, *line = NULL;
  gboolean ok = hw_decode_check_size((guint64)MAX(gif->SWidth, 0), (guint64)MAX(gif->SHeight, 0),
                                     max_pixels, error);
  if (ok && rgba != NULL) {
    ok = (pixels = hw_decode_alloc_rgba((guint32)gif->SWidth, (guint32)gif->SHeight,
                                        error)) != NULL;
    if (ok)
      memset(pixels, 0, (gsize)gif->SWidth * (gsize)gif->SHeight * 4);
  }
  if (ok) {
    line = g_malloc((gsize)gif->SWidth);
    ok = read_records(gif, line, pixels, error);
  }
  if (ok) {
    *width = (guint32)gif->SWidth;
    *height = (guint32)gif->SHeight;
    if (rgba != NULL)
      *rgba = g_steal_pointer(&pixels);
  }
  DGifCloseFile(gif, &code);
  return ok;
}
