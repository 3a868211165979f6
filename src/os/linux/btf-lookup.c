/* BTF lookups over a validated, indexed copy (btf-load.c): types by id and name, struct
 * members by dotted path (through anonymous structs and unions), enumerators. Walks
 * are bounded and cycle-checked: what the loader cannot check cheaply (modifier cycles,
 * anonymous structs that contain themselves, sizes that overflow) is caught here. */
#include "os/linux/btf-private.h"

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
  if (id < btf->start_id)
    return type_get(btf->base, id, t);
  const guint8 *rec = btf->types + btf->offsets[id - btf->start_id + 1];
  t->name_off = hw_le32(rec);
  t->info = hw_le32(rec + 4);
  t->size_type = hw_le32(rec + 8);
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
  return btf_str(btf, t.name_off);
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
  guint32 in_base = btf->base ? hw_btf_find_struct(btf->base, name) : 0;
  return in_base ? in_base : GPOINTER_TO_UINT(g_hash_table_lookup(btf->structs, name));
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
    guint32 nelems = hw_le32(t.extra + 8);
    if (nelems != 0 && mult > G_MAXUINT64 / nelems) {
      g_set_error(error, HW_ERROR, HW_ERROR_LIMIT, "BTF array type %u: size overflows", id);
      return FALSE;
    }
    mult *= nelems;
    id = hw_le32(t.extra);
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
    const char *mname = btf_str(btf, hw_le32(m));
    guint32 mtype = hw_le32(m + 4);
    guint32 off = hw_le32(m + 8);
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
      m.nelems = hw_le32(t.extra + 8);
      if (!resolve_one(btf, hw_le32(t.extra), &m.elem_type_id, error))
        return FALSE;
    } else if (m.kind == HW_BTF_KIND_PTR) {
      if (!resolve_one(btf, t.size_type, &m.elem_type_id, error))
        return FALSE;
    } else if (m.kind == HW_BTF_KIND_INT && !found->kind_flag) {
      /* Old-style bitfield: the int's encoding carries the bit offset and width. */
      guint32 enc = hw_le32(t.extra);
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
      g_set_error(error, HW_ERROR, HW_ERROR_NOT_FOUND, "%s%s has no member '%s'",
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
    g_set_error(error, HW_ERROR, HW_ERROR_NOT_FOUND, "no struct or union '%s' in BTF",
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
    g_set_error(error, HW_ERROR, HW_ERROR_NOT_FOUND, "no struct or union '%s' in BTF",
                struct_name ? struct_name : "(null)");
    return FALSE;
  }
  *size = t.size_type;
  return TRUE;
}

gboolean
hw_btf_enum_value(const HwBtf *btf, const char *name, gint64 *value, GError **error)
{
  if (btf->base != NULL && name != NULL && hw_btf_enum_value(btf->base, name, value, NULL))
    return TRUE;
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
        if (strcmp(btf_str(btf, hw_le32(e)), name) != 0)
          continue;
        if (is64)
          *value = (gint64) (((guint64) hw_le32(e + 8) << 32) | hw_le32(e + 4));
        else if (info_kind_flag(t.info))
          *value = (gint32) hw_le32(e + 4);
        else
          *value = hw_le32(e + 4);
        return TRUE;
      }
    }
  }
  g_set_error(error, HW_ERROR, HW_ERROR_NOT_FOUND, "no enumerator '%s' in BTF",
              name ? name : "(null)");
  return FALSE;
}
