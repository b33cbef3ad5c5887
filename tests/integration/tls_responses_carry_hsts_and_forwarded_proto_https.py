"""With `hsts` in the tls block, every response on a TLS listener, over
HTTP/1.1 and HTTP/2, carries Strict-Transport-Security with the
configured value, and a response on a cleartext listener does not;
backends get X-Forwarded-Proto https for TLS requests and http for
cleartext ones, whatever the client claimed."""
import socket

from harness import Env, check, free_port, main, wait_port
from harness import read_response, send_request
from tls_helpers import Certs, H2Client, tls_conf, tls_connect

HSTS = "max-age=31536000; includeSubDomains"


def test():
    with Env() as env:
        certs = Certs(env.dir)
        eu = env.backend("eu-1", region="eu")
        plain = free_port()
        edge = env.edge(tls_conf(certs, ['hsts "%s";' % HSTS],
                                 extra="listen 127.0.0.1:{plain};\n"),
                        eu=eu.addr, plain=plain)
        check(wait_port(plain, edge.proc), "the cleartext listener is up")

        s = tls_connect(edge.port, alpn=["http/1.1"])
        send_request(s, "GET", "/h1", "acme.edge.test",
                     {"X-Forwarded-Proto": "http"})
        r = read_response(s)
        s.close()
        check(r.status == 200, "HTTP/1.1 over TLS: 200")
        check(r.headers.get("strict-transport-security") == HSTS,
              "HTTP/1.1 over TLS carries Strict-Transport-Security %r (%r)"
              % (HSTS, r.headers.get("strict-transport-security")))
        check(r.json()["headers"].get("x-forwarded-proto") == "https",
              "the backend got X-Forwarded-Proto https")

        s = socket.create_connection(("127.0.0.1", plain), timeout=10)
        send_request(s, "GET", "/plain", "acme.edge.test",
                     {"X-Forwarded-Proto": "https"})
        r = read_response(s)
        s.close()
        check(r.status == 200 and
              "strict-transport-security" not in r.headers,
              "a cleartext response carries no Strict-Transport-Security")
        check(r.json()["headers"].get("x-forwarded-proto") == "http",
              "and the backend got X-Forwarded-Proto http, not the "
              "client's claim")

        c = H2Client(edge.port)
        st = c.get("/h2")
        st404 = c.get("/nobody", authority="nobody.edge.test")
        st400 = c.get("/a/../b")
        c.close()
        check(st.status == 200 and
              st.headers.get("strict-transport-security") == HSTS,
              "HTTP/2 responses carry it too (%r)"
              % st.headers.get("strict-transport-security"))
        check(st.json()["headers"].get("x-forwarded-proto") == "https",
              "and h2 requests reach the backend with X-Forwarded-Proto "
              "https")
        check(st404.status == 404 and
              st404.headers.get("strict-transport-security") == HSTS,
              "the edge's own refusals over TLS carry it as well")
        check(st400.status == 400 and
              st400.headers.get("strict-transport-security") == HSTS,
              "an h2 request refused by the protocol checks too (%r)"
              % st400.status)

        # A request the HTTP/1.1 parser refuses: answered by the edge
        # before any module runs, still with the header.
        s = tls_connect(edge.port, alpn=["http/1.1"])
        s.sendall(b"GET /a/../b HTTP/1.1\r\nHost: acme.edge.test\r\n\r\n")
        r = read_response(s)
        s.close()
        check(r.status == 400 and
              r.headers.get("strict-transport-security") == HSTS,
              "an HTTP/1.1 request refused by the parser over TLS: 400 "
              "with Strict-Transport-Security (%r %r)"
              % (r.status, r.headers.get("strict-transport-security")))
        env.stop_edge(edge)

        edge = env.edge(tls_conf(certs), name="nohsts", eu=eu.addr)
        s = tls_connect(edge.port, alpn=["http/1.1"])
        send_request(s, "GET", "/h1", "acme.edge.test")
        r = read_response(s)
        s.close()
        check(r.status == 200 and
              "strict-transport-security" not in r.headers,
              "without hsts configured, no Strict-Transport-Security")
        env.stop_edge(edge)


main(test)
