/* BTF (BPF Type Format) from guest memory: validated once, copied, then indexed.
 *
 * The blob is hostile. hw_btf_new checks every record fits the type section, every name
 * offset lies in the string section and every type id a record refers to exists, so the
 * accessors below only need to trust the index. What cannot be checked cheaply up front
 * (modifier cycles, anonymous structs that contain themselves, sizes that overflow) is
 * caught by bounded walks at lookup time. */
#include <haywire/btf.h>
#include <haywire/error.h>

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
  guint8 *data;          /* our copy of the blob */
  gsize size;            /* bytes in DATA */
  const guint8 *types;   /* type section inside DATA */
  guint32 types_len;
  const char *strs;      /* string section inside DATA: starts and ends with NUL */
  guint32 strs_len;
  guint32 *offsets;      /* offsets[id] of type ID's record in TYPES; [0] unused (void) */
  guint32 n_types;       /* valid ids are 1..n_types */
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

/* A chain being followed (modifiers, array elements): bounded and cycle-checked. */
typedef struct {
  guint32 seen[HW_BTF_MAX_HOPS];
  guint n;
} BtfWalk;

/* What a search of one struct found. */
typedef struct {
  guint64 bit_offset;    /* from the start of the searched struct */
  guint32 type_id;       /* the member's raw type */
  guint32 bitfield_size;
  gboolean kind_flag;    /* of the struct that holds the member directly */
} BtfFound;

typedef enum {
  SEARCH_ERROR,
  SEARCH_MISSING,
  SEARCH_FOUND,
} BtfSearch;

static inline guint16
rd16(const guint8 *p)
{
  guint16 v;
  memcpy(&v, p, sizeof v);
  return GUINT16_FROM_LE(v);
}

static inline guint32
rd32(const guint8 *p)
{
  guint32 v;
  memcpy(&v, p, sizeof v);
  return GUINT32_FROM_LE(v);
}

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

static gboolean
is_modifier(guint kind)
{
  return kind == HW_BTF_KIND_TYPEDEF || kind == HW_BTF_KIND_VOLATILE ||
         kind == HW_BTF_KIND_CONST || kind == HW_BTF_KIND_RESTRICT ||
         kind == HW_BTF_KIND_TYPE_TAG;
}

static gboolean
is_composite(guint kind)
{
  return kind == HW_BTF_KIND_STRUCT || kind == HW_BTF_KIND_UNION;
}

gboolean
hw_btf_check_header(const guint8 *data, gsize avail, gsize *total, GError **error)
{
  g_return_val_if_fail(data != NULL || avail == 0, FALSE);

  if (avail < BTF_HDR_KNOWN) {
    g_set_error(error, HW_ERROR, HW_ERROR_BTF,
                "BTF header truncated: %" G_GSIZE_FORMAT " bytes, need %u", avail, BTF_HDR_KNOWN);
    return FALSE;
  }
  guint16 magic = rd16(data);
  guint8 version = data[2];
  guint32 hdr_len = rd32(data + 4);
  guint32 type_off = rd32(data + 8), type_len = rd32(data + 12);
  guint32 str_off = rd32(data + 16), str_len = rd32(data + 20);

  if (magic == BTF_MAGIC_SWAPPED) {
    g_set_error(error, HW_ERROR, HW_ERROR_UNSUPPORTED, "big-endian BTF is not supported");
    return FALSE;
  }
  if (magic != BTF_MAGIC) {
    g_set_error(error, HW_ERROR, HW_ERROR_BTF, "bad BTF magic 0x%04x", magic);
    return FALSE;
  }
  if (version != BTF_VERSION) {
    g_set_error(error, HW_ERROR, HW_ERROR_BTF, "BTF version %u, only %u is known", version,
                BTF_VERSION);
    return FALSE;
  }
  if (hdr_len < BTF_HDR_KNOWN || hdr_len > BTF_HDR_MAX) {
    g_set_error(error, HW_ERROR, HW_ERROR_BTF, "BTF header length %u outside %u..%u", hdr_len,
                BTF_HDR_KNOWN, BTF_HDR_MAX);
    return FALSE;
  }
  if (type_off % 4 != 0) {
    g_set_error(error, HW_ERROR, HW_ERROR_BTF, "BTF type section offset %u is not 4-aligned",
                type_off);
    return FALSE;
  }

  guint64 type_end = (guint64) type_off + type_len;
  guint64 str_end = (guint64) str_off + str_len;
  guint64 all = (guint64) hdr_len + MAX(type_end, str_end);
  if (all > HW_BTF_MAX_SIZE) {
    g_set_error(error, HW_ERROR, HW_ERROR_LIMIT,
                "BTF of %" G_GUINT64_FORMAT " bytes is over the %u-byte limit", all,
                HW_BTF_MAX_SIZE);
    return FALSE;
  }
  if (str_len == 0) {
    g_set_error(error, HW_ERROR, HW_ERROR_BTF, "BTF has no string section");
    return FALSE;
  }
  if (type_len != 0 && type_off < str_end && str_off < type_end) {
    g_set_error(error, HW_ERROR, HW_ERROR_BTF,
                "BTF type section %u+%u overlaps string section %u+%u", type_off, type_len,
                str_off, str_len);
    return FALSE;
  }
  if (total)
    *total = (gsize) all;
  return TRUE;
}

