"""Each HTTP/2 abuse pattern ends its connection with GOAWAY
ENHANCE_YOUR_CALM well before the (bounded) flood is over: rapid reset
(HEADERS then RST_STREAM), PING, SETTINGS and PRIORITY floods, empty DATA
frames, a CONTINUATION flood, and MadeYouReset (frames that make the
server reset streams: a WINDOW_UPDATE that overflows a stream's window,
malformed request headers, DATA beyond content-length; WINDOW_UPDATE 0
and DATA after END_STREAM, which nghttp2 1.52 makes connection errors,
may instead end the connection at the first frame). Streams opened and
reset do not reach the backend in numbers beyond the limit; afterwards a
normal request on a new connection gets 200. Every flood is at most
10,000 frames within 5 s."""
import time

from hyperframe.frame import (ContinuationFrame, DataFrame, PingFrame,
                              PriorityFrame, RstStreamFrame, SettingsFrame,
                              WindowUpdateFrame)

from harness import Env, check, main
from tls_helpers import Certs, RawH2, h2_get, tls_conf

RESETS, CONTROL, GLITCHES = 100, 1000, 100
EXTRA = ("http2_max_resets %d;\nhttp2_max_control_frames %d;\n"
         "http2_max_glitches %d;\n" % (RESETS, CONTROL, GLITCHES))


def rapid_reset(raw):
    def batch(first, n):
        out = b""
        for i in range(first, first + n):
            sid = 1 + 2 * i
            out += raw.headers_frame(sid, raw.request_block("/rr/%d" % i))
            out += RstStreamFrame(sid, error_code=8).serialize()   # CANCEL
        return out, n
    return batch, 2000, 20


def ping(raw):
    def batch(first, n):
        return b"".join(PingFrame(0, opaque_data=i.to_bytes(8, "big"))
                        .serialize() for i in range(first, first + n)), n
    return batch, 10000, 100


def settings(raw):
    def batch(first, n):
        return b"".join(SettingsFrame(0, settings={3: 100 + i % 7})
                        .serialize() for i in range(first, first + n)), n
    return batch, 10000, 100


def priority(raw):
    def batch(first, n):
        return b"".join(PriorityFrame(3 + 2 * i, depends_on=1 + 2 * i,
                                      stream_weight=i % 256).serialize()
                        for i in range(first, first + n)), n
    return batch, 10000, 100


def empty_data(raw):
    raw.send(raw.headers_frame(1, raw.request_block("/ed", "POST"),
                               end_stream=False))

    def batch(first, n):
        return DataFrame(1, data=b"").serialize() * n, n
    return batch, 10000, 100


def hpack_int(value, prefix_bits):
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([value])
    out, value = [limit], value - limit
    while value >= 128:
        out.append((value & 0x7f) | 0x80)
        value >>= 7
    return bytes(out + [value])


def continuation(raw):
    raw.send(raw.headers_frame(1, raw.request_block("/cf"),
                               end_headers=False))

    def batch(first, n):
        out = b""
        for i in range(first, first + n):
            # literal never indexed, new name: a new field each frame
            name = b"x-c-%06d" % i
            piece = (b"\x10" + hpack_int(len(name), 7) + name +
                     hpack_int(16, 7) + b"v" * 16)
            out += ContinuationFrame(1, data=piece).serialize()
        return out, n
    return batch, 10000, 50


def window_update_zero(raw):
    def batch(first, n):
        out = b""
        for i in range(first, first + n):
            sid = 1 + 2 * i
            out += raw.headers_frame(
                sid, raw.request_block("/wu0/%d?delay=3000" % i))
            out += WindowUpdateFrame(sid, window_increment=0).serialize()
        return out, n
    return batch, 2000, 20


def data_after_end_stream(raw):
    def batch(first, n):
        out = b""
        for i in range(first, first + n):
            sid = 1 + 2 * i
            out += raw.headers_frame(
                sid, raw.request_block("/dae/%d?delay=3000" % i))
            out += DataFrame(sid, data=b"x").serialize()
        return out, n
    return batch, 2000, 20


def window_update_overflow(raw):
    def batch(first, n):
        out = b""
        for i in range(first, first + n):
            sid = 1 + 2 * i
            out += raw.headers_frame(
                sid, raw.request_block("/wuo/%d?delay=3000" % i))
            # the stream's send window passes 2^31-1: FLOW_CONTROL_ERROR
            out += WindowUpdateFrame(sid, window_increment=0x7fffffff) \
                .serialize()
        return out, n
    return batch, 2000, 20


