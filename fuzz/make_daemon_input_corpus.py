#!/usr/bin/env python3
"""Writes the seed corpora of the daemon-input fuzzers (docs/fuzzing.md):

  fuzz/corpus/shm_segment/      segment images for shm_segment_fuzzer
  fuzz/corpus/wire_parse/       registration messages for wire_parse_fuzzer
  fuzz/corpus/control_request/  control request lines for control_request_fuzzer

The same bytes every time. Written from the layouts in
shm_protocol/include/preroll/shm/{abi.hpp,event_record.hpp,wire.hpp} and
docs/protocol.md, not with the project's encoders, so a seed is also a check
of the spec. Usage: fuzz/make_daemon_input_corpus.py [FUZZ_DIR]
"""
import os
import struct
import sys

# --- shm_segment_fuzzer: input = control(8) + counters(64) + lanes(2 x 1024)
#     + ring headers(8 x 64) + ring bytes (8 x 4096), each region optional.
LANES, RINGS, RING_SIZE = 2, 4, 4096
NO_ACTIVE = 0xFFFFFFFF
FREE, ACTIVE, SUBMITTED, HELD = 0, 1, 2, 3
LANE_FREE, LANE_ACTIVE, LANE_RETIRED = 0, 1, 2


def record(message, level=2, flags=0, name=b"t", ts=1000):
    body = struct.pack("<QHBBBBH", ts, len(message), len(name), level, 0, flags, 0) + name + message
    return body + b"\0" * (-len(body) % 8)


def records(messages, marked_at=None, start_ts=1000):
    out = b""
    for i, m in enumerate(messages):
        flags = 1 if i == marked_at else 0
        level = 4 if i == marked_at else 2
        out += record(m, level=level, flags=flags, ts=start_ts + i)
    return out


def queue(tail, head, slots):
    q = bytearray(384)
    struct.pack_into("<I", q, 0, tail)
    struct.pack_into("<I", q, 64, head)
    for i, v in enumerate(slots):
        struct.pack_into("<I", q, 128 + 4 * (i % 64), v)
    return bytes(q)


def lane(state=LANE_FREE, active=NO_ACTIVE, submit=(0, 0, []), free=(RINGS, 0, list(range(RINGS))), tid=0):
    b = bytearray(1024)
    struct.pack_into("<IIII", b, 0, state, tid, active, 0)
    b[128:512] = queue(*submit)
    b[512:896] = queue(*free)
    return bytes(b)


def ring_header(state=FREE, committed=0, generation=0, sequence=0, start=0, wrap_end=0,
                overwritten=0, persisted_sequence=0, persisted_events=0):
    return struct.pack("<IIQQQQIIQI4x", state, committed, generation, sequence, overwritten,
                       overwritten * 64, start, wrap_end, persisted_sequence, persisted_events)


def image(control, lanes=None, headers=None, rings=None):
    """rings: {global ring number: bytes}; regions after the last given one are left out."""
    out = bytes(control).ljust(8, b"\0") + b"\0" * 64
    if lanes is None:
        return out
    lanes = list(lanes) + [lane() for _ in range(LANES - len(lanes))]
    out += b"".join(lanes)
    if headers is None:
        return out
    hs = dict(headers)
    out += b"".join(hs.get(g, ring_header()) for g in range(LANES * RINGS))
    if rings:
        last = max(rings)
        for g in range(last + 1):
            data = rings.get(g, b"")
            out += data if g == last else data.ljust(RING_SIZE, b"\0")
    return out