/* Size of the kind data after the 12-byte record; FALSE for an unknown kind. */
static gboolean
kind_extra_size(guint kind, guint vlen, guint32 *extra)
{
  switch (kind) {
  case HW_BTF_KIND_PTR:
  case HW_BTF_KIND_FWD:
  case HW_BTF_KIND_TYPEDEF:
  case HW_BTF_KIND_VOLATILE:
  case HW_BTF_KIND_CONST:
  case HW_BTF_KIND_RESTRICT:
  case HW_BTF_KIND_FUNC:
  case HW_BTF_KIND_FLOAT:
  case HW_BTF_KIND_TYPE_TAG:
    *extra = 0;
    return TRUE;
  case HW_BTF_KIND_INT:
  case HW_BTF_KIND_VAR:
  case HW_BTF_KIND_DECL_TAG:
    *extra = 4;
    return TRUE;
  case HW_BTF_KIND_ARRAY:
    *extra = 12;
    return TRUE;
  case HW_BTF_KIND_STRUCT:
  case HW_BTF_KIND_UNION:
  case HW_BTF_KIND_DATASEC:
  case HW_BTF_KIND_ENUM64:
    *extra = vlen * 12u;
    return TRUE;
  case HW_BTF_KIND_ENUM:
  case HW_BTF_KIND_FUNC_PROTO:
    *extra = vlen * 8u;
    return TRUE;
  default:
    return FALSE;
  }
}

/* State of the one indexing pass. */
typedef struct {
  guint32 max_ref;       /* highest type id referred to */
  guint32 max_ref_from;  /* by this type */
} BtfIndexState;

static inline void
note_ref(BtfIndexState *st, guint32 from, guint32 ref)
{
  if (ref > st->max_ref) {
    st->max_ref = ref;
    st->max_ref_from = from;
  }
}

static gboolean
check_name(const HwBtf *btf, guint32 id, guint32 name_off, const char *what, guint idx,
           GError **error)
{
  if (name_off < btf->strs_len)
    return TRUE;
  g_set_error(error, HW_ERROR, HW_ERROR_BTF,
              "BTF type %u: %s %u name offset %u is past the string section (%u bytes)", id,
              what, idx, name_off, btf->strs_len);
  return FALSE;
}

