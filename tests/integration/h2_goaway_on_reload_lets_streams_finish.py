"""SIGHUP (a reload of the TLS certificates) sends every HTTP/2 client
on a TLS connection a graceful GOAWAY, so that its next requests come
on a new connection with the new certificates: the request in flight
completes with 200 on the old connection, the daemon keeps serving new
connections, and nothing is dropped.

The client is the raw frame one: python-h2 treats any GOAWAY as the end
of the connection and would refuse the response that follows it."""
import json
import signal
import time

from harness import Env, check, main
from tls_helpers import Certs, H2Client, RawH2, code_name, tls_conf


def wait_stream(raw, sid, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not raw.closed and \
            sid not in raw.ended and sid not in raw.rst:
        raw.pump(0.2)


def test():
    with Env() as env:
        certs = Certs(env.dir)
        eu = env.backend("eu-1", region="eu")
        edge = env.edge(tls_conf(certs), eu=eu.addr)
        raw = RawH2(edge.port)
        raw.keep_data = True
        raw.send(raw.headers_frame(1, raw.request_block("/warm")))
        wait_stream(raw, 1, 10)
        check(raw.status.get(1) == 200 and 1 in raw.ended,
              "a first request on the h2 connection: 200")
        check(not raw.goaways, "no GOAWAY before the reload")

        raw.send(raw.headers_frame(3, raw.request_block("/slow?delay=2000")))
        raw.pump(0.5)
        edge.proc.send_signal(signal.SIGHUP)
        wait_stream(raw, 3, 15)
        check(raw.goaways, "the h2 client got GOAWAY after SIGHUP")
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
        check(body.get("path") == "/slow?delay=2000", "with its own body")
        raw.close()

        c = H2Client(edge.port)
        st = c.get("/after-reload")
        c.close()
        check(edge.proc.poll() is None and st.status == 200,
              "the daemon still serves a new h2 connection (%r)" % st.status)
        out = env.stop_edge(edge)
        check(out.count("notice reloaded: TLS certificates") == 1,
              "the reload was logged once")


main(test)
