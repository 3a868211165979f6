/* BTF internals shared by the loader (btf-load.c) and the lookups (btf-lookup.c). */
#pragma once

#include <haywire/btf.h>
#include <haywire/error.h>
#include "le-bytes.h"

#include <string.h>

#define BTF_MAGIC 0xeb9fu
#define BTF_MAGIC_SWAPPED 0x9febu
#define BTF_VERSION 1
#define BTF_HDR_KNOWN 24u      /* bytes of struct btf_header we understand */
#define BTF_HDR_MAX 256u
#define BTF_TYPE_SIZE 12u      /* struct btf_type */
#define BTF_PTR_SIZE 8u        /* 64-bit guests only */
#define BTF_MAX_PATH_LEN 1024u
#define BTF_MAX_PATH_PARTS 64u

struct _HwBtf {
  const HwBtf *base;     /* split BTF (a module's): the BTF its ids and strings continue
                          * (borrowed), NULL for a base BTF */
  guint32 start_id;      /* the first id of our own types: 1, or after the base's */
  guint32 start_str;     /* our string offsets start here: 0, or the base's string bytes */
  guint8 *data;          /* our copy of the blob */
  gsize size;            /* bytes in DATA */
  const guint8 *types;   /* type section inside DATA */
  guint32 types_len;
  const char *strs;      /* string section inside DATA: starts and ends with NUL */
  guint32 strs_len;
  guint32 *offsets;      /* offsets[id - start_id + 1] of our type ID's record in TYPES;
                          * [0] unused */
  guint32 n_types;       /* valid ids are 1..n_types (the base's first) */
  GHashTable *structs;   /* struct/union name (in STRS) -> GUINT_TO_POINTER(id), first wins */
  GArray *enums;         /* guint32 ids of ENUM and ENUM64 types */
};

/* One type record, read from the copy. */
typedef struct {
  guint32 name_off;
  guint32 info;
  guint32 size_type;     /* size or referenced type id, by kind */
  const guint8 *extra;   /* the kind's data after the 12 bytes */
} BtfType;

static inline guint
info_kind(guint32 info)
{
  return (info >> 24) & 0x1f;
}

static inline guint
info_vlen(guint32 info)
{
  return info & 0xffff;
}

static inline gboolean
info_kind_flag(guint32 info)
{
  return (info >> 31) != 0;
}

static inline gboolean
is_modifier(guint kind)
{
  return kind == HW_BTF_KIND_TYPEDEF || kind == HW_BTF_KIND_VOLATILE ||
         kind == HW_BTF_KIND_CONST || kind == HW_BTF_KIND_RESTRICT ||
         kind == HW_BTF_KIND_TYPE_TAG;
}

static inline gboolean
is_composite(guint kind)
{
  return kind == HW_BTF_KIND_STRUCT || kind == HW_BTF_KIND_UNION;
}


/* The string at offset OFF of BTF's string space (the base's, then its own); NULL past
 * the end. */
static inline const char *
btf_str(const HwBtf *btf, guint32 off)
{
  if (off < btf->start_str)
    return btf_str(btf->base, off);
  if (off - btf->start_str >= btf->strs_len)
    return NULL;
  return btf->strs + (off - btf->start_str);
}