/* Check the kind data of type ID (already known to fit) and note the ids it refers to. */
static gboolean
check_record(HwBtf *btf, BtfIndexState *st, guint32 id, const BtfType *t, GError **error)
{
  guint kind = info_kind(t->info);
  guint vlen = info_vlen(t->info);
  const guint8 *x = t->extra;

  switch (kind) {
  case HW_BTF_KIND_PTR:
  case HW_BTF_KIND_TYPEDEF:
  case HW_BTF_KIND_VOLATILE:
  case HW_BTF_KIND_CONST:
  case HW_BTF_KIND_RESTRICT:
  case HW_BTF_KIND_FUNC:
  case HW_BTF_KIND_VAR:
  case HW_BTF_KIND_DECL_TAG:
  case HW_BTF_KIND_TYPE_TAG:
    note_ref(st, id, t->size_type);
    break;
  case HW_BTF_KIND_ARRAY:
    note_ref(st, id, rd32(x));
    note_ref(st, id, rd32(x + 4));
    break;
  case HW_BTF_KIND_STRUCT:
  case HW_BTF_KIND_UNION: {
    gboolean kflag = info_kind_flag(t->info);
    guint64 size_bits = (guint64) t->size_type * 8;
    for (guint i = 0; i < vlen; i++, x += 12) {
      if (!check_name(btf, id, rd32(x), "member", i, error))
        return FALSE;
      note_ref(st, id, rd32(x + 4));
      guint32 off = rd32(x + 8);
      guint32 bit_off = kflag ? off & 0xffffffu : off;
      if (bit_off > size_bits) {
        g_set_error(error, HW_ERROR, HW_ERROR_BTF,
                    "BTF type %u: member %u at bit %u lies past the end (%u bytes)", id, i,
                    bit_off, t->size_type);
        return FALSE;
      }
    }
    break;
  }
  case HW_BTF_KIND_ENUM:
  case HW_BTF_KIND_ENUM64: {
    guint step = kind == HW_BTF_KIND_ENUM ? 8 : 12;
    for (guint i = 0; i < vlen; i++, x += step)
      if (!check_name(btf, id, rd32(x), "enumerator", i, error))
        return FALSE;
    break;
  }
  case HW_BTF_KIND_FUNC_PROTO:
    note_ref(st, id, t->size_type);
    for (guint i = 0; i < vlen; i++, x += 8) {
      if (!check_name(btf, id, rd32(x), "parameter", i, error))
        return FALSE;
      note_ref(st, id, rd32(x + 4));
    }
    break;
  case HW_BTF_KIND_DATASEC:
    for (guint i = 0; i < vlen; i++, x += 12)
      note_ref(st, id, rd32(x));
    break;
  default: /* INT, FWD, FLOAT: nothing referred to */
    break;
  }
  return TRUE;
}

/* One pass over the type section: offsets, checks, struct names, enums. */
static gboolean
index_types(HwBtf *btf, GError **error)
{
  BtfIndexState st = { 0 };
  guint32 max_types = btf->types_len / BTF_TYPE_SIZE;
  guint32 pos = 0, n = 0;

  btf->offsets = g_new(guint32, (gsize) max_types + 1);
  btf->offsets[0] = 0;
  while (pos < btf->types_len) {
    guint32 id = n + 1;
    guint32 left = btf->types_len - pos;
    if (left < BTF_TYPE_SIZE) {
      g_set_error(error, HW_ERROR, HW_ERROR_BTF,
                  "BTF type %u at offset %u: truncated record (%u bytes left)", id, pos, left);
      return FALSE;
    }
    const guint8 *rec = btf->types + pos;
    BtfType t = { rd32(rec), rd32(rec + 4), rd32(rec + 8), rec + BTF_TYPE_SIZE };
    guint kind = info_kind(t.info);
    guint32 extra;
    if (!kind_extra_size(kind, info_vlen(t.info), &extra)) {
      g_set_error(error, HW_ERROR, HW_ERROR_BTF, "BTF type %u at offset %u: unknown kind %u",
                  id, pos, kind);
      return FALSE;
    }
    if (extra > left - BTF_TYPE_SIZE) {
      g_set_error(error, HW_ERROR, HW_ERROR_BTF,
                  "BTF type %u at offset %u: kind %u with vlen %u runs past the type section",
                  id, pos, kind, info_vlen(t.info));
      return FALSE;
    }
    if (!check_name(btf, id, t.name_off, "type", 0, error))
      return FALSE;
    if (!check_record(btf, &st, id, &t, error))
      return FALSE;

    btf->offsets[id] = pos;
    n = id;
    pos += BTF_TYPE_SIZE + extra;

    if (is_composite(kind) && btf->strs[t.name_off] != '\0') {
      const char *name = btf->strs + t.name_off;
      if (!g_hash_table_contains(btf->structs, name))
        g_hash_table_insert(btf->structs, (gpointer) name, GUINT_TO_POINTER(id));
    } else if (kind == HW_BTF_KIND_ENUM || kind == HW_BTF_KIND_ENUM64) {
      g_array_append_val(btf->enums, id);
    }
  }
  if (st.max_ref > n) {
    g_set_error(error, HW_ERROR, HW_ERROR_BTF,
                "BTF type %u refers to type %u, but there are only %u types", st.max_ref_from,
                st.max_ref, n);
    return FALSE;
  }
  btf->n_types = n;
  btf->offsets = g_renew(guint32, btf->offsets, (gsize) n + 1);
  return TRUE;
}

