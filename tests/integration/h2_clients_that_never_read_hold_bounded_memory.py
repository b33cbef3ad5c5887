"""HTTP/2 clients that open 100 downloads per connection and never read
hold little of the proxy's memory: each stream keeps about one DATA
frame's worth of response toward the client and leaves the rest unread
at the backend, so 4 such connections (400 streams of 100 MB each) grow
the proxy's RSS by less than 48 MiB (it was about 20 MiB per connection
when a stream held buffer_size several times). send_timeout then
cancels the stuck streams, and the proxy serves others meanwhile and
after. The memory bound is asserted on the normal build only: the
sanitizers inflate memory."""
import time

from harness import Env, SANITIZERS, check, main
from tls_helpers import Certs, H2Client, RawH2, tls_conf

CONNS, STREAMS = 4, 100


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test():
    with Env() as env:
        certs = Certs(env.dir)
        eu = env.backend("eu-1", region="eu")
        edge = env.edge(tls_conf(certs, extra="send_timeout 4s;\n"),
                        eu=eu.addr)
        c = H2Client(edge.port)
        check(c.get("/warm").status == 200, "a first request: 200")
        c.close()
        time.sleep(0.5)
        base = rss_kib(edge.proc.pid)

        stuck = []
        for i in range(CONNS):
            raw = RawH2(edge.port)
            for k in range(STREAMS):
                raw.send(raw.headers_frame(
                    1 + 2 * k,
                    raw.request_block("/stuck/%d/%d?size=100000000"
                                      % (i, k))))
            stuck.append(raw)

        peak = 0
        for _ in range(3):
            time.sleep(1)
            peak = max(peak, rss_kib(edge.proc.pid))
        grown = (peak - base) // 1024
        if not SANITIZERS:
            check(grown < 48, "%d connections x %d unread downloads grew "
                  "RSS by %d MiB (< 48 MiB)" % (CONNS, STREAMS, grown))

        c = H2Client(edge.port)
        check(c.get("/meanwhile").status == 200,
              "another client is served meanwhile")
        c.close()

        time.sleep(6)     # send_timeout (4 s) cancels the stuck streams
        for raw in stuck:
            raw.close()
        c = H2Client(edge.port)
        check(c.get("/after").status == 200, "and after")
        c.close()
        env.stop_edge(edge)


main(test)
