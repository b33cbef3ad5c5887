"""SIGTERM drains HTTP/2 connections gracefully: an h2 connection with a
slow request in flight gets GOAWAY NO_ERROR (its last stream id covers
the request), the response in flight completes with 200 on the same
connection, and the daemon exits 0 after the drain.

The client is the raw frame one: python-h2 treats any GOAWAY as the end
of the connection and would refuse the response that follows it."""
import json
import signal
import time

from harness import Env, check, main
from tls_helpers import Certs, RawH2, code_name, tls_conf


def wait_stream(raw, sid, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not raw.closed and \
            sid not in raw.ended and sid not in raw.rst:
        raw.pump(0.2)


def test():
    with Env() as env:
        certs = Certs(env.dir)
        eu = env.backend("eu-1", region="eu")
        edge = env.edge(tls_conf(certs, extra="drain_timeout 8s;\n"),
                        eu=eu.addr)
        raw = RawH2(edge.port)
        raw.keep_data = True
        raw.send(raw.headers_frame(1, raw.request_block("/warm")))
        wait_stream(raw, 1, 10)
        check(raw.status.get(1) == 200 and 1 in raw.ended,
              "a first request on the h2 connection: 200")

        raw.send(raw.headers_frame(3, raw.request_block("/slow?delay=2500")))
        raw.pump(0.8)
        t0 = time.monotonic()
        edge.signal(signal.SIGTERM)
        wait_stream(raw, 3, 15)
        check(raw.goaways, "the h2 client got GOAWAY")
        codes = [code_name(code) for code, _ in raw.goaways]
        check(all(x == "NO_ERROR" for x in codes),
              "GOAWAY NO_ERROR (%s)" % codes)
        check(raw.goaways[-1][1] >= 3,
              "its last stream id (%d) covers the request in flight (3)"
              % raw.goaways[-1][1])
        check(raw.status.get(3) == 200 and 3 in raw.ended,
              "the request in flight completed with 200 (%r, reset %r, %s)"
              % (raw.status.get(3), raw.rst.get(3), raw.close_reason))
        body = json.loads(bytes(raw.data.get(3, b"{}")).decode())
        check(body.get("path") == "/slow?delay=2500", "with its own body")
        raw.close()
        out = env.stop_edge(edge)     # fails the test unless exit 0
        check(time.monotonic() - t0 < 8, "the daemon exited after the "
              "drain, before drain_timeout")
        check("tenantedge stopped" in out, "and it stopped cleanly")


main(test)