HwBtf *
hw_btf_new(const guint8 *data, gsize size, GError **error)
{
  gsize total = 0, total_copy = 0;

  g_return_val_if_fail(data != NULL || size == 0, NULL);

  if (!hw_btf_check_header(data, size, &total, error))
    return NULL;
  if (total > size) {
    g_set_error(error, HW_ERROR, HW_ERROR_BTF,
                "BTF truncated: header describes %" G_GSIZE_FORMAT " bytes, %" G_GSIZE_FORMAT
                " given", total, size);
    return NULL;
  }

  /* From here on only the copy is read: the guest may rewrite DATA at any time. */
  g_autoptr(HwBtf) btf = g_new0(HwBtf, 1);
  btf->data = g_memdup2(data, total);
  btf->size = total;
  btf->structs = g_hash_table_new(g_str_hash, g_str_equal);
  btf->enums = g_array_new(FALSE, FALSE, sizeof(guint32));
  if (!hw_btf_check_header(btf->data, btf->size, &total_copy, error)) {
    g_prefix_error(error, "BTF changed while being copied: ");
    return NULL;
  }
  if (total_copy != total) {
    g_set_error(error, HW_ERROR, HW_ERROR_BTF, "BTF changed while being copied");
    return NULL;
  }

  guint32 hdr_len = rd32(btf->data + 4);
  guint32 type_off = rd32(btf->data + 8), type_len = rd32(btf->data + 12);
  guint32 str_off = rd32(btf->data + 16), str_len = rd32(btf->data + 20);
  btf->types = btf->data + hdr_len + type_off;
  btf->types_len = type_len;
  btf->strs = (const char *) btf->data + hdr_len + str_off;
  btf->strs_len = str_len;
  if (btf->strs[0] != '\0') {
    g_set_error(error, HW_ERROR, HW_ERROR_BTF, "BTF string section does not start with NUL");
    return NULL;
  }
  if (btf->strs[str_len - 1] != '\0') {
    g_set_error(error, HW_ERROR, HW_ERROR_BTF, "BTF string section does not end with NUL");
    return NULL;
  }
  if (!index_types(btf, error))
    return NULL;
  return g_steal_pointer(&btf);
}

void
hw_btf_free(HwBtf *btf)
{
  if (btf == NULL)
    return;
  g_clear_pointer(&btf->structs, g_hash_table_unref);
  g_clear_pointer(&btf->enums, g_array_unref);
  g_free(btf->offsets);
  g_free(btf->data);
  g_free(btf);
}

guint32
hw_btf_get_type_count(const HwBtf *btf)
{
  return btf->n_types;
}

gsize
hw_btf_get_size(const HwBtf *btf)
{
  return btf->size;
}

/* Type ID's record; FALSE for void and ids out of range. */
static gboolean
type_get(const HwBtf *btf, guint32 id, BtfType *t)
{
  if (id == 0 || id > btf->n_types)
    return FALSE;
  const guint8 *rec = btf->types + btf->offsets[id];
  t->name_off = rd32(rec);
  t->info = rd32(rec + 4);
  t->size_type = rd32(rec + 8);
  t->extra = rec + BTF_TYPE_SIZE;
  return TRUE;
}

static gboolean
type_get_or_error(const HwBtf *btf, guint32 id, BtfType *t, GError **error)
{
  if (type_get(btf, id, t))
    return TRUE;
  g_set_error(error, HW_ERROR, HW_ERROR_BTF, "BTF type id %u out of range (1..%u)", id,
              btf->n_types);
  return FALSE;
}

const char *
hw_btf_type_name(const HwBtf *btf, guint32 id)
{
  BtfType t;
  if (id == 0)
    return "void";
  if (!type_get(btf, id, &t))
    return NULL;
  return btf->strs + t.name_off;
}

HwBtfKind
hw_btf_type_kind(const HwBtf *btf, guint32 id)
{
  BtfType t;
  if (!type_get(btf, id, &t))
    return HW_BTF_KIND_UNKN;
  return (HwBtfKind) info_kind(t.info);
}

guint32
hw_btf_find_struct(const HwBtf *btf, const char *name)
{
  if (name == NULL)
    return 0;
  return GPOINTER_TO_UINT(g_hash_table_lookup(btf->structs, name));
}