def malformed_headers(raw):
    def batch(first, n):
        out = b""
        for i in range(first, first + n):
            out += raw.headers_frame(1 + 2 * i, raw.request_block(
                "/bh/%d" % i, extra=[("connection", "close")]))
        return out, n
    return batch, 2000, 20


def content_length_mismatch(raw):
    def batch(first, n):
        out = b""
        for i in range(first, first + n):
            sid = 1 + 2 * i
            out += raw.headers_frame(
                sid, raw.request_block("/clm/%d" % i, "POST",
                                       extra=[("content-length", "1")]),
                end_stream=False)
            out += DataFrame(sid, data=b"xy", flags=["END_STREAM"]) \
                .serialize()
        return out, n
    return batch, 2000, 20


# (what, pattern, backend path marker or None, how many of its requests
# may reach the backend, whether ending the connection at the first
# offending frame (a connection error nghttp2 raises by itself, so the
# server never resets streams over and over) counts as cut off too)
PATTERNS = [
    ("rapid reset (HEADERS + RST_STREAM)", rapid_reset, "/rr/", RESETS,
     False),
    ("PING flood", ping, None, None, False),
    ("SETTINGS flood", settings, None, None, False),
    ("PRIORITY flood", priority, None, None, False),
    ("empty DATA frames", empty_data, None, None, False),
    ("CONTINUATION flood", continuation, "/cf", 0, False),
    ("MadeYouReset: WINDOW_UPDATE past 2^31-1 on open streams",
     window_update_overflow, "/wuo/", GLITCHES, False),
    ("MadeYouReset: malformed request headers (connection field)",
     malformed_headers, "/bh/", 0, False),
    ("MadeYouReset: DATA beyond content-length", content_length_mismatch,
     "/clm/", GLITCHES, False),
    ("MadeYouReset: WINDOW_UPDATE 0 on open streams", window_update_zero,
     "/wu0/", GLITCHES, True),
    ("MadeYouReset: DATA after END_STREAM", data_after_end_stream,
     "/dae/", GLITCHES, True),
]


def test():
    with Env() as env:
        certs = Certs(env.dir)
        eu = env.backend("eu-1", region="eu")
        edge = env.edge(tls_conf(certs, extra=EXTRA), eu=eu.addr)
        st = h2_get(edge.port, "/before")
        check(st.status == 200, "a normal h2 request first: 200")

        for what, pattern, marker, bound, at_once_ok in PATTERNS:
            raw = RawH2(edge.port)
            raw.pump(0.3)
            batch, total, size = pattern(raw)
            t0 = time.monotonic()
            sent = raw.flood(batch, total, batch=size, seconds=5.0)
            raw.wait_end(2.0)
            took = time.monotonic() - t0
            ga = raw.goaway_name()
            at_once = (at_once_ok and ga not in (None, "NO_ERROR") and
                       raw.goaway[1] <= 1 and len(raw.rst) <= 1)
            check(ga == "ENHANCE_YOUR_CALM" or at_once,
                  "%s: GOAWAY ENHANCE_YOUR_CALM%s (got %s; %d of %d frames "
                  "sent in %.1f s; %s; received %r)"
                  % (what, " or a connection error at the first frame"
                     if at_once_ok else "", ga, sent, total, took,
                     raw.close_reason or "open", raw.counts))
            check(raw.goaway_after is not None and
                  raw.goaway_after < total,
                  "%s: it came well before the flood was over (after %s "
                  "of %d frames)" % (what, raw.goaway_after, total))
            if pattern is ping:
                acks = raw.counts.get("PingFrame+ACK", 0)
                check(acks <= 2 * CONTROL, "%s: at most about the limit "
                      "answered (%d PING ACKs)" % (what, acks))
            raw.close()
            if marker is not None:
                time.sleep(0.5)
                n = sum(1 for e in eu.heads()
                        if e.get("path", "").startswith(marker))
                check(n <= int(bound * 1.5),
                      "%s: %d of its requests reached the backend (limit "
                      "%d)" % (what, n, bound))
            st = h2_get(edge.port, "/after")
            check(st.status == 200, "%s: afterwards a new connection is "
                  "served (%r)" % (what, st.status))

        check(edge.proc.poll() is None, "the daemon is alive")
        env.stop_edge(edge)


main(test)
