/*
 * preroll client API (C11 and C++).
 *
 * Events go into per-thread rings in shared memory; the preroll daemon keeps
 * only the windows around marked events. Every function here is safe to call
 * from any thread at any time, before or without a running daemon: capture
 * starts at the first event and the library attaches to the daemon lazily
 * (socket from PREROLL_SOCKET, else the daemon's default path).
 *
 * The emit functions never block, never allocate after the first event of a
 * thread, and make no system call except when a ring is full (one
 * non-blocking doorbell send). What cannot be kept is counted (see
 * preroll_get_counters), never lost silently.
 *
 * Tuning (read once, at the first event): PREROLL_RING_SIZE (bytes, multiple
 * of 4096), PREROLL_RINGS_PER_LANE, PREROLL_LANES, PREROLL_MAX_MESSAGE,
 * PREROLL_DISABLE=1 to turn capture off, PREROLL_PROCESS_NAME to name the
 * process in the daemon's files and listings instead of its kernel name
 * (/proc/self/comm; at most 63 bytes are kept).
 */
#ifndef PREROLL_PREROLL_H
#define PREROLL_PREROLL_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define PREROLL_API __attribute__((visibility("default")))
#else
#define PREROLL_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

enum preroll_level {
  PREROLL_TRACE = 0,
  PREROLL_DEBUG = 1,
  PREROLL_INFO = 2,
  PREROLL_WARN = 3,
  PREROLL_ERROR = 4,
  PREROLL_FATAL = 5
};

/* Optional set-up before the first event of the process. Zero fields keep
 * the default (ring_size 65536, rings_per_lane 8, lanes 64, max_message
 * 4096); the PREROLL_* environment variables override what is set here, so
 * operators can tune without a rebuild. socket_path NULL: PREROLL_SOCKET or
 * the daemon's default path. Returns 0, or -1 when capture has already
 * started in this process or a value is out of range (nothing is changed). */
typedef struct preroll_config {
  uint32_t ring_size;      /* bytes, a multiple of 4096 */
  uint32_t rings_per_lane; /* 2..64 */
  uint32_t lanes;          /* threads that can capture at once, 1..4096 */
  uint32_t max_message;    /* longer messages are truncated and flagged */
  const char *socket_path;
} preroll_config;

PREROLL_API int preroll_configure(const preroll_config *config);

/* NUL-terminated name and message; NULL is an empty string. A level outside
 * the enum is clamped. Messages longer than the limit are truncated and
 * flagged. */
PREROLL_API void preroll_emit(int level, const char *name, const char *message);

/* The same with explicit lengths: bytes, NUL allowed, no encoding assumed. */
PREROLL_API void preroll_emit_n(int level, const char *name, size_t name_len, const char *message, size_t message_len);

/* An event the client itself marks: its window is persisted whatever the
 * daemon's trigger patterns are (level INFO). */
PREROLL_API void preroll_mark(const char *name, const char *message);
PREROLL_API void preroll_mark_n(int level, const char *name, size_t name_len, const char *message, size_t message_len);

/* Hands the calling thread's partial ring to the daemon now. */
PREROLL_API void preroll_flush(void);

/* Flushes the calling thread, tells the daemon this process detaches
 * cleanly, and stops delivering further events. Called automatically at
 * exit(). Idempotent. */
PREROLL_API void preroll_shutdown(void);

/* This process's capture counters, summed over its lanes. Lane counters are
 * updated when a ring is handed over (full, flush, thread exit). */
typedef struct preroll_counters {
  uint64_t events_written;
  uint64_t bytes_written;
  uint64_t events_overwritten;   /* lost: ring full and no spare ring */
  uint64_t bytes_overwritten;
  uint64_t events_truncated;     /* kept, message cut at the limit */
  uint64_t events_dropped_nested;/* lost: emit re-entered from a signal handler */
  uint64_t events_dropped_no_lane;/* lost: more threads than lanes */
  uint64_t events_dropped_disabled;/* lost: capture off or segment creation failed */
  uint64_t ring_swaps;
  uint64_t swaps_without_spare;
  uint32_t lanes_in_use;
  uint32_t daemon_connected;     /* 1 when the last doorbell/hello went through */
  uint32_t daemon_connects;      /* segments handed to a daemon (1 + reconnections), refused ones not counted */
} preroll_counters;

/* Fills *out; returns 0, or -1 if capture never started in this process. */
PREROLL_API int preroll_get_counters(preroll_counters *out);

#ifdef __cplusplus
}
#endif

#endif /* PREROLL_PREROLL_H */
