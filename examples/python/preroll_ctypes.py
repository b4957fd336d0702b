#!/usr/bin/env python3
"""Binding preroll's C API from Python with ctypes (no compiled glue).

Records 500 steps, marks the one that fails, flushes and prints this
process's capture counters as JSON. PREROLL_LIBRARY names the library
(default: libpreroll.so.0 from the loader's path)."""
import ctypes, json, os

lib = ctypes.CDLL(os.environ.get("PREROLL_LIBRARY", "libpreroll.so.0"))
lib.preroll_emit_n.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t]
lib.preroll_mark_n.argtypes = lib.preroll_emit_n.argtypes
INFO, ERROR = 2, 4  # enum preroll_level

def emit(level, name, message, mark=False):
    n, m = name.encode(), message.encode()
    (lib.preroll_mark_n if mark else lib.preroll_emit_n)(level, n, len(n), m, len(m))

class Counters(ctypes.Structure):  # struct preroll_counters, field for field
    _fields_ = [(f, ctypes.c_uint64) for f in (
        "events_written", "bytes_written", "events_overwritten", "bytes_overwritten", "events_truncated",
        "events_dropped_nested", "events_dropped_no_lane", "events_dropped_disabled", "ring_swaps",
        "swaps_without_spare")] + [(f, ctypes.c_uint32) for f in ("lanes_in_use", "daemon_connected", "daemon_connects")]

for step in range(500):
    emit(INFO, "py.step", f"step {step}: ok")
emit(ERROR, "py.step", "step 500: disk quota exceeded", mark=True)
lib.preroll_flush()
counters = Counters()
assert lib.preroll_get_counters(ctypes.byref(counters)) == 0
lib.preroll_shutdown()
print(json.dumps({f: getattr(counters, f) for f, _ in Counters._fields_}))
