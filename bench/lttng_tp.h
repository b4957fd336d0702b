/*
 * LTTng-UST tracepoint provider for bench_emit: one event, one string field,
 * the competitor of preroll_emit() for a 32-byte message. lttng-ust 2.13 API
 * (version 1 of the API, lttng-ust(3); the 2.12-style TRACEPOINT_EVENT /
 * ctf_string names are its compatibility aliases). Compiled in only when
 * pkg-config finds lttng-ust (bench/CMakeLists.txt).
 *
 * Record it with:  lttng enable-event -u 'preroll_bench:*'
 */
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER preroll_bench

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "./lttng_tp.h"

#if !defined(PREROLL_BENCH_LTTNG_TP_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define PREROLL_BENCH_LTTNG_TP_H

#include <lttng/tracepoint.h>

LTTNG_UST_TRACEPOINT_EVENT(
    preroll_bench, msg,
    LTTNG_UST_TP_ARGS(const char *, message),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_string(message, message)
    )
)

#endif /* PREROLL_BENCH_LTTNG_TP_H */

#include <lttng/tracepoint-event.h>
