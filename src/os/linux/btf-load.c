/* BTF (BPF Type Format) from guest memory: validated once, copied, then indexed.
 *
 * The blob is hostile. hw_btf_new checks every record fits the type section, every name
 * offset lies in the string section and every type id a record refers to exists, so the
 * lookups (btf-lookup.c) only need to trust the index. */
#include "os/linux/btf-private.h"

gboolean
hw_btf_check_header(const guint8 *data, gsize avail, gsize *total, GError **error)
{
  g_return_val_if_fail(data != NULL || avail == 0, FALSE);

  if (avail < BTF_HDR_KNOWN) {
    g_set_error(error, HW_ERROR, HW_ERROR_BTF,
                "BTF header truncated: %" G_GSIZE_FORMAT " bytes, need %u", avail, BTF_HDR_KNOWN);
    return FALSE;
  }
  guint16 magic = hw_le16(data);
  guint8 version = data[2];
  guint32 hdr_len = hw_le32(data + 4);
  guint32 type_off = hw_le32(data + 8), type_len = hw_le32(data + 12);
  guint32 str_off = hw_le32(data + 16), str_len = hw_le32(data + 20);

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
  if (name_off < btf->start_str || name_off - btf->start_str < btf->strs_len)
    return TRUE;
  g_set_error(error, HW_ERROR, HW_ERROR_BTF,
              "BTF type %u: %s %u name offset %u is past the string section (%u bytes)", id,
              what, idx, name_off, btf->start_str + btf->strs_len);
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
    note_ref(st, id, hw_le32(x));
    note_ref(st, id, hw_le32(x + 4));
    break;
  case HW_BTF_KIND_STRUCT:
  case HW_BTF_KIND_UNION: {
    gboolean kflag = info_kind_flag(t->info);
    guint64 size_bits = (guint64) t->size_type * 8;
    for (guint i = 0; i < vlen; i++, x += 12) {
      if (!check_name(btf, id, hw_le32(x), "member", i, error))
        return FALSE;
      note_ref(st, id, hw_le32(x + 4));
      guint32 off = hw_le32(x + 8);
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
      if (!check_name(btf, id, hw_le32(x), "enumerator", i, error))
        return FALSE;
    break;
  }
  case HW_BTF_KIND_FUNC_PROTO:
    note_ref(st, id, t->size_type);
    for (guint i = 0; i < vlen; i++, x += 8) {
      if (!check_name(btf, id, hw_le32(x), "parameter", i, error))
        return FALSE;
      note_ref(st, id, hw_le32(x + 4));
    }
    break;
  case HW_BTF_KIND_DATASEC:
    for (guint i = 0; i < vlen; i++, x += 12)
      note_ref(st, id, hw_le32(x));
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
    guint32 id = btf->start_id + n;
    guint32 left = btf->types_len - pos;
    if (left < BTF_TYPE_SIZE) {
      g_set_error(error, HW_ERROR, HW_ERROR_BTF,
                  "BTF type %u at offset %u: truncated record (%u bytes left)", id, pos, left);
      return FALSE;
    }
    const guint8 *rec = btf->types + pos;
    BtfType t = { hw_le32(rec), hw_le32(rec + 4), hw_le32(rec + 8), rec + BTF_TYPE_SIZE };
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

    btf->offsets[n + 1] = pos;
    n++;
    pos += BTF_TYPE_SIZE + extra;

    const char *name = btf_str(btf, t.name_off);
    if (is_composite(kind) && name[0] != '\0') {
      if (!g_hash_table_contains(btf->structs, name))
        g_hash_table_insert(btf->structs, (gpointer) name, GUINT_TO_POINTER(id));
    } else if (kind == HW_BTF_KIND_ENUM || kind == HW_BTF_KIND_ENUM64) {
      g_array_append_val(btf->enums, id);
    }
  }
  guint32 last = btf->start_id - 1 + n;
  if (st.max_ref > last) {
    g_set_error(error, HW_ERROR, HW_ERROR_BTF,
                "BTF type %u refers to type %u, but there are only %u types", st.max_ref_from,
                st.max_ref, last);
    return FALSE;
  }
  btf->n_types = last;
  btf->offsets = g_renew(guint32, btf->offsets, (gsize) n + 1);
  return TRUE;
}

static HwBtf *btf_new(const HwBtf *base, const guint8 *data, gsize size, GError **error);

HwBtf *
hw_btf_new(const guint8 *data, gsize size, GError **error)
{
  return btf_new(NULL, data, size, error);
}

HwBtf *
hw_btf_new_split(const HwBtf *base, const guint8 *data, gsize size, GError **error)
{
  g_return_val_if_fail(base != NULL, NULL);
  if (base->n_types >= G_MAXUINT32 / 2 || base->start_str + (guint64)base->strs_len >= G_MAXUINT32 / 2) {
    g_set_error(error, HW_ERROR, HW_ERROR_LIMIT, "base BTF too large to split");
    return NULL;
  }
  return btf_new(base, data, size, error);
}

static HwBtf *
btf_new(const HwBtf *base, const guint8 *data, gsize size, GError **error)
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
  btf->base = base;
  btf->start_id = base ? base->n_types + 1 : 1;
  btf->start_str = base ? base->start_str + base->strs_len : 0;
  if (!hw_btf_check_header(btf->data, btf->size, &total_copy, error)) {
    g_prefix_error(error, "BTF changed while being copied: ");
    return NULL;
  }
  if (total_copy != total) {
    g_set_error(error, HW_ERROR, HW_ERROR_BTF, "BTF changed while being copied");
    return NULL;
  }

  guint32 hdr_len = hw_le32(btf->data + 4);
  guint32 type_off = hw_le32(btf->data + 8), type_len = hw_le32(btf->data + 12);
  guint32 str_off = hw_le32(btf->data + 16), str_len = hw_le32(btf->data + 20);
  btf->types = btf->data + hdr_len + type_off;
  btf->types_len = type_len;
  btf->strs = (const char *) btf->data + hdr_len + str_off;
  btf->strs_len = str_len;
  /* A split BTF's offset 0 is the base's empty string: its own may start anyhow. */
  if (base == NULL && btf->strs[0] != '\0') {
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

