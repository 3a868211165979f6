/* haywire serve: the viewer's HTTP server (libsoup-3) inside the haywire process.
 * serve-http.c: access token, replies, request parameters; serve-api.c: the API that
 * the page calls; cmd-serve.c: the command, its main loop and signals. */
#pragma once

#include "cli/cli.h"
#include "cli/memory-view.h"
#include "cli/serve-params.h"

#include <libsoup/soup.h>

/* The most memory one pixels request may cover, and the most pixels it may return:
 * a request for more is refused, never allocated. (The page asks for a window.) */
#define HW_SERVE_MAX_BYTES (16u << 20)
#define HW_SERVE_MAX_PIXELS (4u << 20)
/* The most hits a finds request lists, and the longest search it takes. */
#define HW_SERVE_MAX_HITS 1000u
#define HW_SERVE_MAX_PATTERN 256u
/* The most pixels of an image made into a thumbnail or carved (decoded whole first). */
#define HW_SERVE_THUMB_PIXELS (16u << 20)
/* The most bytes a width guess looks at (the raw finder's measure), and the most
 * guesses it returns. */
#define HW_SERVE_GUESS_BYTES (4u << 20)
#define HW_SERVE_MAX_GUESSES 8u
/* Picture streams (serve-stream.c): the most open at once, the most frames one has
 * on their way to the page, and the size of a frame's header. A frame is the header,
 * then width x height RGBA pixels; the header, little-endian: "HWPX", u32 seq (the
 * request's), u32 width, u32 height, u64 epoch, u64 unreadable bytes, then the state
 * the pixels show ("paused-by-haywire", "live", ...) NUL-padded to the end. */
#define HW_SERVE_MAX_STREAMS 8u
#define HW_SERVE_IN_FLIGHT 2u
#define HW_SERVE_FRAME_HEADER 56u
/* The cookie that carries the token for the page's own requests (set on its load). */
#define HW_SERVE_COOKIE "haywire_token"

typedef struct {
  HwCli *cli;
  SoupServer *server;
  char *token;           /* 32 hex digits from the kernel's random source */
  gboolean held;         /* the viewer's Pause stopped the guest: it stays paused */
  HwOwnerMap *owners;    /* who maps each page, as of epoch OWNERS_EPOCH (or NULL) */
  guint64 owners_epoch;
  GList *streams;        /* open picture streams (serve-stream.c's) */
  GPtrArray *heat_hashes; /* serve-live.c: the last sample's page hashes, per range */
  GPtrArray *heat;       /* a heat byte per page, per range */
  guint64 heat_samples;
  gint64 heat_at;        /* monotonic us of the last sample */
  HwSnapshot *snap;      /* the snapshot kept to diff against (or NULL) */
  guint64 snap_epoch;
  GMainLoop *loop;
  GError *fatal;         /* why the loop ended, when it was not asked to */
} HwServe;

/* A new random access token (caller frees); NULL with *ERROR. */
char *hw_serve_new_token(GError **error);
/* Whether GIVEN equals the token, in time that does not depend on where they differ. */
gboolean hw_serve_token_matches(const char *token, const char *given);
/* Whether MSG carries the token (query "token", header X-Haywire-Token or the
 * HW_SERVE_COOKIE cookie); replies 403 and returns FALSE when not. */
gboolean hw_serve_authorized(HwServe *s, SoupServerMessage *msg, GHashTable *query);

/* Whether MSG uses METHOD; else a 405 reply and FALSE. */
gboolean hw_serve_method_is(SoupServerMessage *msg, const char *method);
/* A JSON answer begun: an object with the moment it comes from (epoch, run_state);
 * hw_serve_end_answer ends it, replies and frees the builder. */
JsonBuilder *hw_serve_begin_answer(HwServe *s);
void hw_serve_end_answer(SoupServerMessage *msg, JsonBuilder *b);
/* Member "ranges" of B: per RAM range of the N ranges R, its gpa, pages and one byte per
 * page (BYTES[i], base64) as member NAME. */
void hw_serve_json_page_bytes(JsonBuilder *b, const HwRamRange *r, guint n, GPtrArray *bytes,
                              const char *name);
/* Writes a file at PATH; FALSE with *ERROR. */
typedef gboolean (*HwServeWriteFunc)(const char *path, gpointer data, GError **error);
/* What WRITE writes, through a private temporary file: its LEN bytes (caller frees), or
 * NULL with *ERROR. */
char *hw_serve_written_bytes(HwServeWriteFunc write, gpointer data, gsize *len, GError **error);
/* Reply with LEN BYTES (taken) of TYPE as a download named FILENAME, status 200. */
void hw_serve_reply_download(SoupServerMessage *msg, const char *type, const char *filename,
                             char *bytes, gsize len);
/* Reply with NODE (consumed) as JSON, status 200. */
void hw_serve_reply_json(SoupServerMessage *msg, JsonNode *node);
/* Reply STATUS with {"error": MESSAGE} (printf-style). */
void hw_serve_reply_error(SoupServerMessage *msg, guint status, const char *fmt, ...)
  G_GNUC_PRINTF(3, 4);
/* Reply with ERROR: 400 for bad arguments and limits, 409 when the guest or its memory
 * cannot answer now, 500 otherwise. */
void hw_serve_reply_gerror(SoupServerMessage *msg, const GError *error);

/* Reply with RGBA (W x H pixels, taken) and the headers every picture carries: its
 * size (X-Haywire-Width, -Height), the epoch and STATE, the moment it shows. */
void hw_serve_reply_rgba(HwServe *s, SoupServerMessage *msg, guint8 *rgba, guint32 w,
                         guint32 h, const char *state);
/* Register the guest's display requests (/api/gpu, /api/screen) on S's server. */
void hw_serve_add_gpu(HwServe *s);
/* Register the API handlers (/api/...) on S's server. */
void hw_serve_add_api(HwServe *s);
/* The memory view the /api/pixels parameters in QUERY ask for, checked with the
 * command line's limits and the server's tighter ones; FALSE with *ERROR. */
gboolean hw_serve_view_from_query(GHashTable *query, HwMemoryView *v, GError **error);
/* Register the picture stream (/api/stream, a WebSocket) on S's server. */
void hw_serve_add_stream(HwServe *s);
/* Drop every open stream (the server is going away). */
void hw_serve_close_streams(HwServe *s);
/* Register the Live view's requests (heat map, snapshot and its diff) on S's server. */
void hw_serve_add_live(HwServe *s);
/* Free what they keep. */
void hw_serve_free_live(HwServe *s);
/* Register the page and its assets (compiled-in resources) on S's server. */
void hw_serve_add_assets(HwServe *s);
