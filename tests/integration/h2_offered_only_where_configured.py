"""HTTP/2 is offered only where configured: a TLS listener offers h2 by
ALPN by default and not with `http2 off` (then an h2-capable client gets
HTTP/1.1 and is served); a cleartext listener answers the HTTP/2 preface
only with `h2c on` (by default the preface is refused as HTTP/1.1 and
nothing reaches the backend), and keeps serving HTTP/1.1 either way."""
import subprocess

from harness import Env, check, free_port, main, wait_port
from tls_helpers import Certs, H2Client, s_client, tls_conf

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def alpn(edge):
    c = s_client(edge.port, "-alpn", "h2,http/1.1",
                 servername="acme.edge.test")
    return c.alpn


def curl_version(url, port, *args):
    p = subprocess.run(["curl", "-sk", "-o", "/dev/null", "-w",
                        "%{http_version} %{http_code}", "--resolve",
                        "acme.edge.test:%d:127.0.0.1" % port] + list(args)
                       + [url], capture_output=True, timeout=30)
    return p.stdout.decode().strip()


def test():
    with Env() as env:
        certs = Certs(env.dir)
        eu = env.backend("eu-1", region="eu")
        plain = free_port()
        edge = env.edge(tls_conf(certs, extra="listen 127.0.0.1:{plain};\n"),
                        eu=eu.addr, plain=plain)
        check(wait_port(plain, edge.proc), "the cleartext listener is up")
        check(alpn(edge) == "h2", "by default ALPN selects h2")
        url = "https://acme.edge.test:%d/" % edge.port
        check(curl_version(url, edge.port, "--http2") == "2 200",
              "and curl --http2 is served over h2")

        purl = "http://acme.edge.test:%d/pk" % plain
        got = curl_version(purl, plain, "--http2-prior-knowledge")
        check(not got.startswith("2 2"), "without h2c the cleartext "
              "listener does not serve HTTP/2 prior knowledge (%s)" % got)
        out = edge.raw(PREFACE, timeout=3)
        check(not out.startswith(b"\x00") and b" 200 " not in out[:20],
              "the bare preface is not answered as HTTP/2 (%r)" % out[:40])
        check(not any(e.get("path", "").startswith("/pk")
                      for e in eu.heads()) and
              not any(e.get("method") == "PRI" for e in eu.heads()),
              "and nothing of it reached the backend")
        check(curl_version(purl, plain, "--http1.1") == "1.1 200",
              "HTTP/1.1 on that listener is served")
        env.stop_edge(edge)

        edge = env.edge(tls_conf(certs, extra="http2 off;\n"
                                 "listen 127.0.0.1:{plain};\nh2c on;\n"),
                        name="edge-off", eu=eu.addr, plain=plain)
        check(alpn(edge) in (None, "http/1.1"),
              "with http2 off ALPN does not select h2 (%r)" % alpn(edge))
        url = "https://acme.edge.test:%d/" % edge.port
        check(curl_version(url, edge.port, "--http2") == "1.1 200",
              "and curl --http2 is served over HTTP/1.1")
        c = H2Client(plain, tls=False)
        st = c.get("/h2c")
        c.close()
        check(st.status == 200, "h2c on still serves prior knowledge on "
              "the cleartext listener (%r)" % st.status)
        env.stop_edge(edge)


main(test)
