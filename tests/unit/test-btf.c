/* BTF: synthetic blobs from a small builder, hostile blobs, and the host's vmlinux BTF. */
#include <haywire/btf.h>
#include "os/linux/linux-private.h"
#include <haywire/error.h>

#include <string.h>

#define HOST_VMLINUX_BTF "/sys/kernel/btf/vmlinux"

/* btf_header field offsets */
#define H_MAGIC 0
#define H_VERSION 2
#define H_HDR_LEN 4
#define H_TYPE_OFF 8
#define H_TYPE_LEN 12
#define H_STR_OFF 16
#define H_STR_LEN 20
#define HDR 24

/* ---- builder ---------------------------------------------------------------------------- */

typedef struct {
  GByteArray *types;
  GByteArray *strs;
  guint32 n;             /* id of the last type added */
  guint32 str_base;      /* split BTF: the base's string bytes, where ours start */
} Builder;

static void
builder_clear(Builder *b)
{
  g_clear_pointer(&b->types, g_byte_array_unref);
  g_clear_pointer(&b->strs, g_byte_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Builder, builder_clear)

static void
b_init(Builder *b)
{
  b->types = g_byte_array_new();
  b->strs = g_byte_array_new();
  b->n = 0;
  b->str_base = 0;
  g_byte_array_append(b->strs, (const guint8 *) "", 1);
}

static void
put32(guint8 *p, guint32 v)
{
  v = GUINT32_TO_LE(v);
  memcpy(p, &v, 4);
}

static guint32
get32(const guint8 *p)
{
  guint32 v;
  memcpy(&v, p, 4);
  return GUINT32_FROM_LE(v);
}

static void
b_u32(Builder *b, guint32 v)
{
  guint8 le[4];
  put32(le, v);
  g_byte_array_append(b->types, le, 4);
}

/* Offset of NAME in the string section ("" and NULL are 0). */
static guint32
b_str(Builder *b, const char *name)
{
  if (name == NULL || name[0] == '\0')
    return 0;
  guint32 off = b->strs->len;
  g_byte_array_append(b->strs, (const guint8 *) name, strlen(name) + 1);
  return b->str_base + off;
}

/* A bare 12-byte record with a raw name offset; the kind data follows with b_u32. */
static guint32
b_rec(Builder *b, guint32 name_off, guint kind, gboolean kflag, guint32 vlen, guint32 size_type)
{
  b_u32(b, name_off);
  b_u32(b, (kflag ? 1u << 31 : 0) | (guint32) kind << 24 | vlen);
  b_u32(b, size_type);
  return ++b->n;
}

static guint32
b_type(Builder *b, const char *name, guint kind, gboolean kflag, guint32 vlen, guint32 size_type)
{
  return b_rec(b, b_str(b, name), kind, kflag, vlen, size_type);
}

static guint32
b_int(Builder *b, const char *name, guint32 size, guint32 bits, guint32 bit_off)
{
  guint32 id = b_type(b, name, HW_BTF_KIND_INT, FALSE, 0, size);
  b_u32(b, bit_off << 16 | bits);
  return id;
}

static guint32
b_ref(Builder *b, guint kind, const char *name, guint32 target)
{
  return b_type(b, name, kind, FALSE, 0, target);
}

static guint32
b_array(Builder *b, guint32 elem, guint32 index, guint32 nelems)
{
  guint32 id = b_type(b, NULL, HW_BTF_KIND_ARRAY, FALSE, 0, 0);
  b_u32(b, elem);
  b_u32(b, index);
  b_u32(b, nelems);
  return id;
}

/* A struct or union header; add exactly VLEN members with b_member next. */
static guint32
b_struct(Builder *b, guint kind, const char *name, guint32 size, guint32 vlen, gboolean kflag)
{
  return b_type(b, name, kind, kflag, vlen, size);
}

static void
b_member(Builder *b, const char *name, guint32 type, guint32 bit_off, guint32 bitfield_size)
{
  b_u32(b, b_str(b, name));
  b_u32(b, type);
  b_u32(b, bitfield_size << 24 | bit_off);
}

static void
b_enumerator(Builder *b, const char *name, guint32 val)
{
  b_u32(b, b_str(b, name));
  b_u32(b, val);
}

static void
b_enumerator64(Builder *b, const char *name, guint64 val)
{
  b_u32(b, b_str(b, name));
  b_u32(b, (guint32) val);
  b_u32(b, (guint32) (val >> 32));
}

/* Header, types, strings: the layout the kernel emits. */
static GByteArray *
b_finish(Builder *b)
{
  GByteArray *blob = g_byte_array_sized_new(HDR + b->types->len + b->strs->len);
  guint8 hdr[HDR] = { 0x9f, 0xeb, 1, 0 };
  put32(hdr + H_HDR_LEN, HDR);
  put32(hdr + H_TYPE_OFF, 0);
  put32(hdr + H_TYPE_LEN, b->types->len);
  put32(hdr + H_STR_OFF, b->types->len);
  put32(hdr + H_STR_LEN, b->strs->len);
  g_byte_array_append(blob, hdr, HDR);
  g_byte_array_append(blob, b->types->data, b->types->len);
  g_byte_array_append(blob, b->strs->data, b->strs->len);
  return blob;
}

static HwBtf *
btf_from(GByteArray *blob)
{
  g_autoptr(GError) error = NULL;
  HwBtf *btf = hw_btf_new(blob->data, blob->len, &error);
  g_assert_no_error(error);
  g_assert_nonnull(btf);
  return btf;
}

/* ---- the good blob ---------------------------------------------------------------------- */

/* Type ids of the good blob, for the assertions. */
typedef struct {
  guint32 fwd_task, int_, uint, char_, ulong, list_head, list_head_ptr, inner, inner_const,
    inner_t, inner_vol, comm_arr, anon_struct, anon_union, task, mm, mm_const, mm_ptr, row,
    matrix, bits, int4, oldbits, state, ustate, flags64, sflags64, dup1, dup2, tagged,
    mm_tag, tag_ptr, proto, func, var, datasec, decl_tag, float_;
} Good;

static GByteArray *
build_good(Good *g)
{
  g_auto(Builder) b = { 0 };
  b_init(&b);

  /* A forward declaration first: find_struct must skip it for the body. */
  g->fwd_task = b_ref(&b, HW_BTF_KIND_FWD, "task", 0);
  g->int_ = b_int(&b, "int", 4, 32, 0);
  g->uint = b_int(&b, "unsigned int", 4, 32, 0);
  g->char_ = b_int(&b, "char", 1, 8, 0);
  g->ulong = b_int(&b, "long unsigned int", 8, 64, 0);

  g->list_head = b_struct(&b, HW_BTF_KIND_STRUCT, "list_head", 16, 2, FALSE);
  g->list_head_ptr = g->list_head + 1;
  b_member(&b, "next", g->list_head_ptr, 0, 0);
  b_member(&b, "prev", g->list_head_ptr, 64, 0);
  g_assert_cmpuint(b_ref(&b, HW_BTF_KIND_PTR, NULL, g->list_head), ==, g->list_head_ptr);

  g->inner = b_struct(&b, HW_BTF_KIND_STRUCT, "inner", 8, 2, FALSE);
  b_member(&b, "a", g->int_, 0, 0);
  b_member(&b, "b", g->int_, 32, 0);
  /* volatile inner_t, inner_t = typedef const struct inner */
  g->inner_const = b_ref(&b, HW_BTF_KIND_CONST, NULL, g->inner);
  g->inner_t = b_ref(&b, HW_BTF_KIND_TYPEDEF, "inner_t", g->inner_const);
  g->inner_vol = b_ref(&b, HW_BTF_KIND_VOLATILE, NULL, g->inner_t);

  g->comm_arr = b_array(&b, g->char_, g->int_, 16);

  /* union { struct { unsigned long vm_start, vm_end; }; struct list_head rcu; } */
  g->anon_struct = b_struct(&b, HW_BTF_KIND_STRUCT, NULL, 16, 2, FALSE);
  b_member(&b, "vm_start", g->ulong, 0, 0);
  b_member(&b, "vm_end", g->ulong, 64, 0);
  g->anon_union = b_struct(&b, HW_BTF_KIND_UNION, NULL, 16, 2, FALSE);
  b_member(&b, NULL, g->anon_struct, 0, 0);
  b_member(&b, "rcu", g->list_head, 0, 0);

  g->task = b_struct(&b, HW_BTF_KIND_STRUCT, "task", 128, 8, FALSE);
  g->mm = g->task + 1;
  g->mm_const = g->task + 2;
  g->mm_ptr = g->task + 3;
  g->row = g->task + 4;
  g->matrix = g->task + 5;
  b_member(&b, "tasks", g->list_head, 0, 0);
  b_member(&b, "pid", g->int_, 128, 0);
  b_member(&b, "comm", g->comm_arr, 160, 0);
  b_member(&b, NULL, g->anon_union, 320, 0);
  b_member(&b, "in", g->inner_vol, 448, 0);
  b_member(&b, "mm", g->mm_ptr, 512, 0);
  b_member(&b, "matrix", g->matrix, 576, 0);
  b_member(&b, "tail", g->ulong, 960, 0);

  g_assert_cmpuint(b_struct(&b, HW_BTF_KIND_STRUCT, "mm", 8, 1, FALSE), ==, g->mm);
  b_member(&b, "pgd", g->ulong, 0, 0);
  g_assert_cmpuint(b_ref(&b, HW_BTF_KIND_CONST, NULL, g->mm), ==, g->mm_const);
  g_assert_cmpuint(b_ref(&b, HW_BTF_KIND_PTR, NULL, g->mm_const), ==, g->mm_ptr);
  /* int matrix[3][4] */
  g_assert_cmpuint(b_array(&b, g->int_, g->int_, 4), ==, g->row);
  g_assert_cmpuint(b_array(&b, g->row, g->int_, 3), ==, g->matrix);

  /* struct bits { unsigned a:3, b:5; unsigned c:24; } with kind_flag */
  g->bits = b_struct(&b, HW_BTF_KIND_STRUCT, "bits", 4, 3, TRUE);
  b_member(&b, "a", g->uint, 0, 3);
  b_member(&b, "b", g->uint, 3, 5);
  b_member(&b, "c", g->uint, 8, 24);
  /* Old-style bitfield: no kind_flag, the int's encoding holds 4 bits at bit 2. */
  g->int4 = b_int(&b, "int", 4, 4, 2);
  g->oldbits = b_struct(&b, HW_BTF_KIND_STRUCT, "oldbits", 4, 2, FALSE);
  b_member(&b, "x", g->int4, 8, 0);
  b_member(&b, "whole", g->int_, 0, 0);

  g->state = b_type(&b, "state", HW_BTF_KIND_ENUM, TRUE, 2, 4);
  b_enumerator(&b, "ST_RUNNING", 0);
  b_enumerator(&b, "ST_DEAD", (guint32) -1);
  g->ustate = b_type(&b, "ustate", HW_BTF_KIND_ENUM, FALSE, 1, 4);
  b_enumerator(&b, "US_BIG", 0xfffffff0u);
  g->flags64 = b_type(&b, "flags64", HW_BTF_KIND_ENUM64, FALSE, 2, 8);
  b_enumerator64(&b, "F_LOW", 1);
  b_enumerator64(&b, "F_MASK", 0xfffff00000000000ull);
  g->sflags64 = b_type(&b, NULL, HW_BTF_KIND_ENUM64, TRUE, 1, 8);
  b_enumerator64(&b, "F_NEG", (guint64) -5);

  /* Two bodies with one name: the first wins. */
  g->dup1 = b_struct(&b, HW_BTF_KIND_UNION, "dup", 4, 1, FALSE);
  b_member(&b, "u", g->int_, 0, 0);
  g->dup2 = b_struct(&b, HW_BTF_KIND_STRUCT, "dup", 8, 1, FALSE);
  b_member(&b, "u", g->ulong, 32, 0);

  /* struct tagged { struct mm __tag *p; } */
  g->tagged = b_struct(&b, HW_BTF_KIND_STRUCT, "tagged", 8, 1, FALSE);
  g->mm_tag = g->tagged + 1;
  g->tag_ptr = g->tagged + 2;
  b_member(&b, "p", g->tag_ptr, 0, 0);
  g_assert_cmpuint(b_ref(&b, HW_BTF_KIND_TYPE_TAG, "user", g->mm), ==, g->mm_tag);
  g_assert_cmpuint(b_ref(&b, HW_BTF_KIND_PTR, NULL, g->mm_tag), ==, g->tag_ptr);

  /* The other kinds, so that every record length is walked. */
  g->proto = b_type(&b, NULL, HW_BTF_KIND_FUNC_PROTO, FALSE, 2, g->int_);
  b_u32(&b, b_str(&b, "t"));
  b_u32(&b, g->task);
  b_u32(&b, 0);          /* ... */
  b_u32(&b, 0);
  g->func = b_ref(&b, HW_BTF_KIND_FUNC, "do_thing", g->proto);
  g->var = b_type(&b, "jiffies", HW_BTF_KIND_VAR, FALSE, 0, g->ulong);
  b_u32(&b, 1);
  g->datasec = b_type(&b, ".data", HW_BTF_KIND_DATASEC, FALSE, 1, 8);
  b_u32(&b, g->var);
  b_u32(&b, 0);
  b_u32(&b, 8);
  g->decl_tag = b_type(&b, "percpu", HW_BTF_KIND_DECL_TAG, FALSE, 0, g->var);
  b_u32(&b, (guint32) -1);
  g->float_ = b_type(&b, "double", HW_BTF_KIND_FLOAT, FALSE, 0, 8);

  return b_finish(&b);
}

static void
assert_member(const HwBtf *btf, const char *sname, const char *path, guint32 offset,
              guint32 bit_offset, guint32 bitfield_size, guint32 type_id, HwBtfKind kind,
              guint64 size, guint32 nelems, guint32 elem_type_id)
{
  g_autoptr(GError) error = NULL;
  HwBtfMember m;
  memset(&m, 0xaa, sizeof m);
  gboolean ok = hw_btf_find_member(btf, sname, path, &m, &error);
  g_assert_no_error(error);
  g_assert_true(ok);
  g_assert_cmpuint(m.offset, ==, offset);
  g_assert_cmpuint(m.bit_offset, ==, bit_offset);
  g_assert_cmpuint(m.bitfield_size, ==, bitfield_size);
  g_assert_cmpuint(m.type_id, ==, type_id);
  g_assert_cmpint(m.kind, ==, kind);
  g_assert_cmpuint(m.size, ==, size);
  g_assert_cmpuint(m.nelems, ==, nelems);
  g_assert_cmpuint(m.elem_type_id, ==, elem_type_id);
}

static void
test_good_members(void)
{
  Good g;
  g_autoptr(GByteArray) blob = build_good(&g);
  g_autoptr(HwBtf) btf = btf_from(blob);

  assert_member(btf, "task", "tasks", 0, 0, 0, g.list_head, HW_BTF_KIND_STRUCT, 16, 0, 0);
  assert_member(btf, "task", "tasks.prev", 8, 64, 0, g.list_head_ptr, HW_BTF_KIND_PTR, 8, 0,
                g.list_head);
  assert_member(btf, "task", "pid", 16, 128, 0, g.int_, HW_BTF_KIND_INT, 4, 0, 0);
  assert_member(btf, "task", "comm", 20, 160, 0, g.comm_arr, HW_BTF_KIND_ARRAY, 16, 16, g.char_);
  /* Through the anonymous union and the anonymous struct inside it. */
  assert_member(btf, "task", "vm_start", 40, 320, 0, g.ulong, HW_BTF_KIND_INT, 8, 0, 0);
  assert_member(btf, "task", "vm_end", 48, 384, 0, g.ulong, HW_BTF_KIND_INT, 8, 0, 0);
  assert_member(btf, "task", "rcu.prev", 48, 384, 0, g.list_head_ptr, HW_BTF_KIND_PTR, 8, 0,
                g.list_head);
  /* volatile -> typedef -> const -> struct */
  assert_member(btf, "task", "in", 56, 448, 0, g.inner, HW_BTF_KIND_STRUCT, 8, 0, 0);
  assert_member(btf, "task", "in.b", 60, 480, 0, g.int_, HW_BTF_KIND_INT, 4, 0, 0);
  /* The pointee is resolved past its const. */
  assert_member(btf, "task", "mm", 64, 512, 0, g.mm_ptr, HW_BTF_KIND_PTR, 8, 0, g.mm);
  assert_member(btf, "task", "matrix", 72, 576, 0, g.matrix, HW_BTF_KIND_ARRAY, 48, 3, g.row);
  assert_member(btf, "task", "tail", 120, 960, 0, g.ulong, HW_BTF_KIND_INT, 8, 0, 0);
  assert_member(btf, "mm", "pgd", 0, 0, 0, g.ulong, HW_BTF_KIND_INT, 8, 0, 0);
  /* Bitfields with kind_flag. */
  assert_member(btf, "bits", "a", 0, 0, 3, g.uint, HW_BTF_KIND_INT, 4, 0, 0);
  assert_member(btf, "bits", "b", 0, 3, 5, g.uint, HW_BTF_KIND_INT, 4, 0, 0);
  assert_member(btf, "bits", "c", 1, 8, 24, g.uint, HW_BTF_KIND_INT, 4, 0, 0);
  /* Old-style bitfield: the int encoding's offset is added. */
  assert_member(btf, "oldbits", "x", 1, 10, 4, g.int4, HW_BTF_KIND_INT, 4, 0, 0);
  assert_member(btf, "oldbits", "whole", 0, 0, 0, g.int_, HW_BTF_KIND_INT, 4, 0, 0);
  /* First body with the name wins. */
  assert_member(btf, "dup", "u", 0, 0, 0, g.int_, HW_BTF_KIND_INT, 4, 0, 0);
  /* Type tags are skipped like const. */
  assert_member(btf, "tagged", "p", 0, 0, 0, g.tag_ptr, HW_BTF_KIND_PTR, 8, 0, g.mm);

  /* By id, through modifiers. */
  g_autoptr(GError) error = NULL;
  HwBtfMember m;
  g_assert_true(hw_btf_find_member_by_id(btf, g.inner_vol, "b", &m, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(m.offset, ==, 4);
  g_assert_true(hw_btf_find_member_by_id(btf, g.anon_union, "vm_end", &m, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(m.offset, ==, 8);
}

static void
test_good_types(void)
{
  Good g;
  g_autoptr(GByteArray) blob = build_good(&g);
  g_autoptr(HwBtf) btf = btf_from(blob);
  g_autoptr(GError) error = NULL;
  guint64 size = 0;

  g_assert_cmpuint(hw_btf_get_type_count(btf), ==, g.float_);
  g_assert_cmpuint(hw_btf_get_size(btf), ==, blob->len);

  g_assert_cmpuint(hw_btf_find_struct(btf, "task"), ==, g.task);
  g_assert_cmpuint(hw_btf_find_struct(btf, "list_head"), ==, g.list_head);
  g_assert_cmpuint(hw_btf_find_struct(btf, "dup"), ==, g.dup1);
  g_assert_cmpuint(hw_btf_find_struct(btf, "inner_t"), ==, 0);  /* a typedef */
  g_assert_cmpuint(hw_btf_find_struct(btf, "state"), ==, 0);    /* an enum */
  g_assert_cmpuint(hw_btf_find_struct(btf, "nosuch"), ==, 0);
  g_assert_cmpuint(hw_btf_find_struct(btf, ""), ==, 0);
  g_assert_cmpuint(hw_btf_find_struct(btf, NULL), ==, 0);

  g_assert_true(hw_btf_struct_size(btf, "task", &size, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(size, ==, 128);
  g_assert_true(hw_btf_struct_size(btf, "dup", &size, &error));
  g_assert_cmpuint(size, ==, 4);
  g_assert_false(hw_btf_struct_size(btf, "nosuch", &size, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_NOT_FOUND);

  g_assert_cmpstr(hw_btf_type_name(btf, 0), ==, "void");
  g_assert_cmpstr(hw_btf_type_name(btf, g.task), ==, "task");
  g_assert_cmpstr(hw_btf_type_name(btf, g.fwd_task), ==, "task");
  g_assert_cmpstr(hw_btf_type_name(btf, g.anon_union), ==, "");
  g_assert_cmpstr(hw_btf_type_name(btf, g.float_), ==, "double");
  g_assert_null(hw_btf_type_name(btf, g.float_ + 1));
  g_assert_null(hw_btf_type_name(btf, G_MAXUINT32));

  g_assert_cmpint(hw_btf_type_kind(btf, 0), ==, HW_BTF_KIND_UNKN);
  g_assert_cmpint(hw_btf_type_kind(btf, g.fwd_task), ==, HW_BTF_KIND_FWD);
  g_assert_cmpint(hw_btf_type_kind(btf, g.anon_union), ==, HW_BTF_KIND_UNION);
  g_assert_cmpint(hw_btf_type_kind(btf, g.inner_t), ==, HW_BTF_KIND_TYPEDEF);
  g_assert_cmpint(hw_btf_type_kind(btf, g.mm_tag), ==, HW_BTF_KIND_TYPE_TAG);
  g_assert_cmpint(hw_btf_type_kind(btf, g.proto), ==, HW_BTF_KIND_FUNC_PROTO);
  g_assert_cmpint(hw_btf_type_kind(btf, g.func), ==, HW_BTF_KIND_FUNC);
  g_assert_cmpint(hw_btf_type_kind(btf, g.var), ==, HW_BTF_KIND_VAR);
  g_assert_cmpint(hw_btf_type_kind(btf, g.datasec), ==, HW_BTF_KIND_DATASEC);
  g_assert_cmpint(hw_btf_type_kind(btf, g.decl_tag), ==, HW_BTF_KIND_DECL_TAG);
  g_assert_cmpint(hw_btf_type_kind(btf, g.float_), ==, HW_BTF_KIND_FLOAT);
  g_assert_cmpint(hw_btf_type_kind(btf, g.sflags64), ==, HW_BTF_KIND_ENUM64);
  g_assert_cmpint(hw_btf_type_kind(btf, g.float_ + 1), ==, HW_BTF_KIND_UNKN);
}

static void
test_good_enums(void)
{
  Good g;
  g_autoptr(GByteArray) blob = build_good(&g);
  g_autoptr(HwBtf) btf = btf_from(blob);
  static const struct {
    const char *name;
    gint64 value;
  } want[] = {
    { "ST_RUNNING", 0 },
    { "ST_DEAD", -1 },                          /* signed enum (kind_flag) */
    { "US_BIG", 0xfffffff0 },                   /* unsigned enum: not sign-extended */
    { "F_LOW", 1 },
    { "F_MASK", (gint64) 0xfffff00000000000ull },
    { "F_NEG", -5 },
  };

  for (guint i = 0; i < G_N_ELEMENTS(want); i++) {
    g_autoptr(GError) error = NULL;
    gint64 v = 12345;
    g_assert_true(hw_btf_enum_value(btf, want[i].name, &v, &error));
    g_assert_no_error(error);
    g_assert_cmpint(v, ==, want[i].value);
  }
  static const char *const missing[] = { "ST", "ST_DEAD_", "state", "", NULL };
  for (guint i = 0; i < G_N_ELEMENTS(missing); i++) {
    g_autoptr(GError) error = NULL;
    gint64 v = 12345;
    g_assert_false(hw_btf_enum_value(btf, missing[i], &v, &error));
    g_assert_error(error, HW_ERROR, HW_ERROR_NOT_FOUND);
    g_assert_cmpint(v, ==, 12345);
  }
}

/* Lookups the caller gets wrong: INVALID_ARGUMENT, never a crash. */
static void
test_bad_lookups(void)
{
  Good g;
  g_autoptr(GByteArray) blob = build_good(&g);
  g_autoptr(HwBtf) btf = btf_from(blob);
  static const struct {
    const char *sname;
    const char *path;
  } bad[] = {
    { "nosuch", "tasks" },
    { NULL, "tasks" },
    { "task", "nosuch" },
    { "task", "" },
    { "task", NULL },
    { "task", "." },
    { "task", "tasks." },
    { ".tasks", "tasks" },
    { "task", "tasks..next" },
    { "task", "comm.x" },         /* into an array */
    { "task", "mm.pgd" },         /* through a pointer */
    { "task", "pid.x" },          /* into an int */
    { "task", "tasks.next.next" },
    { "task", "Tasks" },
    { "mm", "tasks" },
    { "state", "ST_DEAD" },       /* an enum is not a struct */
    { "inner_t", "a" },           /* typedefs are not found by name */
  };

  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) error = NULL;
    HwBtfMember m;
    g_assert_false(hw_btf_find_member(btf, bad[i].sname, bad[i].path, &m, &error));
    /* A name that is not there: NOT_FOUND; a path through a non-struct: INVALID_ARGUMENT. */
    g_assert_true(g_error_matches(error, HW_ERROR, HW_ERROR_NOT_FOUND) ||
                  g_error_matches(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT));
  }

  g_autoptr(GString) long_path = g_string_new("tasks");
  for (guint i = 0; i < 70; i++)
    g_string_append(long_path, ".next");
  guint32 ids[] = { 0, g.int_, g.comm_arr, g.list_head_ptr, g.fwd_task, g.float_ + 1,
                    G_MAXUINT32 };
  for (guint i = 0; i < G_N_ELEMENTS(ids); i++) {
    g_autoptr(GError) error = NULL;
    HwBtfMember m;
    g_assert_false(hw_btf_find_member_by_id(btf, ids[i], "tasks", &m, &error));
    g_assert_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT);
  }
  g_autoptr(GError) error = NULL;
  HwBtfMember m;
  g_assert_false(hw_btf_find_member(btf, "task", long_path->str, &m, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT);
}

/* A header longer than 24 bytes is accepted; its extra bytes are not looked at. */
static void
test_long_header(void)
{
  Good g;
  g_autoptr(GByteArray) good = build_good(&g);
  g_autoptr(GByteArray) blob = g_byte_array_new();
  guint8 pad[40];
  memset(pad, 0x5a, sizeof pad);
  g_byte_array_append(blob, good->data, HDR);
  g_byte_array_append(blob, pad, sizeof pad);  /* hdr_len 64 */
  g_byte_array_append(blob, good->data + HDR, good->len - HDR);
  put32(blob->data + H_HDR_LEN, HDR + sizeof pad);
  g_autoptr(HwBtf) btf = btf_from(blob);
  assert_member(btf, "task", "comm", 20, 160, 0, g.comm_arr, HW_BTF_KIND_ARRAY, 16, 16, g.char_);

  gsize total = 0;
  g_autoptr(GError) error = NULL;
  g_assert_true(hw_btf_check_header(blob->data, HDR, &total, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(total, ==, blob->len);
}

/* Strings before types, a gap between them, and bytes after the end are all fine; the
 * copy is independent of the caller's buffer. */
static void
test_layout(void)
{
  Good g;
  g_autoptr(GByteArray) good = build_good(&g);
  guint32 type_len = get32(good->data + H_TYPE_LEN), str_len = get32(good->data + H_STR_LEN);
  g_autoptr(GByteArray) blob = g_byte_array_new();
  guint8 hdr[HDR];
  guint8 gap[8] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

  memcpy(hdr, good->data, HDR);
  put32(hdr + H_STR_OFF, 0);
  put32(hdr + H_TYPE_OFF, str_len + 1 + sizeof gap);  /* str_len + 1 + 8: keep 4-aligned */
  while (get32(hdr + H_TYPE_OFF) % 4)
    put32(hdr + H_TYPE_OFF, get32(hdr + H_TYPE_OFF) + 1);
  g_byte_array_append(blob, hdr, HDR);
  g_byte_array_append(blob, good->data + HDR + type_len, str_len);
  while (blob->len < HDR + get32(hdr + H_TYPE_OFF))
    g_byte_array_append(blob, gap, 1);
  g_byte_array_append(blob, good->data + HDR, type_len);
  g_byte_array_append(blob, gap, sizeof gap);  /* trailing bytes: not part of the BTF */

  g_autoptr(GError) error = NULL;
  g_autoptr(HwBtf) btf = hw_btf_new(blob->data, blob->len, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(hw_btf_get_size(btf), ==, blob->len - sizeof gap);
  memset(blob->data, 0, blob->len);
  assert_member(btf, "task", "vm_end", 48, 384, 0, g.ulong, HW_BTF_KIND_INT, 8, 0, 0);
  g_assert_cmpuint(hw_btf_get_type_count(btf), ==, g.float_);
}

/* No types at all is a valid (if useless) BTF. */
static void
test_empty(void)
{
  g_auto(Builder) b = { 0 };
  b_init(&b);
  g_autoptr(GByteArray) blob = b_finish(&b);
  g_autoptr(HwBtf) btf = btf_from(blob);
  g_assert_cmpuint(hw_btf_get_type_count(btf), ==, 0);
  g_assert_cmpuint(hw_btf_find_struct(btf, "task"), ==, 0);
  g_assert_null(hw_btf_type_name(btf, 1));
}

/* Offsets from a BTF without the kernel's structs fail cleanly, also for a caller that
 * passes no GError (that once dereferenced NULL). */
static void
test_offsets_missing(void)
{
  g_auto(Builder) b = { 0 };
  b_init(&b);
  g_autoptr(GByteArray) blob = b_finish(&b);
  g_autoptr(HwBtf) btf = btf_from(blob);
  HwLinuxOffsets off;
  g_assert_false(hw_linux_offsets_load(btf, &off, NULL));
  g_autoptr(GError) error = NULL;
  g_assert_false(hw_linux_offsets_load(btf, &off, &error));
  g_assert_nonnull(error);
  g_assert_nonnull(strstr(error->message, "task_struct"));
}

/* ---- chains at their limits ------------------------------------------------------------- */

/* struct s { T x; } where T is N typedefs deep over int. */
static GByteArray *
build_typedef_chain(guint n)
{
  g_auto(Builder) b = { 0 };
  b_init(&b);
  guint32 t = b_int(&b, "int", 4, 32, 0);
  for (guint i = 0; i < n; i++)
    t = b_ref(&b, i % 2 ? HW_BTF_KIND_CONST : HW_BTF_KIND_TYPEDEF, i % 2 ? NULL : "t", t);
  b_struct(&b, HW_BTF_KIND_STRUCT, "s", 4, 1, FALSE);
  b_member(&b, "x", t, 0, 0);
  return b_finish(&b);
}

/* struct s { int pad; struct { ... struct { int deep; }; ... }; } N anonymous levels. */
static GByteArray *
build_anon_chain(guint n)
{
  g_auto(Builder) b = { 0 };
  b_init(&b);
  guint32 t = b_int(&b, "int", 4, 32, 0);
  guint32 inner = b_struct(&b, HW_BTF_KIND_STRUCT, NULL, 4, 1, FALSE);
  b_member(&b, "deep", t, 0, 0);
  for (guint i = 1; i < n; i++) {
    guint32 next = b_struct(&b, i % 2 ? HW_BTF_KIND_UNION : HW_BTF_KIND_STRUCT, NULL, 4 + i, 2,
                            FALSE);
    b_member(&b, "pad", t, 0, 0);
    b_member(&b, NULL, inner, 8, 0);
    inner = next;
  }
  b_struct(&b, HW_BTF_KIND_STRUCT, "s", 8 + n, 2, FALSE);
  b_member(&b, "top", t, 0, 0);
  b_member(&b, NULL, inner, 32, 0);
  return b_finish(&b);
}

static void
test_limits_ok(void)
{
  g_autoptr(GError) error = NULL;
  HwBtfMember m;

  g_autoptr(GByteArray) chain = build_typedef_chain(HW_BTF_MAX_HOPS);
  g_autoptr(HwBtf) btf = btf_from(chain);
  g_assert_true(hw_btf_find_member(btf, "s", "x", &m, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(m.type_id, ==, 1);
  g_assert_cmpuint(m.size, ==, 4);

  /* HW_BTF_MAX_ANON_DEPTH anonymous levels below the named struct. */
  g_autoptr(GByteArray) anon = build_anon_chain(HW_BTF_MAX_ANON_DEPTH);
  g_autoptr(HwBtf) btf2 = btf_from(anon);
  g_assert_true(hw_btf_find_member(btf2, "s", "deep", &m, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(m.bit_offset, ==, 32 + 8 * (HW_BTF_MAX_ANON_DEPTH - 1));
}

/* 16 levels, each with 2000 anonymous members of the next level: a naive search would
 * visit 2000^16 structs; a missing name must still fail fast. */
static void
test_anon_fanout(void)
{
  g_auto(Builder) b = { 0 };
  b_init(&b);
  guint32 t = b_int(&b, "int", 4, 32, 0);
  guint32 inner = b_struct(&b, HW_BTF_KIND_STRUCT, NULL, 4, 1, FALSE);
  b_member(&b, "leaf", t, 0, 0);
  for (guint i = 0; i < HW_BTF_MAX_ANON_DEPTH - 1; i++) {
    guint32 next = b_struct(&b, HW_BTF_KIND_UNION, NULL, 4, 2000, FALSE);
    for (guint j = 0; j < 2000; j++)
      b_member(&b, NULL, inner, 0, 0);
    inner = next;
  }
  b_struct(&b, HW_BTF_KIND_STRUCT, "s", 4, 1, FALSE);
  b_member(&b, NULL, inner, 0, 0);
  g_autoptr(GByteArray) blob = b_finish(&b);
  g_autoptr(HwBtf) btf = btf_from(blob);
  g_autoptr(GError) error = NULL;
  HwBtfMember m;

  gint64 start = g_get_monotonic_time();
  g_assert_false(hw_btf_find_member(btf, "s", "nosuch", &m, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_NOT_FOUND);
  g_assert_cmpint(g_get_monotonic_time() - start, <, 10 * G_USEC_PER_SEC);
  g_clear_error(&error);
  g_assert_true(hw_btf_find_member(btf, "s", "leaf", &m, &error));
  g_assert_no_error(error);
}

/* ---- hostile blobs ---------------------------------------------------------------------- */

/* A small valid blob: int, struct s { int x; struct s *next; }, enum e { E1 }. */
static GByteArray *
build_small(void)
{
  g_auto(Builder) b = { 0 };
  b_init(&b);
  guint32 t = b_int(&b, "int", 4, 32, 0);
  guint32 s = b_struct(&b, HW_BTF_KIND_STRUCT, "s", 16, 2, FALSE);
  b_member(&b, "x", t, 0, 0);
  b_member(&b, "next", s + 1, 64, 0);
  b_ref(&b, HW_BTF_KIND_PTR, NULL, s);
  b_type(&b, "e", HW_BTF_KIND_ENUM, FALSE, 1, 4);
  b_enumerator(&b, "E1", 1);
  return b_finish(&b);
}

/* Offsets of the small blob's pieces. */
#define SMALL_INT HDR                     /* int: 16 bytes */
#define SMALL_STRUCT (SMALL_INT + 16)     /* struct s: 12 + 2 * 12 */
#define SMALL_PTR (SMALL_STRUCT + 36)     /* ptr: 12 */
#define SMALL_ENUM (SMALL_PTR + 12)       /* enum: 12 + 8 */
#define SMALL_TYPES_END (SMALL_ENUM + 20)

static void
patch(GByteArray *blob, guint off, guint32 v)
{
  g_assert_cmpuint(off + 4, <=, blob->len);
  put32(blob->data + off, v);
}

static guint32
hdr_field(GByteArray *blob, guint off)
{
  return get32(blob->data + off);
}

static GByteArray *
bad_magic(void)
{
  GByteArray *blob = build_small();
  blob->data[0] = 0x9e;
  return blob;
}

static GByteArray *
swapped_magic(void)
{
  GByteArray *blob = build_small();
  blob->data[0] = 0xeb;
  blob->data[1] = 0x9f;
  return blob;
}

static GByteArray *
bad_version(void)
{
  GByteArray *blob = build_small();
  blob->data[H_VERSION] = 2;
  return blob;
}

static GByteArray *
version_zero(void)
{
  GByteArray *blob = build_small();
  blob->data[H_VERSION] = 0;
  return blob;
}

static GByteArray *
hdr_len_small(void)
{
  GByteArray *blob = build_small();
  patch(blob, H_HDR_LEN, 20);
  return blob;
}

static GByteArray *
hdr_len_zero(void)
{
  GByteArray *blob = build_small();
  patch(blob, H_HDR_LEN, 0);
  return blob;
}

static GByteArray *
hdr_len_huge(void)
{
  GByteArray *blob = build_small();
  patch(blob, H_HDR_LEN, 257);
  return blob;
}

static GByteArray *
hdr_len_max(void)
{
  GByteArray *blob = build_small();
  patch(blob, H_HDR_LEN, G_MAXUINT32);
  return blob;
}

static GByteArray *
truncated_header(void)
{
  GByteArray *blob = build_small();
  g_byte_array_set_size(blob, HDR - 1);
  return blob;
}

static GByteArray *
type_section_oob(void)
{
  GByteArray *blob = build_small();
  patch(blob, H_TYPE_LEN, hdr_field(blob, H_TYPE_LEN) + hdr_field(blob, H_STR_LEN) + 4);
  patch(blob, H_STR_OFF, 0);  /* keep it from overlapping: strings first */
  patch(blob, H_TYPE_OFF, 4);
  return blob;
}

static GByteArray *
type_off_huge(void)
{
  GByteArray *blob = build_small();
  patch(blob, H_TYPE_OFF, 0xfffffff0u);
  return blob;
}

static GByteArray *
type_off_unaligned(void)
{
  GByteArray *blob = build_small();
  patch(blob, H_TYPE_OFF, 2);
  return blob;
}

static GByteArray *
str_section_oob(void)
{
  GByteArray *blob = build_small();
  patch(blob, H_STR_LEN, hdr_field(blob, H_STR_LEN) + 1);
  return blob;
}

static GByteArray *
str_off_huge(void)
{
  GByteArray *blob = build_small();
  patch(blob, H_STR_OFF, G_MAXUINT32);
  return blob;
}

static GByteArray *
str_len_huge(void)
{
  GByteArray *blob = build_small();
  patch(blob, H_STR_LEN, G_MAXUINT32);
  return blob;
}

static GByteArray *
str_section_empty(void)
{
  GByteArray *blob = build_small();
  patch(blob, H_STR_LEN, 0);
  return blob;
}

static GByteArray *
sections_overlap(void)
{
  GByteArray *blob = build_small();
  patch(blob, H_STR_OFF, hdr_field(blob, H_STR_OFF) - 4);
  return blob;
}

static GByteArray *
str_no_leading_nul(void)
{
  GByteArray *blob = build_small();
  blob->data[HDR + hdr_field(blob, H_STR_OFF)] = 'x';
  return blob;
}

static GByteArray *
str_no_trailing_nul(void)
{
  GByteArray *blob = build_small();
  blob->data[blob->len - 1] = 'x';
  return blob;
}

static GByteArray *
total_over_cap(void)
{
  /* Only the header: the sizes alone must be refused. */
  GByteArray *blob = build_small();
  patch(blob, H_STR_LEN, HW_BTF_MAX_SIZE);
  return blob;
}

static GByteArray *
truncated_blob(void)
{
  GByteArray *blob = build_small();
  g_byte_array_set_size(blob, blob->len - 1);
  return blob;
}

static GByteArray *
type_name_oob(void)
{
  GByteArray *blob = build_small();
  patch(blob, SMALL_INT, hdr_field(blob, H_STR_LEN));
  return blob;
}

static GByteArray *
type_name_huge(void)
{
  GByteArray *blob = build_small();
  patch(blob, SMALL_STRUCT, G_MAXUINT32);
  return blob;
}

static GByteArray *
member_name_oob(void)
{
  GByteArray *blob = build_small();
  patch(blob, SMALL_STRUCT + 12 + 12, hdr_field(blob, H_STR_LEN) + 100);
  return blob;
}

static GByteArray *
enumerator_name_oob(void)
{
  GByteArray *blob = build_small();
  patch(blob, SMALL_ENUM + 12, 0x80000000u);
  return blob;
}

static GByteArray *
vlen_past_section(void)
{
  GByteArray *blob = build_small();
  patch(blob, SMALL_ENUM + 4, (guint32) HW_BTF_KIND_ENUM << 24 | 3);
  return blob;
}

static GByteArray *
vlen_max(void)
{
  GByteArray *blob = build_small();
  patch(blob, SMALL_STRUCT + 4, (guint32) HW_BTF_KIND_STRUCT << 24 | 0xffff);
  return blob;
}

static GByteArray *
truncated_record(void)
{
  /* The type section ends 8 bytes into a record. */
  g_auto(Builder) b = { 0 };
  b_init(&b);
  b_int(&b, "int", 4, 32, 0);
  b_u32(&b, 0);
  b_u32(&b, (guint32) HW_BTF_KIND_PTR << 24);
  return b_finish(&b);
}

static GByteArray *
truncated_kind_data(void)
{
  /* An array record with 8 of its 12 bytes of kind data. */
  g_auto(Builder) b = { 0 };
  b_init(&b);
  b_int(&b, "int", 4, 32, 0);
  b_type(&b, NULL, HW_BTF_KIND_ARRAY, FALSE, 0, 0);
  b_u32(&b, 1);
  b_u32(&b, 1);
  return b_finish(&b);
}

static GByteArray *
kind_unknown(void)
{
  GByteArray *blob = build_small();
  patch(blob, SMALL_PTR + 4, 20u << 24);
  return blob;
}

static GByteArray *
kind_zero(void)
{
  GByteArray *blob = build_small();
  patch(blob, SMALL_PTR + 4, 0);
  return blob;
}

static GByteArray *
member_type_oob(void)
{
  GByteArray *blob = build_small();
  patch(blob, SMALL_STRUCT + 12 + 4, 5);
  return blob;
}

static GByteArray *
member_type_huge(void)
{
  GByteArray *blob = build_small();
  patch(blob, SMALL_STRUCT + 12 + 12 + 4, G_MAXUINT32);
  return blob;
}

static GByteArray *
ptr_type_oob(void)
{
  GByteArray *blob = build_small();
  patch(blob, SMALL_PTR + 8, 5);
  return blob;
}

static GByteArray *
array_elem_oob(void)
{
  g_auto(Builder) b = { 0 };
  b_init(&b);
  guint32 t = b_int(&b, "int", 4, 32, 0);
  b_array(&b, 3, t, 4);
  return b_finish(&b);
}

static GByteArray *
array_index_oob(void)
{
  g_auto(Builder) b = { 0 };
  b_init(&b);
  guint32 t = b_int(&b, "int", 4, 32, 0);
  b_array(&b, t, 0x10000, 4);
  return b_finish(&b);
}

static GByteArray *
proto_param_oob(void)
{
  g_auto(Builder) b = { 0 };
  b_init(&b);
  guint32 t = b_int(&b, "int", 4, 32, 0);
  b_type(&b, NULL, HW_BTF_KIND_FUNC_PROTO, FALSE, 1, t);
  b_u32(&b, 0);
  b_u32(&b, 3);
  return b_finish(&b);
}

static GByteArray *
datasec_var_oob(void)
{
  g_auto(Builder) b = { 0 };
  b_init(&b);
  b_int(&b, "int", 4, 32, 0);
  b_type(&b, ".bss", HW_BTF_KIND_DATASEC, FALSE, 1, 4);
  b_u32(&b, 7);
  b_u32(&b, 0);
  b_u32(&b, 4);
  return b_finish(&b);
}

static GByteArray *
member_past_end(void)
{
  GByteArray *blob = build_small();
  patch(blob, SMALL_STRUCT + 12 + 12 + 8, 16 * 8 + 1);
  return blob;
}

/* struct s { a x; } with typedef a -> typedef b -> typedef a */
static GByteArray *
typedef_cycle(void)
{
  g_auto(Builder) b = { 0 };
  b_init(&b);
  guint32 a = b_ref(&b, HW_BTF_KIND_TYPEDEF, "a", 2);
  b_ref(&b, HW_BTF_KIND_TYPEDEF, "b", a);
  b_struct(&b, HW_BTF_KIND_STRUCT, "s", 4, 1, FALSE);
  b_member(&b, "x", a, 0, 0);
  return b_finish(&b);
}

static GByteArray *
const_self_cycle(void)
{
  g_auto(Builder) b = { 0 };
  b_init(&b);
  guint32 c = b_ref(&b, HW_BTF_KIND_CONST, NULL, 1);
  b_struct(&b, HW_BTF_KIND_STRUCT, "s", 4, 1, FALSE);
  b_member(&b, "x", c, 0, 0);
  return b_finish(&b);
}

static GByteArray *
chain_too_long(void)
{
  return build_typedef_chain(HW_BTF_MAX_HOPS + 1);
}

/* struct s { int *p; } where the pointee is a volatile cycle */
static GByteArray *
pointee_cycle(void)
{
  g_auto(Builder) b = { 0 };
  b_init(&b);
  guint32 v = b_ref(&b, HW_BTF_KIND_VOLATILE, NULL, 2);
  b_ref(&b, HW_BTF_KIND_RESTRICT, NULL, v);
  guint32 p = b_ref(&b, HW_BTF_KIND_PTR, NULL, v);
  b_struct(&b, HW_BTF_KIND_STRUCT, "s", 8, 1, FALSE);
  b_member(&b, "p", p, 0, 0);
  return b_finish(&b);
}

/* struct s { x[4] } where the array's element type is the array itself */
static GByteArray *
array_cycle(void)
{
  g_auto(Builder) b = { 0 };
  b_init(&b);
  guint32 t = b_int(&b, "int", 4, 32, 0);
  guint32 arr = b_array(&b, 2, t, 4);
  b_struct(&b, HW_BTF_KIND_STRUCT, "s", 8, 1, FALSE);
  b_member(&b, "x", arr, 0, 0);
  return b_finish(&b);
}

/* big x[2^32-1][2^32-1] with sizeof(big) 2^32-1: the size does not fit 64 bits */
static GByteArray *
array_size_overflow(void)
{
  g_auto(Builder) b = { 0 };
  b_init(&b);
  guint32 t = b_int(&b, "int", 4, 32, 0);
  guint32 big = b_struct(&b, HW_BTF_KIND_STRUCT, "big", G_MAXUINT32, 0, FALSE);
  guint32 a1 = b_array(&b, big, t, G_MAXUINT32);
  guint32 a2 = b_array(&b, a1, t, G_MAXUINT32);
  b_struct(&b, HW_BTF_KIND_STRUCT, "s", 8, 1, FALSE);
  b_member(&b, "x", a2, 0, 0);
  return b_finish(&b);
}

/* struct s { struct s; int a; }: a struct that holds itself as an anonymous member */
static GByteArray *
anon_self(void)
{
  g_auto(Builder) b = { 0 };
  b_init(&b);
  guint32 t = b_int(&b, "int", 4, 32, 0);
  guint32 s = b_struct(&b, HW_BTF_KIND_STRUCT, "s", 8, 2, FALSE);
  b_member(&b, NULL, s, 0, 0);
  b_member(&b, "a", t, 32, 0);
  return b_finish(&b);
}

/* struct s { union { struct s; }; }, through a typedef */
static GByteArray *
anon_mutual(void)
{
  g_auto(Builder) b = { 0 };
  b_init(&b);
  guint32 s = b_struct(&b, HW_BTF_KIND_STRUCT, "s", 8, 1, FALSE);
  b_member(&b, NULL, s + 1, 0, 0);
  b_struct(&b, HW_BTF_KIND_UNION, NULL, 8, 1, FALSE);
  b_member(&b, NULL, s + 2, 0, 0);
  b_ref(&b, HW_BTF_KIND_TYPEDEF, "s_t", s);
  return b_finish(&b);
}

static GByteArray *
anon_too_deep(void)
{
  return build_anon_chain(HW_BTF_MAX_ANON_DEPTH + 1);
}

/* outer { big b @ bit 0xf0000000 } with big { int x @ bit 0xf0000000 }: over 32 bits */
static GByteArray *
offset_overflow(void)
{
  g_auto(Builder) b = { 0 };
  b_init(&b);
  guint32 t = b_int(&b, "int", 4, 32, 0);
  guint32 big = b_struct(&b, HW_BTF_KIND_STRUCT, "big", 0x20000000, 1, FALSE);
  b_member(&b, "x", t, 0xf0000000u, 0);
  b_struct(&b, HW_BTF_KIND_STRUCT, "outer", 0x40000000, 1, FALSE);
  b_member(&b, "b", big, 0xf0000000u, 0);
  return b_finish(&b);
}

typedef struct {
  const char *name;
  GByteArray *(*build)(void);
  gint code;              /* HwError */
  const char *sname;      /* NULL: hw_btf_new fails; else it succeeds and this lookup fails */
  const char *path;
} HostileCase;

static const HostileCase hostile_cases[] = {
  { "bad-magic", bad_magic, HW_ERROR_BTF, NULL, NULL },
  { "big-endian", swapped_magic, HW_ERROR_UNSUPPORTED, NULL, NULL },
  { "bad-version", bad_version, HW_ERROR_BTF, NULL, NULL },
  { "version-zero", version_zero, HW_ERROR_BTF, NULL, NULL },
  { "hdr-len-small", hdr_len_small, HW_ERROR_BTF, NULL, NULL },
  { "hdr-len-zero", hdr_len_zero, HW_ERROR_BTF, NULL, NULL },
  { "hdr-len-huge", hdr_len_huge, HW_ERROR_BTF, NULL, NULL },
  { "hdr-len-max", hdr_len_max, HW_ERROR_BTF, NULL, NULL },
  { "truncated-header", truncated_header, HW_ERROR_BTF, NULL, NULL },
  { "type-section-oob", type_section_oob, HW_ERROR_BTF, NULL, NULL },
  { "type-off-huge", type_off_huge, HW_ERROR_LIMIT, NULL, NULL },
  { "type-off-unaligned", type_off_unaligned, HW_ERROR_BTF, NULL, NULL },
  { "str-section-oob", str_section_oob, HW_ERROR_BTF, NULL, NULL },
  { "str-off-huge", str_off_huge, HW_ERROR_LIMIT, NULL, NULL },
  { "str-len-huge", str_len_huge, HW_ERROR_LIMIT, NULL, NULL },
  { "str-section-empty", str_section_empty, HW_ERROR_BTF, NULL, NULL },
  { "sections-overlap", sections_overlap, HW_ERROR_BTF, NULL, NULL },
  { "str-no-leading-nul", str_no_leading_nul, HW_ERROR_BTF, NULL, NULL },
  { "str-no-trailing-nul", str_no_trailing_nul, HW_ERROR_BTF, NULL, NULL },
  { "total-over-cap", total_over_cap, HW_ERROR_LIMIT, NULL, NULL },
  { "truncated-blob", truncated_blob, HW_ERROR_BTF, NULL, NULL },
  { "type-name-oob", type_name_oob, HW_ERROR_BTF, NULL, NULL },
  { "type-name-huge", type_name_huge, HW_ERROR_BTF, NULL, NULL },
  { "member-name-oob", member_name_oob, HW_ERROR_BTF, NULL, NULL },
  { "enumerator-name-oob", enumerator_name_oob, HW_ERROR_BTF, NULL, NULL },
  { "vlen-past-section", vlen_past_section, HW_ERROR_BTF, NULL, NULL },
  { "vlen-max", vlen_max, HW_ERROR_BTF, NULL, NULL },
  { "truncated-record", truncated_record, HW_ERROR_BTF, NULL, NULL },
  { "truncated-kind-data", truncated_kind_data, HW_ERROR_BTF, NULL, NULL },
  { "kind-unknown", kind_unknown, HW_ERROR_BTF, NULL, NULL },
  { "kind-zero", kind_zero, HW_ERROR_BTF, NULL, NULL },
  { "member-type-oob", member_type_oob, HW_ERROR_BTF, NULL, NULL },
  { "member-type-huge", member_type_huge, HW_ERROR_BTF, NULL, NULL },
  { "ptr-type-oob", ptr_type_oob, HW_ERROR_BTF, NULL, NULL },
  { "array-elem-oob", array_elem_oob, HW_ERROR_BTF, NULL, NULL },
  { "array-index-oob", array_index_oob, HW_ERROR_BTF, NULL, NULL },
  { "proto-param-oob", proto_param_oob, HW_ERROR_BTF, NULL, NULL },
  { "datasec-var-oob", datasec_var_oob, HW_ERROR_BTF, NULL, NULL },
  { "member-past-end", member_past_end, HW_ERROR_BTF, NULL, NULL },
  /* Accepted by hw_btf_new, refused when the bad part is used. */
  { "typedef-cycle", typedef_cycle, HW_ERROR_LIMIT, "s", "x" },
  { "const-self-cycle", const_self_cycle, HW_ERROR_LIMIT, "s", "x" },
  { "chain-too-long", chain_too_long, HW_ERROR_LIMIT, "s", "x" },
  { "pointee-cycle", pointee_cycle, HW_ERROR_LIMIT, "s", "p" },
  { "array-cycle", array_cycle, HW_ERROR_LIMIT, "s", "x" },
  { "array-size-overflow", array_size_overflow, HW_ERROR_LIMIT, "s", "x" },
  { "anon-self", anon_self, HW_ERROR_LIMIT, "s", "a" },
  { "anon-mutual", anon_mutual, HW_ERROR_LIMIT, "s", "x" },
  { "anon-too-deep", anon_too_deep, HW_ERROR_LIMIT, "s", "deep" },
  { "offset-overflow", offset_overflow, HW_ERROR_LIMIT, "outer", "b.x" },
};

static void
test_hostile(gconstpointer data)
{
  const HostileCase *c = data;
  g_autoptr(GByteArray) blob = c->build();
  g_autoptr(GError) error = NULL;
  /* A buffer of exactly the blob's size, so that ASan sees any read past it. */
  g_autofree guint8 *exact = g_memdup2(blob->data, blob->len);

  g_autoptr(HwBtf) btf = hw_btf_new(exact, blob->len, &error);
  if (c->sname == NULL) {
    g_assert_null(btf);
    g_assert_error(error, HW_ERROR, c->code);
    g_assert_null(hw_btf_new(exact, blob->len, NULL));   /* the NULL-error row */
    return;
  }
  g_assert_no_error(error);
  g_assert_nonnull(btf);
  HwBtfMember m;
  g_assert_false(hw_btf_find_member(btf, c->sname, c->path, &m, &error));
  g_assert_error(error, HW_ERROR, c->code);
  g_assert_false(hw_btf_find_member(btf, c->sname, c->path, &m, NULL));
}

/* Every prefix of a good blob is refused; none is read past its end. */
static void
test_every_truncation(void)
{
  Good g;
  g_autoptr(GByteArray) blob = build_good(&g);
  for (guint len = 0; len < blob->len; len++) {
    g_autoptr(GError) error = NULL;
    g_autofree guint8 *exact = g_memdup2(blob->data, len);
    g_autoptr(HwBtf) btf = hw_btf_new(exact, len, &error);
    g_assert_null(btf);
    g_assert_error(error, HW_ERROR, HW_ERROR_BTF);
  }
}

/* Random byte changes to a good blob: hw_btf_new and every lookup either work or fail
 * with a GError, and never crash, hang or read out of bounds. */
static void
test_mutations(void)
{
  Good g;
  g_autoptr(GByteArray) good = build_good(&g);
  g_autoptr(GRand) rand = g_rand_new_with_seed(0x5eed);
  static const struct {
    const char *sname;
    const char *path;
  } lookups[] = {
    { "task", "comm" }, { "task", "vm_end" }, { "task", "in.b" }, { "task", "rcu.next" },
    { "task", "matrix" }, { "bits", "c" }, { "oldbits", "x" }, { "tagged", "p" },
  };
  guint accepted = 0;

  for (guint iter = 0; iter < 8000; iter++) {
    g_autofree guint8 *blob = g_memdup2(good->data, good->len);
    guint n_changes = g_rand_int_range(rand, 1, 5);
    for (guint k = 0; k < n_changes; k++) {
      guint pos = g_rand_int_range(rand, 0, good->len);
      switch (g_rand_int_range(rand, 0, 3)) {
      case 0:
        blob[pos] ^= 1u << g_rand_int_range(rand, 0, 8);
        break;
      case 1:
        blob[pos] = (guint8) g_rand_int(rand);
        break;
      default:
        blob[pos] = g_rand_boolean(rand) ? 0xff : 0;
        break;
      }
    }
    g_autoptr(GError) error = NULL;
    g_autoptr(HwBtf) btf = hw_btf_new(blob, good->len, &error);
    if (btf == NULL) {
      g_assert_nonnull(error);
      g_assert_true(error->domain == HW_ERROR);
      continue;
    }
    accepted++;
    for (guint i = 0; i < G_N_ELEMENTS(lookups); i++) {
      HwBtfMember m;
      g_autoptr(GError) lookup_error = NULL;
      if (!hw_btf_find_member(btf, lookups[i].sname, lookups[i].path, &m, &lookup_error))
        g_assert_nonnull(lookup_error);
    }
    for (guint32 id = 0; id <= hw_btf_get_type_count(btf) + 1; id++) {
      HwBtfMember m;
      g_autoptr(GError) lookup_error = NULL;
      (void) hw_btf_type_name(btf, id);
      (void) hw_btf_type_kind(btf, id);
      if (!hw_btf_find_member_by_id(btf, id, "next", &m, &lookup_error))
        g_assert_nonnull(lookup_error);
    }
    gint64 v;
    g_autoptr(GError) enum_error = NULL;
    (void) hw_btf_enum_value(btf, "F_MASK", &v, &enum_error);
  }
  g_test_message("%u of 8000 mutated blobs accepted", accepted);
  g_assert_cmpuint(accepted, >, 0);
}

/* ---- the host's kernel ------------------------------------------------------------------ */

static void
assert_host_member(const HwBtf *btf, const char *sname, const char *path, HwBtfKind kind,
                   HwBtfMember *m)
{
  g_autoptr(GError) error = NULL;
  guint64 ssize = 0;
  gboolean ok = hw_btf_find_member(btf, sname, path, m, &error);
  g_assert_no_error(error);
  g_assert_true(ok);
  g_assert_cmpint(m->kind, ==, kind);
  g_assert_true(hw_btf_struct_size(btf, sname, &ssize, &error));
  g_assert_cmpuint(m->offset + m->size, <=, ssize);
  g_test_message("%s.%s: offset %u size %" G_GUINT64_FORMAT, sname, path, m->offset, m->size);
}

static void
test_host_vmlinux(void)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  g_autoptr(GError) error = NULL;

  if (!g_file_test(HOST_VMLINUX_BTF, G_FILE_TEST_EXISTS)) {
    g_test_skip("no " HOST_VMLINUX_BTF " on this host (optional)");
    return;
  }
  g_assert_true(g_file_get_contents(HOST_VMLINUX_BTF, &data, &len, &error));
  g_assert_no_error(error);

  gsize total = 0;
  g_assert_true(hw_btf_check_header((const guint8 *) data, len, &total, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(total, ==, len);

  /* Best of a few runs: the time to validate, copy and index. */
  gint64 best = G_MAXINT64;
  for (guint i = 0; i < 5; i++) {
    gint64 start = g_get_monotonic_time();
    g_autoptr(HwBtf) tmp = hw_btf_new((const guint8 *) data, len, &error);
    gint64 took = g_get_monotonic_time() - start;
    g_assert_no_error(error);
    g_assert_nonnull(tmp);
    best = MIN(best, took);
  }
  g_autoptr(HwBtf) btf = hw_btf_new((const guint8 *) data, len, &error);
  g_assert_no_error(error);
  g_test_message("%s: %" G_GSIZE_FORMAT " bytes, %u types, indexed in %.2f ms",
                 HOST_VMLINUX_BTF, len, hw_btf_get_type_count(btf), best / 1000.0);
  g_assert_cmpuint(hw_btf_get_type_count(btf), >, 1000);

  guint32 task = hw_btf_find_struct(btf, "task_struct");
  g_assert_cmpuint(task, !=, 0);
  g_assert_cmpint(hw_btf_type_kind(btf, task), ==, HW_BTF_KIND_STRUCT);
  g_assert_cmpstr(hw_btf_type_name(btf, task), ==, "task_struct");

  HwBtfMember m;
  assert_host_member(btf, "task_struct", "tasks", HW_BTF_KIND_STRUCT, &m);
  g_assert_cmpuint(m.type_id, ==, hw_btf_find_struct(btf, "list_head"));
  g_assert_cmpuint(m.size, ==, 16);
  assert_host_member(btf, "task_struct", "tasks.next", HW_BTF_KIND_PTR, &m);
  assert_host_member(btf, "task_struct", "mm", HW_BTF_KIND_PTR, &m);
  g_assert_cmpuint(m.elem_type_id, ==, hw_btf_find_struct(btf, "mm_struct"));
  assert_host_member(btf, "task_struct", "pid", HW_BTF_KIND_INT, &m);
  g_assert_cmpuint(m.size, ==, 4);
  assert_host_member(btf, "task_struct", "comm", HW_BTF_KIND_ARRAY, &m);
  g_assert_cmpuint(m.nelems, ==, 16);
  g_assert_cmpuint(m.size, ==, 16);
  g_assert_cmpint(hw_btf_type_kind(btf, m.elem_type_id), ==, HW_BTF_KIND_INT);
  assert_host_member(btf, "file", "f_path.dentry", HW_BTF_KIND_PTR, &m);
  g_assert_cmpuint(m.elem_type_id, ==, hw_btf_find_struct(btf, "dentry"));
  /* Inside the anonymous struct that holds most of mm_struct. */
  assert_host_member(btf, "mm_struct", "pgd", HW_BTF_KIND_PTR, &m);
  assert_host_member(btf, "vm_area_struct", "vm_start", HW_BTF_KIND_INT, &m);
  g_assert_cmpuint(m.size, ==, 8);
  assert_host_member(btf, "vm_area_struct", "vm_end", HW_BTF_KIND_INT, &m);
  assert_host_member(btf, "dentry", "d_name.name", HW_BTF_KIND_PTR, &m);
  assert_host_member(btf, "mount", "mnt", HW_BTF_KIND_STRUCT, &m);

  gint64 v = -1;
  g_assert_true(hw_btf_enum_value(btf, "PIDTYPE_PID", &v, &error));
  g_assert_no_error(error);
  g_assert_cmpint(v, ==, 0);
}

/* ---- split BTF (a module's, on top of the kernel's) ------------------------------------ */

static void
test_split(void)
{
  g_auto(Builder) b = { 0 };
  b_init(&b);
  guint32 int_id = b_int(&b, "int", 4, 32, 0);
  guint32 file_id = b_struct(&b, HW_BTF_KIND_STRUCT, "file", 8, 1, FALSE);
  b_member(&b, "f_flags", int_id, 0, 0);
  b_type(&b, "pid_type", HW_BTF_KIND_ENUM, FALSE, 1, 4);
  b_enumerator(&b, "PIDTYPE_TGID", 1);
  g_autoptr(GByteArray) base_blob = b_finish(&b);
  g_autoptr(HwBtf) base = btf_from(base_blob);

  g_auto(Builder) m = { 0 };
  b_init(&m);
  m.n = b.n;
  m.str_base = b.strs->len;
  guint32 ptr_id = b_ref(&m, HW_BTF_KIND_PTR, NULL, file_id);
  guint32 fb_id = b_struct(&m, HW_BTF_KIND_STRUCT, "drm_framebuffer", 16, 2, FALSE);
  b_member(&m, "filp", ptr_id, 0, 0);
  b_member(&m, "width", int_id, 64, 0);
  b_type(&m, "drm_plane_type", HW_BTF_KIND_ENUM, FALSE, 1, 4);
  b_enumerator(&m, "DRM_PLANE_TYPE_PRIMARY", 1);
  g_autoptr(GByteArray) blob = b_finish(&m);
  g_autoptr(GError) error = NULL;
  g_autoptr(HwBtf) split = hw_btf_new_split(base, blob->data, blob->len, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(hw_btf_get_type_count(split), ==, fb_id + 1);
  g_assert_cmpuint(hw_btf_find_struct(split, "file"), ==, file_id);
  g_assert_cmpuint(hw_btf_find_struct(split, "drm_framebuffer"), ==, fb_id);
  g_assert_cmpuint(hw_btf_find_struct(base, "drm_framebuffer"), ==, 0);
  g_assert_cmpstr(hw_btf_type_name(split, int_id), ==, "int");
  g_assert_cmpstr(hw_btf_type_name(split, fb_id), ==, "drm_framebuffer");
  HwBtfMember mb;
  g_assert_true(hw_btf_find_member(split, "drm_framebuffer", "width", &mb, &error));
  g_assert_cmpuint(mb.offset, ==, 8);
  g_assert_cmpint(mb.kind, ==, HW_BTF_KIND_INT);
  g_assert_true(hw_btf_find_member(split, "drm_framebuffer", "filp", &mb, &error));
  g_assert_cmpint(mb.kind, ==, HW_BTF_KIND_PTR);
  g_assert_cmpuint(mb.elem_type_id, ==, file_id);
  g_assert_true(hw_btf_find_member(split, "file", "f_flags", &mb, &error));
  gint64 v = 0;
  g_assert_true(hw_btf_enum_value(split, "DRM_PLANE_TYPE_PRIMARY", &v, &error));
  g_assert_cmpint(v, ==, 1);
  g_assert_true(hw_btf_enum_value(split, "PIDTYPE_TGID", &v, &error));
  g_assert_false(hw_btf_enum_value(base, "DRM_PLANE_TYPE_PRIMARY", &v, NULL));

  /* Hostile: a split type referring past its own ids, or a name past both sections. */
  g_auto(Builder) bad = { 0 };
  b_init(&bad);
  bad.n = b.n;
  bad.str_base = b.strs->len;
  b_ref(&bad, HW_BTF_KIND_PTR, NULL, b.n + 5);
  g_autoptr(GByteArray) bad_blob = b_finish(&bad);
  g_assert_null(hw_btf_new_split(base, bad_blob->data, bad_blob->len, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_BTF);
  g_clear_error(&error);
  g_auto(Builder) bad2 = { 0 };
  b_init(&bad2);
  bad2.n = b.n;
  b_rec(&bad2, b.strs->len + 100, HW_BTF_KIND_INT, FALSE, 0, 4);
  b_u32(&bad2, 32);
  g_autoptr(GByteArray) bad2_blob = b_finish(&bad2);
  g_assert_null(hw_btf_new_split(base, bad2_blob->data, bad2_blob->len, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_BTF);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);

  g_test_add_func("/os/btf/good/members", test_good_members);
  g_test_add_func("/os/btf/good/types", test_good_types);
  g_test_add_func("/os/btf/good/enums", test_good_enums);
  g_test_add_func("/os/btf/good/long-header", test_long_header);
  g_test_add_func("/os/btf/good/layout", test_layout);
  g_test_add_func("/os/btf/offsets-missing", test_offsets_missing);
  g_test_add_func("/os/btf/good/empty", test_empty);
  g_test_add_func("/os/btf/good/limits", test_limits_ok);
  g_test_add_func("/os/btf/good/anon-fanout", test_anon_fanout);
  g_test_add_func("/os/btf/bad/lookups", test_bad_lookups);
  for (guint i = 0; i < G_N_ELEMENTS(hostile_cases); i++) {
    g_autofree char *path = g_strdup_printf("/os/btf/hostile/%s", hostile_cases[i].name);
    g_test_add_data_func(path, &hostile_cases[i], test_hostile);
  }
  g_test_add_func("/os/btf/hostile/every-truncation", test_every_truncation);
  g_test_add_func("/os/btf/hostile/mutations", test_mutations);
  g_test_add_func("/os/btf/host/vmlinux", test_host_vmlinux);
  g_test_add_func("/os/btf/split", test_split);
  return g_test_run();
}
