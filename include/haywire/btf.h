/* haywire: the guest kernel's BTF (BPF Type Format), parsed from an untrusted blob. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The whole blob (header, types, strings) may be at most this big. */
#define HW_BTF_MAX_SIZE (64u * 1024 * 1024)
/* Typedef/const/volatile/restrict/type_tag and array hops followed for one type. */
#define HW_BTF_MAX_HOPS 32
/* Anonymous struct/union nesting searched for one member name. */
#define HW_BTF_MAX_ANON_DEPTH 16

typedef struct _HwBtf HwBtf;

typedef enum {
  HW_BTF_KIND_UNKN = 0,
  HW_BTF_KIND_INT = 1,
  HW_BTF_KIND_PTR,
  HW_BTF_KIND_ARRAY,
  HW_BTF_KIND_STRUCT,
  HW_BTF_KIND_UNION,
  HW_BTF_KIND_ENUM,
  HW_BTF_KIND_FWD,
  HW_BTF_KIND_TYPEDEF,
  HW_BTF_KIND_VOLATILE,
  HW_BTF_KIND_CONST,
  HW_BTF_KIND_RESTRICT,
  HW_BTF_KIND_FUNC,
  HW_BTF_KIND_FUNC_PROTO,
  HW_BTF_KIND_VAR,
  HW_BTF_KIND_DATASEC,
  HW_BTF_KIND_FLOAT,
  HW_BTF_KIND_DECL_TAG,
  HW_BTF_KIND_TYPE_TAG,
  HW_BTF_KIND_ENUM64,
} HwBtfKind;

/* Where a member sits and what it is. */
typedef struct {
  guint32 offset;        /* byte offset of the member from the start of the named struct (nested paths summed) */
  guint32 bit_offset;    /* same, in bits */
  guint32 bitfield_size; /* 0 unless a bitfield */
  guint32 type_id;       /* member type, typedef/const/volatile/restrict/type_tag resolved */
  HwBtfKind kind;        /* kind of that resolved type */
  guint64 size;          /* its byte size (pointers 8; arrays nelems*elem size) */
  guint32 nelems;        /* arrays: element count, else 0 */
  guint32 elem_type_id;  /* arrays: element type, pointers: pointee type (both resolved), else 0 */
} HwBtfMember;

/* Check the 24-byte BTF header at DATA (AVAIL bytes readable); on success *TOTAL is header+types+strings size. */
gboolean hw_btf_check_header(const guint8 *data, gsize avail, gsize *total, GError **error);
/* Validate the blob at DATA (SIZE bytes, trailing bytes ignored), copy it and index its types. */
HwBtf *hw_btf_new(const guint8 *data, gsize size, GError **error);
/* Like hw_btf_new for split BTF (a kernel module's .BTF): its type ids and string
 * offsets continue BASE's, which must outlive the result; lookups see both. */
HwBtf *hw_btf_new_split(const HwBtf *base, const guint8 *data, gsize size, GError **error);
/* Free BTF and its copy of the blob. */
void hw_btf_free(HwBtf *btf);

/* Number of types, not counting void (valid ids are 1..count). */
guint32 hw_btf_get_type_count(const HwBtf *btf);
/* Bytes of the copied blob (header+types+strings). */
gsize hw_btf_get_size(const HwBtf *btf);

/* Find a struct or union with a body (not a FWD) by name; the first one wins; 0 if none. */
guint32 hw_btf_find_struct(const HwBtf *btf, const char *name);
/* Member PATH ("tasks", "f_path.dentry", "thread.sp") of struct NAME; members inside anonymous structs/unions are found transparently. */
gboolean hw_btf_find_member(const HwBtf *btf, const char *struct_name, const char *path,
                            HwBtfMember *out, GError **error);
/* Same as hw_btf_find_member for the struct or union with type id STRUCT_ID (modifiers resolved). */
gboolean hw_btf_find_member_by_id(const HwBtf *btf, guint32 struct_id, const char *path,
                                  HwBtfMember *out, GError **error);
/* Byte size of struct/union NAME. */
gboolean hw_btf_struct_size(const HwBtf *btf, const char *struct_name, guint64 *size, GError **error);
/* Value of enumerator NAME in any ENUM/ENUM64 (the first found); unsigned 64-bit values come back as their bits. */
gboolean hw_btf_enum_value(const HwBtf *btf, const char *name, gint64 *value, GError **error);
/* Name of type ID ("" for anonymous, "void" for 0), NULL if out of range. */
const char *hw_btf_type_name(const HwBtf *btf, guint32 id);
/* Kind of type ID; HW_BTF_KIND_UNKN for 0 (void) and ids out of range. */
HwBtfKind hw_btf_type_kind(const HwBtf *btf, guint32 id);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(HwBtf, hw_btf_free)

G_END_DECLS
