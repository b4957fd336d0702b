/* The probes of the preroll_bench LTTng-UST provider, statically linked into
 * bench_emit (lttng-ust(3), "Building/linking the tracepoint provider and
 * the user application"). */
#define LTTNG_UST_TRACEPOINT_CREATE_PROBES
#define LTTNG_UST_TRACEPOINT_DEFINE

#include "lttng_tp.h"
