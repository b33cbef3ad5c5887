"""Failed TLS handshakes are client noise, not the operator's problem:
garbage bytes, a plain HTTP request, a TLS 1.1 attempt, a TLS 1.2 client
offering only ciphers without forward secrecy and a connection closed
mid-handshake on the TLS listener each leave no line above debug level
in the daemon's log (at log_level info, no line at all), and at
log_level debug one line each. The daemon keeps serving TLS
throughout."""
import re
import socket
import time

from harness import Env, check, main
from tls_helpers import Certs, log_records, s_client, tls_conf, tls_connect

LEGACY = "DEFAULT:@SECLEVEL=0"


def garbage(edge):
    edge.raw(b"\x00\x01\x02garbage\xff" * 20, timeout=3)


def plain_http(edge):
    edge.raw(b"GET / HTTP/1.1\r\nHost: acme.edge.test\r\n\r\n", timeout=3)


def tls11(edge):
    c = s_client(edge.port, "-tls1_1", "-cipher", LEGACY,
                 servername="acme.edge.test")
    check(not c.ok, "TLS 1.1 is refused")


def rsa_kx(edge):
    c = s_client(edge.port, "-tls1_2", "-cipher",
                 "AES128-GCM-SHA256:AES256-SHA:@SECLEVEL=0",
                 servername="acme.edge.test")
    check(not c.ok, "a client with only non-forward-secret ciphers is "
          "refused")


def half_hello(edge):
    # the first bytes of a ClientHello record, then close
    s = edge.connect(timeout=3)
    s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
    time.sleep(0.2)
    s.close()


FAILURES = [("garbage bytes", garbage), ("a plain HTTP request", plain_http),
            ("a TLS 1.1 attempt", tls11),
            ("non-forward-secret ciphers only", rsa_kx),
            ("a close mid-handshake", half_hello)]


def serves(edge):
    s = tls_connect(edge.port)
    s.sendall(b"GET / HTTP/1.1\r\nHost: acme.edge.test\r\n"
              b"Connection: close\r\n\r\n")
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except (socket.timeout, OSError):
        pass
    s.close()
    return data.startswith(b"HTTP/1.1 200")


def test():
    with Env() as env:
        certs = Certs(env.dir)
        eu = env.backend("eu-1", region="eu")

        for level in ("info", "debug"):
            edge = env.edge(tls_conf(certs).replace("log_level info;",
                                                    "log_level %s;" % level),
                            name="edge-" + level, eu=eu.addr)
            time.sleep(0.3)
            for what, fail in FAILURES:
                mark = len(edge.output())
                fail(edge)
                time.sleep(0.4)
                recs = log_records(edge.output()[mark:])
                loud = [(lv, m) for lv, m in recs if lv != "debug"]
                check(not loud, "log_level %s, %s: no line above debug "
                      "(%r)" % (level, what, loud[:3]))
                if level == "debug":
                    check(len(recs) >= 1, "log_level debug, %s: logged at "
                          "debug (%r)" % (what, recs[:3]))
                else:
                    check(not recs, "log_level info, %s: nothing logged"
                          % what)
                check(edge.proc.poll() is None and serves(edge),
                      "%s: the daemon still serves TLS" % what)
                time.sleep(0.3)     # its access line lands before the mark
            env.stop_edge(edge)
            # The failures are counted: the counters line at exit.
            m = re.search(r"counters: handshakes=(\d+) "
                          r"handshake_failures=(\d+)", edge.output())
            check(m is not None and int(m.group(2)) >= len(FAILURES) and
                  int(m.group(1)) >= len(FAILURES),
                  "log_level %s: the exit counters show %d failed and the "
                  "good handshakes (%s)" % (level, len(FAILURES),
                                            m.group(0) if m else None))


main(test)
