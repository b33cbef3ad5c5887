"""An HTTP/2 connection gets client_header_timeout until its first
request, as an HTTP/1.1 one does: a TLS client that chose h2 and then
sends nothing, or only the preface, or the preface and SETTINGS, and an
h2c client that sends the preface and SETTINGS, are all closed soon
after the header timeout, not after http2_idle_timeout. A connection
that has served a request is then held to http2_idle_timeout instead."""
import socket
import time

from harness import Env, check, free_port, main, wait_port
from tls_helpers import Certs, H2Client, tls_conf, tls_connect

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
SETTINGS = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"


def closed_within(sock, seconds):
    """Seconds until the edge closed sock (EOF or reset), or None."""
    t0 = time.monotonic()
    sock.settimeout(0.2)
    while time.monotonic() - t0 < seconds:
        try:
            if sock.recv(65536) == b"":
                return time.monotonic() - t0
        except socket.timeout:
            continue
        except OSError:
            return time.monotonic() - t0
    return None


def test():
    with Env() as env:
        certs = Certs(env.dir)
        eu = env.backend("eu-1", region="eu")
        plain = free_port()
        edge = env.edge(tls_conf(certs, extra=(
            "listen 127.0.0.1:{plain};\nh2c on;\n"
            "client_header_timeout 1s;\nhttp2_idle_timeout 5m;\n")),
            eu=eu.addr, plain=plain)
        check(wait_port(plain, edge.proc), "the h2c listener is up")

        silent = []
        for what, first in (("nothing", b""), ("the preface", PREFACE),
                            ("preface and SETTINGS", PREFACE + SETTINGS)):
            s = tls_connect(edge.port, alpn=["h2"])
            check(s.selected_alpn_protocol() == "h2", "ALPN chose h2")
            if first:
                s.sendall(first)
            silent.append(("TLS h2, " + what, s))
        s = socket.create_connection(("127.0.0.1", plain), timeout=5)
        s.sendall(PREFACE + SETTINGS)
        silent.append(("h2c, preface and SETTINGS", s))

        for what, s in silent:
            took = closed_within(s, 8)
            check(took is not None and took < 8,
                  "%s: closed after the 1 s header timeout (%s s), not the "
                  "5 m idle timeout" % (what, None if took is None
                                        else "%.1f" % took))
            s.close()

        c = H2Client(edge.port)
        st = c.get("/served")
        check(st.status == 200, "a connection that sends a request: 200")
        time.sleep(2.5)
        st = c.get("/again")
        check(st.status == 200, "after 2.5 s quiet it is still open (the "
              "idle timeout holds now, not the header one)")
        c.close()
        check(edge.proc.poll() is None, "the daemon still runs")
        env.stop_edge(edge)


main(test)