/* Take one more step of WALK onto ID: fails on a cycle or past HW_BTF_MAX_HOPS. */
static gboolean
walk_step(BtfWalk *walk, guint32 id, GError **error)
{
  for (guint i = 0; i < walk->n; i++) {
    if (walk->seen[i] == id) {
      g_set_error(error, HW_ERROR, HW_ERROR_LIMIT, "BTF type %u is part of a cycle", id);
      return FALSE;
    }
  }
  if (walk->n == HW_BTF_MAX_HOPS) {
    g_set_error(error, HW_ERROR, HW_ERROR_LIMIT,
                "BTF type chain through %u is longer than %u hops", id, HW_BTF_MAX_HOPS);
    return FALSE;
  }
  walk->seen[walk->n++] = id;
  return TRUE;
}

/* Follow typedef/const/volatile/restrict/type_tag from ID to the type beneath (0 = void). */
static gboolean
resolve(const HwBtf *btf, BtfWalk *walk, guint32 id, guint32 *out, GError **error)
{
  BtfType t;
  while (id != 0) {
    if (!type_get_or_error(btf, id, &t, error))
      return FALSE;
    if (!is_modifier(info_kind(t.info)))
      break;
    if (!walk_step(walk, id, error))
      return FALSE;
    id = t.size_type;
  }
  *out = id;
  return TRUE;
}

static gboolean
resolve_one(const HwBtf *btf, guint32 id, guint32 *out, GError **error)
{
  BtfWalk walk = { .n = 0 };
  return resolve(btf, &walk, id, out, error);
}

/* Byte size of type ID: arrays multiply out, pointers are 8, functions and void 0. */
static gboolean
type_size(const HwBtf *btf, guint32 id, guint64 *size, GError **error)
{
  BtfWalk walk = { .n = 0 };
  guint64 mult = 1, base = 0;
  BtfType t;

  for (;;) {
    if (!resolve(btf, &walk, id, &id, error))
      return FALSE;
    if (id == 0) {
      *size = 0;
      return TRUE;
    }
    if (!type_get_or_error(btf, id, &t, error))
      return FALSE;
    if (info_kind(t.info) != HW_BTF_KIND_ARRAY)
      break;
    if (!walk_step(&walk, id, error))
      return FALSE;
    guint32 nelems = rd32(t.extra + 8);
    if (nelems != 0 && mult > G_MAXUINT64 / nelems) {
      g_set_error(error, HW_ERROR, HW_ERROR_LIMIT, "BTF array type %u: size overflows", id);
      return FALSE;
    }
    mult *= nelems;
    id = rd32(t.extra);
  }

  switch (info_kind(t.info)) {
  case HW_BTF_KIND_PTR:
    base = BTF_PTR_SIZE;
    break;
  case HW_BTF_KIND_INT:
  case HW_BTF_KIND_STRUCT:
  case HW_BTF_KIND_UNION:
  case HW_BTF_KIND_ENUM:
  case HW_BTF_KIND_ENUM64:
  case HW_BTF_KIND_FLOAT:
  case HW_BTF_KIND_DATASEC:
    base = t.size_type;
    break;
  default: /* FWD, FUNC, FUNC_PROTO, VAR, DECL_TAG: no size of their own */
    base = 0;
    break;
  }
  if (base != 0 && mult > G_MAXUINT64 / base) {
    g_set_error(error, HW_ERROR, HW_ERROR_LIMIT, "BTF type %u: array size overflows", id);
    return FALSE;
  }
  *size = mult * base;
  return TRUE;
}

/* Search struct/union SID for member NAME, descending into anonymous members. STACK holds
 * the structs being searched (depth 0 .. DEPTH), to catch a struct that holds itself; DONE
 * (made on first use) the anonymous structs already searched in vain, so that no struct is
 * searched twice however often it is used. */
