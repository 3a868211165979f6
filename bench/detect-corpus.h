/* The detection benchmark's inputs: real pictures decoded with the real libraries,
 * real non-image memory, and the pictures written out as pixels or encoded files. */
#pragma once

#include <glib.h>
#include <haywire/image.h>

/* A decoded picture, RGBA8, rows packed. */
typedef struct {
  char *name;          /* file name, without its directory */
  guint width, height;
  guint8 *rgba;
  gboolean half;       /* which half of the corpus: FALSE tune, TRUE report */
  const char *source;  /* "background", "icon", "figure" (documentation) or "other" */
} Picture;

/* Decode every .webp, .png and .jpg under the directories of DIRS (recursively, up to
 * LIMIT pictures per directory, at least MIN_SIDE pixels on both sides) into an array of
 * Picture* (caller owns; free with picture_free). Light/dark variants of one picture
 * ("x-l", "x-d") fall in the same half. */
GPtrArray *corpus_load_pictures(char **dirs, guint limit, guint min_side);
void picture_free(Picture *p);

/* Where a page of non-image memory came from: a file and the page's offset in it. */
typedef struct {
  const char *path;        /* owned by the origins array's strings (see below) */
  guint64 offset;
} PageOrigin;

/* Non-image memory: the non-zero 4 KiB pages of the regular files under FILLER_DIRS up
 * to FILLER_BYTES, in file order. *N_PAGES pages, caller frees. ORIGINS (may be NULL)
 * gets a PageOrigin per page and PATHS (with it) the path strings they point to; the
 * caller unrefs both. */
guint8 *corpus_load_pages(char **filler_dirs, guint64 filler_bytes, gsize *n_pages,
                          GArray **origins, GPtrArray **paths);

/* Resize P into a W x H RGBA8 buffer (box filter down, nearest up; caller frees). */
guint8 *picture_resize(const Picture *p, guint w, guint h);

/* Write W x H RGBA8 pixels as format F into DST, rows STRIDE bytes apart (padding
 * untouched); formats without alpha composite over white. */
void pixels_write(HwPixelFormat f, const guint8 *rgba, guint w, guint h, guint8 *dst,
                  gsize stride);

/* The encoded file kinds, by the names haywire gives them. */
#define CORPUS_N_ENCODINGS 5
extern const char *const corpus_encoding_names[CORPUS_N_ENCODINGS];

/* Encode W x H RGBA8 pixels as a file of encoding ENC (an index into
 * corpus_encoding_names); caller frees, NULL if the encoder failed. */
guint8 *picture_encode(guint enc, const guint8 *rgba, guint w, guint h, gsize *len);
