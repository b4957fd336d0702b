/* The C API from C11: a job runner that records every step of every job and
 * marks the job that fails, so the daemon keeps that job's window (and the
 * steps that led up to it) and throws the rest away.
 *
 *   c_api_example [JOBS [FAILING_JOB]]      (defaults: 1000 jobs, job 700 fails)
 *
 * Shows: preroll_configure, preroll_emit (NUL-terminated), preroll_emit_n
 * (explicit lengths, binary payloads), levels, preroll_mark_n, preroll_flush,
 * preroll_get_counters and preroll_shutdown. The last line printed is this
 * process's capture counters as JSON. With no daemon running, events are
 * captured all the same and simply not kept. */
#include <preroll/preroll.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void run_job(unsigned long job, int fails) {
  char text[96];
  int n = snprintf(text, sizeof text, "job %lu: fetch 4 KiB from cache", job);
  preroll_emit_n(PREROLL_DEBUG, "fetch", 5, text, (size_t)n);

  /* A binary payload: the bytes are kept as they are, NULs included. */
  const unsigned char header[8] = {0x50, 0x52, 0x00, 0x01, (unsigned char)(job & 0xff), 0x00, 0xfe, 0xff};
  preroll_emit_n(PREROLL_TRACE, "frame", 5, (const char *)header, sizeof header);

  if (!fails) {
    snprintf(text, sizeof text, "job %lu: done in 3 ms", job);
    preroll_emit(PREROLL_INFO, "job", text);
    return;
  }
  n = snprintf(text, sizeof text, "job %lu: checksum mismatch, giving up", job);
  /* Marked by the program itself: kept whatever the daemon's patterns. */
  preroll_mark_n(PREROLL_ERROR, "job", 3, text, (size_t)n);
  /* Make the window reach the daemon now rather than when the ring fills. */
  preroll_flush();
}

int main(int argc, char **argv) {
  const unsigned long jobs = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000;
  const unsigned long failing = argc > 2 ? strtoul(argv[2], NULL, 10) : 700;

  /* Optional, before the first event; PREROLL_* environment variables win. */
  preroll_config config;
  memset(&config, 0, sizeof config);
  config.ring_size = 16384;
  if (preroll_configure(&config) != 0) fprintf(stderr, "c_api_example: preroll_configure refused the settings\n");

  for (unsigned long job = 0; job < jobs; ++job) run_job(job, job == failing);

  preroll_flush();
  preroll_counters c;
  if (preroll_get_counters(&c) != 0) {
    fprintf(stderr, "c_api_example: capture never started (PREROLL_DISABLE=1?)\n");
    return 1;
  }
  preroll_shutdown(); /* also done at exit(); explicit here to detach before printing */
  printf("{\"events_written\":%" PRIu64 ",\"events_overwritten\":%" PRIu64 ",\"events_truncated\":%" PRIu64
         ",\"events_dropped_nested\":%" PRIu64 ",\"events_dropped_no_lane\":%" PRIu64
         ",\"events_dropped_disabled\":%" PRIu64 ",\"ring_swaps\":%" PRIu64 ",\"daemon_connected\":%" PRIu32 "}\n",
         c.events_written, c.events_overwritten, c.events_truncated, c.events_dropped_nested,
         c.events_dropped_no_lane, c.events_dropped_disabled, c.ring_swaps, c.daemon_connected);
  return 0;
}
