/* A program instrumented with libpreroll, built against an installed preroll
 * (see README.md). It emits a few events, marks one, hands its ring to the
 * daemon and detaches, then prints its capture counters. With no daemon
 * running the events are captured all the same and simply not kept. */
#include <preroll/preroll.h>
#include <stdio.h>

int main(void) {
  char message[64];
  for (int i = 0; i < 10; ++i) {
    snprintf(message, sizeof message, "GET /api/items/%d 200", i);
    preroll_emit(PREROLL_INFO, "http", message);
  }
  preroll_emit(PREROLL_WARN, "db", "slow query: 180 ms");
  preroll_mark("consumer", "example checkout failed"); /* this window is kept */
  preroll_flush();

  preroll_counters c;
  if (preroll_get_counters(&c) != 0) {
    fprintf(stderr, "consumer: capture did not start (PREROLL_DISABLE=1?)\n");
    return 1;
  }
  preroll_shutdown();
  printf("consumer: events_written=%llu events_overwritten=%llu daemon_connected=%u\n",
         (unsigned long long)c.events_written, (unsigned long long)c.events_overwritten,
         (unsigned)c.daemon_connected);
  return c.events_written == 12 ? 0 : 1;
}
