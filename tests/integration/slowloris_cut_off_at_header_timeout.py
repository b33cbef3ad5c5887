"""A client that trickles its head (slowloris) is cut off at
client_header_timeout, while other clients are served meanwhile."""
import socket
import time
from harness import Env, check, main, CONFIG_TWO_REGIONS


def test():
    with Env() as env:
        eu = env.backend("eu-1", region="eu")
        us = env.backend("us-1", region="us")
        edge = env.edge(CONFIG_TWO_REGIONS + "client_header_timeout 2s;\n",
                        eu=eu.addr, us=us.addr)
        s = edge.connect(timeout=15)
        s.sendall(b"GET / HTTP/1.1\r\nHost: acme.edge.test\r\n")
        t0 = time.monotonic()
        closed_at = None
        for i in range(30):              # one byte every 0.5 s, for 15 s
            try:
                s.sendall(b"X")
                s.settimeout(0.5)
                data = s.recv(4096)
                if data == b"" or data.startswith(b"HTTP/"):
                    closed_at = time.monotonic() - t0
                    break
            except socket.timeout:
                pass
            except OSError:
                closed_at = time.monotonic() - t0
                break
            r = edge.get("/meanwhile", host="acme.edge.test")
            if i == 1:
                check(r.status == 200, "other clients are served meanwhile")
        s.close()
        check(closed_at is not None, "the slow client was cut off")
        check(1.5 <= closed_at <= 6,
              "it was cut off at the header timeout (%.1fs)" % closed_at)
        check(all(h["path"] == "/meanwhile" for h in eu.heads()),
              "the slow request never reached the backend")


main(test)