static BtfSearch
search_struct(const HwBtf *btf, guint32 sid, const char *name, guint depth,
              guint32 stack[HW_BTF_MAX_ANON_DEPTH + 1], GHashTable **done, BtfFound *found,
              GError **error)
{
  BtfType t;
  if (!type_get_or_error(btf, sid, &t, error))
    return SEARCH_ERROR;
  gboolean kflag = info_kind_flag(t.info);
  guint vlen = info_vlen(t.info);
  const guint8 *m = t.extra;

  stack[depth] = sid;
  for (guint i = 0; i < vlen; i++, m += 12) {
    const char *mname = btf->strs + rd32(m);
    guint32 mtype = rd32(m + 4);
    guint32 off = rd32(m + 8);
    guint32 bit_off = kflag ? off & 0xffffffu : off;

    if (mname[0] != '\0') {
      if (strcmp(mname, name) != 0)
        continue;
      found->bit_offset = bit_off;
      found->type_id = mtype;
      found->bitfield_size = kflag ? off >> 24 : 0;
      found->kind_flag = kflag;
      return SEARCH_FOUND;
    }

    /* An anonymous member: look inside if it is a struct or union. */
    guint32 rid;
    if (!resolve_one(btf, mtype, &rid, error))
      return SEARCH_ERROR;
    if (rid == 0 || !is_composite(hw_btf_type_kind(btf, rid)))
      continue;
    for (guint d = 0; d <= depth; d++) {
      if (stack[d] == rid) {
        g_set_error(error, HW_ERROR, HW_ERROR_LIMIT,
                    "BTF struct %u contains itself through anonymous members", rid);
        return SEARCH_ERROR;
      }
    }
    if (*done != NULL && g_hash_table_contains(*done, GUINT_TO_POINTER(rid)))
      continue;
    if (depth >= HW_BTF_MAX_ANON_DEPTH) {
      g_set_error(error, HW_ERROR, HW_ERROR_LIMIT,
                  "BTF anonymous members of type %u nested deeper than %u", sid,
                  HW_BTF_MAX_ANON_DEPTH);
      return SEARCH_ERROR;
    }
    BtfSearch r = search_struct(btf, rid, name, depth + 1, stack, done, found, error);
    if (r == SEARCH_FOUND)
      found->bit_offset += bit_off;
    if (r != SEARCH_MISSING)
      return r;
    if (*done == NULL)
      *done = g_hash_table_new(NULL, NULL);
    g_hash_table_add(*done, GUINT_TO_POINTER(rid));
  }
  return SEARCH_MISSING;
}

/* Fill OUT for a member of raw type TYPE_ID at BIT_OFFSET from the outermost struct. */
static gboolean
describe_member(const HwBtf *btf, const BtfFound *found, guint64 bit_offset, HwBtfMember *out,
                GError **error)
{
  HwBtfMember m = { 0 };
  guint32 bitfield_size = found->bitfield_size;
  guint32 rid;
  BtfType t;

  if (!resolve_one(btf, found->type_id, &rid, error))
    return FALSE;
  if (!type_size(btf, rid, &m.size, error))
    return FALSE;
  m.type_id = rid;
  m.kind = hw_btf_type_kind(btf, rid);
  if (type_get(btf, rid, &t)) {
    if (m.kind == HW_BTF_KIND_ARRAY) {
      m.nelems = rd32(t.extra + 8);
      if (!resolve_one(btf, rd32(t.extra), &m.elem_type_id, error))
        return FALSE;
    } else if (m.kind == HW_BTF_KIND_PTR) {
      if (!resolve_one(btf, t.size_type, &m.elem_type_id, error))
        return FALSE;
    } else if (m.kind == HW_BTF_KIND_INT && !found->kind_flag) {
      /* Old-style bitfield: the int's encoding carries the bit offset and width. */
      guint32 enc = rd32(t.extra);
      guint32 bits = enc & 0xff, int_off = (enc >> 16) & 0xff;
      if (int_off != 0 || (bits != 0 && (guint64) bits != m.size * 8)) {
        bitfield_size = bits;
        bit_offset += int_off;
      }
    }
  }
  if (bit_offset > G_MAXUINT32) {
    g_set_error(error, HW_ERROR, HW_ERROR_LIMIT,
                "BTF member offset of %" G_GUINT64_FORMAT " bits does not fit 32 bits",
                bit_offset);
    return FALSE;
  }
  m.bit_offset = (guint32) bit_offset;
  m.offset = m.bit_offset / 8;
  m.bitfield_size = bitfield_size;
  *out = m;
  return TRUE;
}

