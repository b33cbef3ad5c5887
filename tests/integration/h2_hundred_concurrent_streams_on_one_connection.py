"""One HTTP/2 connection carries 100 concurrent streams: the server
advertises SETTINGS_MAX_CONCURRENT_STREAMS 100, 100 slow requests opened
at once all get 200 with their own bodies (python-h2, then h2load -n 100
-c 1 -m 100), and a 101st stream opened while 100 are in flight is
refused (RST_STREAM REFUSED_STREAM or PROTOCOL_ERROR, or GOAWAY
PROTOCOL_ERROR) and never reaches the backend."""
import re
import subprocess
import time

from harness import Env, check, main
from tls_helpers import Certs, H2Client, RawH2, code_name, tls_conf

MAX_CONCURRENT_STREAMS = 3


def test():
    with Env() as env:
        certs = Certs(env.dir)
        eu = env.backend("eu-1", region="eu")
        edge = env.edge(tls_conf(
            certs, extra="http2_max_concurrent_streams 100;\n"), eu=eu.addr)

        c = H2Client(edge.port, timeout=30)
        check(c.wait_settings(), "the server sent its SETTINGS")
        check(c.server_settings.get(MAX_CONCURRENT_STREAMS) == 100,
              "it advertises MAX_CONCURRENT_STREAMS 100 (%r)"
              % c.server_settings.get(MAX_CONCURRENT_STREAMS))
        t0 = time.monotonic()
        sids = {c.start("GET", "/c/%d?delay=1000" % i): i
                for i in range(100)}
        c.wait(list(sids), 30)
        took = time.monotonic() - t0
        bad = []
        for sid, i in sids.items():
            st = c.streams[sid]
            path = st.json().get("path", "") if st.status == 200 else ""
            if st.status != 200 or not path.startswith("/c/%d?" % i):
                bad.append((i, st.status, st.reset, path))
        check(not bad, "all 100 concurrent streams got 200 with their own "
              "body%s" % (" (wrong, first 5: %r)" % bad[:5] if bad else ""))
        check(took < 10, "they ran concurrently (%.1f s for 100 requests "
              "of 1 s each)" % took)
        c.close()

        raw = RawH2(edge.port)
        raw.pump(0.5)
        check(raw.server_settings is not None, "raw client: SETTINGS seen")
        frames = b""
        for i in range(101):
            frames += raw.headers_frame(
                1 + 2 * i, raw.request_block("/over/%d?delay=1500" % i))
        raw.send(frames, 101)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not raw.closed and \
                len(raw.ended) + len(raw.rst) < 101 and \
                raw.goaway is None:
            raw.pump(0.2)
        last = 1 + 2 * 100
        ga = raw.goaway
        refused = (raw.rst.get(last) in (7, 1) or
                   (ga is not None and ga[0] == 1 and ga[1] < last))
        check(refused, "the 101st concurrent stream is refused (RST %s, "
              "GOAWAY %s)" % (raw.rst.get(last) is not None and
                              code_name(raw.rst[last]),
                              ga and (code_name(ga[0]), ga[1])))
        if ga is None:
            served = sum(1 for i in range(100)
                         if raw.status.get(1 + 2 * i) == 200)
            check(served == 100, "the 100 others are served (%d)" % served)
        raw.close()
        time.sleep(0.3)
        paths = [e.get("path", "") for e in eu.heads()]
        check(not any(p.startswith("/over/100?") for p in paths),
              "the refused stream never reached the backend")

        p = subprocess.run(["h2load", "-n", "100", "-c", "1", "-m", "100",
                            "-H", ":authority: acme.edge.test",
                            "https://127.0.0.1:%d/h2load?delay=500"
                            % edge.port],
                           capture_output=True, timeout=60)
        out = p.stdout.decode("utf-8", "replace")
        m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, "
                      r"(\d+) succeeded", out)
        s = re.search(r"status codes: (\d+) 2xx", out)
        check(p.returncode == 0 and m and m.group(4) == "100" and s and
              s.group(1) == "100",
              "h2load -n 100 -c 1 -m 100: 100 succeeded with 2xx (%s)"
              % " / ".join(x for x in out.splitlines()
                           if "requests:" in x or "status codes" in x))
        check("TLS Protocol: TLSv1.3" in out or "Protocol: TLSv1" in out,
              "over TLS (%s)" % re.findall(r"TLS Protocol: \S+", out))
        check(edge.proc.poll() is None, "the edge is still running")
        env.stop_edge(edge)


main(test)