def shm_seeds():
    filler = [b"filler event number %d" % i for i in range(6)]
    marked = filler[:3] + [b"request failed: MARK error42"] + filler[3:]
    s = {}
    s["empty"] = b""
    s["control-only-prescope"] = image([2 | 4, 31, 1])
    # One full ring submitted on lane 0, holding a client-marked event.
    r0 = records(marked, marked_at=3)
    s["submitted-marked"] = image(
        [0, 0, 0],
        [lane(LANE_ACTIVE, NO_ACTIVE, (1, 0, [0]), (RINGS, 1, [0, 1, 2, 3]))],
        {0: ring_header(SUBMITTED, len(r0), 1, 1)},
        {0: r0})
    # Two windows, pre-roll 2: the unmarked one is held, then written before the marked one.
    u = records(filler)
    s["held-then-marked"] = image(
        [2, 0, 0],
        [lane(LANE_ACTIVE, NO_ACTIVE, (2, 0, [0, 1]), (RINGS, 2, [0, 1, 2, 3]))],
        {0: ring_header(SUBMITTED, len(u), 1, 1), 1: ring_header(SUBMITTED, len(r0), 1, 2)},
        {0: u, 1: r0})
    # A wrapped ring: [start, wrap_end) then [0, committed).
    older = records(filler, start_ts=500)
    newer = records(marked, marked_at=3, start_ts=900)
    start = 2048
    wrapped = newer.ljust(start, b"\0") + older
    s["wrapped-ring"] = image(
        [0, 0, 0],
        [lane(LANE_ACTIVE, NO_ACTIVE, (1, 0, [0]), (RINGS, 1, [0, 1, 2, 3]))],
        {0: ring_header(SUBMITTED, len(newer), 3, 1, start, start + len(older), overwritten=4)},
        {0: wrapped})
    # The writer's active ring holds a mark: --flush-after (forced) writes it.
    s["active-ring-flush"] = image(
        [0, 2 | 4, 0],
        [lane(LANE_ACTIVE, 2, (0, 0, []), (RINGS, 1, [2, 0, 1, 3]))],
        {2: ring_header(ACTIVE, len(r0), 2, 1)},
        {2: r0})
    # An active ring salvaged at a crash, with --on-crash all and process scope.
    s["active-ring-crash"] = image(
        [4, 0, 1],
        [lane(LANE_ACTIVE, 1, (0, 0, []), (RINGS, 2, [0, 1, 2, 3])),
         lane(LANE_ACTIVE, 0, (1, 0, [1]), (RINGS, 2, [0, 1, 2, 3]))],
        {1: ring_header(ACTIVE, len(u), 1, 1), 4: ring_header(ACTIVE, len(u), 1, 1),
         5: ring_header(SUBMITTED, len(r0), 1, 2)},
        {1: u, 4: u, 5: r0})
    # Lane 1's thread exited: its last ring submitted, the lane retired.
    s["retired-lane"] = image(
        [0, 16, 0],
        [lane(), lane(LANE_RETIRED, NO_ACTIVE, (1, 0, [3]), (RINGS, 1, [3, 0, 1, 2]))],
        {7: ring_header(SUBMITTED, len(r0), 1, 1)},
        {7: r0})
    # A ring left HELD by a daemon that died: reclaimed at the first drain.
    s["held-by-previous-daemon"] = image(
        [0, 0, 0],
        [lane(LANE_ACTIVE, NO_ACTIVE, (1, 1, [2]), (RINGS + 1, 2, [0, 1, 2, 3, 0]))],
        {2: ring_header(HELD, len(r0), 1, 1)},
        {2: r0})
    # Part of the ring was written early by a daemon (persisted_*): skipped.
    s["already-persisted"] = image(
        [0, 0, 0],
        [lane(LANE_ACTIVE, NO_ACTIVE, (1, 0, [0]), (RINGS, 1, [0, 1, 2, 3]))],
        {0: ring_header(SUBMITTED, len(r0), 1, 7, persisted_sequence=7, persisted_events=2)},
        {0: r0})
    # A count condition: "twice" marks at its second match.
    tw = records([b"twice once", b"filler", b"twice again", b"err 7 error12"])
    s["count-condition"] = image(
        [0, 0, 0],
        [lane(LANE_ACTIVE, NO_ACTIVE, (1, 0, [0]), (RINGS, 1, [0, 1, 2, 3]))],
        {0: ring_header(SUBMITTED, len(tw), 1, 1)},
        {0: tw})
    # Corrupt: committed past the ring; a record overrunning committed.
    s["corrupt-committed"] = image(
        [0, 0, 0],
        [lane(LANE_ACTIVE, NO_ACTIVE, (1, 0, [0]), (RINGS, 1, [0, 1, 2, 3]))],
        {0: ring_header(SUBMITTED, RING_SIZE + 8, 1, 1)},
        {0: r0})
    s["corrupt-record"] = image(
        [0, 0, 0],
        [lane(LANE_ACTIVE, NO_ACTIVE, (1, 0, [0]), (RINGS, 1, [0, 1, 2, 3]))],
        {0: ring_header(SUBMITTED, 24, 1, 1)},
        {0: record(b"x" * 300)})
    # Faulty: an index out of range; a ring submitted twice; queue positions impossible.
    s["faulty-index"] = image(
        [0, 0, 0], [lane(LANE_ACTIVE, NO_ACTIVE, (1, 0, [9]), (RINGS, 0, [0, 1, 2, 3]))])
    s["faulty-double-submit"] = image(
        [0, 0, 0],
        [lane(LANE_ACTIVE, NO_ACTIVE, (2, 0, [0, 0]), (RINGS, 1, [0, 1, 2, 3]))],
        {0: ring_header(SUBMITTED, len(r0), 1, 1)},
        {0: r0})
    s["faulty-submit-in-free-queue"] = image(
        [0, 0, 0],
        [lane(LANE_ACTIVE, NO_ACTIVE, (1, 0, [2]), (RINGS, 1, [0, 1, 2, 3]))],
        {2: ring_header(SUBMITTED, len(r0), 1, 1)},
        {2: r0})
    s["faulty-positions"] = image(
        [0, 0, 0], [lane(LANE_ACTIVE, NO_ACTIVE, (1000, 0, [0]), (RINGS, 900, [0, 1, 2, 3]))])
    return s


