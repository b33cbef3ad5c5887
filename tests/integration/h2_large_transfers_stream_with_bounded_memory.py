"""Over HTTP/2 on TLS, a 256 MiB upload and a 256 MiB download pass
through intact (SHA-256 compared end to end) while the proxy's peak RSS
stays under 64 MiB: request DATA is taken only as the backend takes it
and response DATA only as the client's window allows, so neither side
is buffered whole. Under the sanitizers (which inflate memory and time)
64 MiB each way, checked for integrity only."""
import hashlib
import os
import time

from harness import (Env, check, main, pattern_sha256, rss_peak_kib,
                     SANITIZERS)
from tls_helpers import Certs, H2Client, tls_conf

SIZE = (64 << 20) if SANITIZERS else (256 << 20)
SECONDS = 600


def upload(c, size):
    h = hashlib.sha256()
    block = os.urandom(1 << 20)

    def chunks():
        sent = 0
        while sent < size:
            piece = block[:min(len(block), size - sent)]
            h.update(piece)
            sent += len(piece)
            yield piece

    deadline = time.monotonic() + SECONDS
    sid = c.start("POST", "/upload", end_stream=False,
                  headers=[("content-length", str(size))])
    ok = c.send_body(sid, chunks(), deadline)
    check(ok, "the whole upload was sent under flow control")
    c.wait([sid], max(deadline - time.monotonic(), 1))
    return c.streams[sid], h.hexdigest()


def test():
    with Env() as env:
        certs = Certs(env.dir)
        eu = env.backend("eu-1", region="eu")
        edge = env.edge(tls_conf(certs, extra="client_max_body_size 1g;\n"),
                        eu=eu.addr)
        c = H2Client(edge.port, timeout=SECONDS)
        st, digest = upload(c, SIZE)
        check(st.status == 200, "h2 upload of %d MiB answered 200 (%r)"
              % (SIZE >> 20, st.status))
        body = st.json()
        check(body["body_length"] == SIZE and body["body_sha256"] == digest,
              "the backend received the upload intact (SHA-256 matches)")

        sid = c.start("GET", "/?size=%d" % SIZE, sink=hashlib.sha256())
        c.wait([sid], SECONDS)
        st = c.streams[sid]
        check(st.status == 200 and st.ended,
              "h2 download answered 200 and ended (%r)" % st.status)
        check(st.length == SIZE, "download of %d MiB complete (%d bytes)"
              % (SIZE >> 20, st.length))
        check(st.sink.hexdigest() == pattern_sha256(SIZE),
              "the download arrived intact (SHA-256 matches)")
        c.close()

        if not SANITIZERS:
            peak = rss_peak_kib(edge.pid)
            check(0 < peak < 64 * 1024,
                  "peak RSS %d KiB stayed under 64 MiB" % peak)
        env.stop_edge(edge)


main(test)