gboolean
hw_btf_find_member_by_id(const HwBtf *btf, guint32 struct_id, const char *path,
                         HwBtfMember *out, GError **error)
{
  guint32 cur;

  if (path == NULL || path[0] == '\0' || strlen(path) > BTF_MAX_PATH_LEN) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "bad member path");
    return FALSE;
  }
  if (struct_id > btf->n_types) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "BTF type id %u out of range (1..%u)",
                struct_id, btf->n_types);
    return FALSE;
  }
  if (!resolve_one(btf, struct_id, &cur, error))
    return FALSE;
  if (cur == 0 || !is_composite(hw_btf_type_kind(btf, cur))) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT,
                "BTF type %u is not a struct or union", struct_id);
    return FALSE;
  }

  g_auto(GStrv) parts = g_strsplit(path, ".", BTF_MAX_PATH_PARTS + 1);
  if (g_strv_length(parts) > BTF_MAX_PATH_PARTS) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT,
                "member path '%s' has more than %u parts", path, BTF_MAX_PATH_PARTS);
    return FALSE;
  }

  BtfFound found = { 0 };
  guint64 bit_offset = 0;
  for (guint i = 0; parts[i] != NULL; i++) {
    if (parts[i][0] == '\0') {
      g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT,
                  "member path '%s' has an empty part", path);
      return FALSE;
    }
    if (i > 0) {
      if (!resolve_one(btf, found.type_id, &cur, error))
        return FALSE;
      if (cur == 0 || !is_composite(hw_btf_type_kind(btf, cur))) {
        g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT,
                    "'%s' in member path '%s' is not a struct or union", parts[i - 1], path);
        return FALSE;
      }
    }
    guint32 stack[HW_BTF_MAX_ANON_DEPTH + 1];
    g_autoptr(GHashTable) done = NULL;
    BtfSearch r = search_struct(btf, cur, parts[i], 0, stack, &done, &found, error);
    if (r == SEARCH_ERROR)
      return FALSE;
    if (r == SEARCH_MISSING) {
      const char *sname = hw_btf_type_name(btf, cur);
      g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "%s%s has no member '%s'",
                  hw_btf_type_kind(btf, cur) == HW_BTF_KIND_UNION ? "union " : "struct ",
                  sname[0] ? sname : "(anonymous)", parts[i]);
      return FALSE;
    }
    bit_offset += found.bit_offset;
  }
  return describe_member(btf, &found, bit_offset, out, error);
}

gboolean
hw_btf_find_member(const HwBtf *btf, const char *struct_name, const char *path,
                   HwBtfMember *out, GError **error)
{
  guint32 id = hw_btf_find_struct(btf, struct_name);
  if (id == 0) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "no struct or union '%s' in BTF",
                struct_name ? struct_name : "(null)");
    return FALSE;
  }
  if (!hw_btf_find_member_by_id(btf, id, path, out, error)) {
    g_prefix_error(error, "%s.%s: ", struct_name, path ? path : "(null)");
    return FALSE;
  }
  return TRUE;
}

gboolean
hw_btf_struct_size(const HwBtf *btf, const char *struct_name, guint64 *size, GError **error)
{
  BtfType t;
  guint32 id = hw_btf_find_struct(btf, struct_name);
  if (id == 0 || !type_get(btf, id, &t)) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "no struct or union '%s' in BTF",
                struct_name ? struct_name : "(null)");
    return FALSE;
  }
  *size = t.size_type;
  return TRUE;
}

gboolean
hw_btf_enum_value(const HwBtf *btf, const char *name, gint64 *value, GError **error)
{
  if (name != NULL && name[0] != '\0') {
    for (guint i = 0; i < btf->enums->len; i++) {
      BtfType t;
      if (!type_get(btf, g_array_index(btf->enums, guint32, i), &t))
        continue;
      gboolean is64 = info_kind(t.info) == HW_BTF_KIND_ENUM64;
      guint step = is64 ? 12 : 8;
      guint vlen = info_vlen(t.info);
      const guint8 *e = t.extra;
      for (guint j = 0; j < vlen; j++, e += step) {
        if (strcmp(btf->strs + rd32(e), name) != 0)
          continue;
        if (is64)
          *value = (gint64) (((guint64) rd32(e + 8) << 32) | rd32(e + 4));
        else if (info_kind_flag(t.info))
          *value = (gint32) rd32(e + 4);
        else
          *value = rd32(e + 4);
        return TRUE;
      }
    }
  }
  g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "no enumerator '%s' in BTF",
              name ? name : "(null)");
  return FALSE;
}