# --- wire_parse_fuzzer: input = descriptor count byte + message -------------
MAGIC = 0x4C525250


def wire_msg(type_, size, body=b"", magic=MAGIC, size_field=None):
    head = struct.pack("<IHH", magic, type_, size if size_field is None else size_field)
    return (head + body).ljust(size, b"\0")[:size]


def wire_seeds():
    hello = wire_msg(1, 24, struct.pack("<IIQ", 1, 4242, 40960))
    bell = wire_msg(2, 16, struct.pack("<II", 3, 0))
    bye = wire_msg(3, 8)
    return {
        "hello": b"\x01" + hello,
        "hello-no-fd": b"\x00" + hello,
        "hello-two-fds": b"\x02" + hello,
        "doorbell": b"\x00" + bell,
        "doorbell-with-fd": b"\x01" + bell,
        "goodbye": b"\x00" + bye,
        "bad-magic": b"\x00" + wire_msg(2, 16, magic=0x58525250),
        "size-field-mismatch": b"\x00" + wire_msg(2, 16, size_field=15),
        "unknown-type": b"\x00" + wire_msg(77, 16),
        "short": b"\x00PRR",
        "hello-too-long": b"\x01" + wire_msg(1, 32, struct.pack("<IIQ", 1, 1, 1)),
    }


# --- control_request_fuzzer: input = one request line ----------------------
def control_seeds():
    lines = {
        "version": '{"cmd":"version"}',
        "stats": '{"cmd":"stats"}',
        "stats-prometheus": '{"cmd":"stats","format":"prometheus"}',
        "policy": '{"cmd":"policy"}',
        "clients": '{"cmd":"clients"}',
        "reload": '{"cmd":"reload"}',
        "snapshot": '{"cmd":"snapshot","pid":1234,"reason":"operator asked \\u00e9"}',
        "flush-one": '{"cmd":"flush","pid":99}',
        "flush-all": '{"cmd":"flush"} \r',
        "bad-pid": '{"cmd":"snapshot","pid":-1}',
        "big-pid": '{"cmd":"flush","pid":4294967296}',
        "not-object": '["cmd","stats"]',
        "unknown": '{"cmd":"' + "x" * 80 + '"}',
        "malformed": '{"cmd":"stats"',
        "blank": " \t ",
        "nested": '{"cmd":"stats","format":{"a":[1,2,{"b":null}]}}',
    }
    return {k: v.encode() for k, v in lines.items()}


def write(dirname, seeds):
    os.makedirs(dirname, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(dirname, name), "wb") as f:
            f.write(data)


def main():
    fuzz = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    write(os.path.join(fuzz, "corpus", "shm_segment"), shm_seeds())
    write(os.path.join(fuzz, "corpus", "wire_parse"), wire_seeds())
    write(os.path.join(fuzz, "corpus", "control_request"), control_seeds())


if __name__ == "__main__":
    main()
