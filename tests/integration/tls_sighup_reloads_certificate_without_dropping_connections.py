"""SIGHUP reloads certificates and keys without dropping connections: a
keep-alive TLS connection opened before the reload still serves
requests after it, and new connections get the new certificate. A bad
certificate (corrupt, or a key that does not match) makes the reload
refused with an error-level line in the log, and new connections keep
getting the certificate that served before; the daemon keeps running
and stops cleanly."""
import shutil
import time

from harness import Env, check, main, read_response, send_request
from tls_helpers import (EDGE_NAMES, Certs, log_records, make_cert,
                         pem_fingerprint, peer_fingerprint, replace_file,
                         sighup, tls_conf, tls_connect)


def slurp(path):
    with open(path, "rb") as f:
        return f.read()


def new_conn_fp(edge):
    s = tls_connect(edge.port)
    try:
        return peer_fingerprint(s)
    finally:
        s.close()


def wait_fp(edge, want, seconds=5.0):
    """The fingerprint new connections see, polled until it is `want`
    or the deadline."""
    deadline = time.monotonic() + seconds
    fp = new_conn_fp(edge)
    while fp != want and time.monotonic() < deadline:
        time.sleep(0.1)
        fp = new_conn_fp(edge)
    return fp


def ask(sock, path):
    send_request(sock, "GET", path, "acme.edge.test")
    return read_response(sock)


def errors_in(text):
    return [m for lvl, m in log_records(text) if lvl == "error"]


def test():
    with Env() as env:
        certs = Certs(env.dir)
        live_crt = env.dir + "/tls/live.crt"
        live_key = env.dir + "/tls/live.key"
        shutil.copy(certs.rsa[0], live_crt)
        shutil.copy(certs.rsa[1], live_key)
        fp1 = pem_fingerprint(certs.rsa[0])
        eu = env.backend("eu-1", region="eu")
        edge = env.edge(tls_conf(certs, pairs=[(live_crt, live_key)],
                                 extra="keepalive_timeout 60s;\n"),
                        eu=eu.addr)

        old = tls_connect(edge.port, timeout=15)
        check(peer_fingerprint(old) == fp1, "the first certificate serves")
        r = ask(old, "/before")
        check(r.status == 200 and not r.closed,
              "a keep-alive request before the reload: 200")

        crt2, key2 = make_cert(env.dir + "/tls", "edge-rsa-2", EDGE_NAMES)
        fp2 = pem_fingerprint(crt2)
        replace_file(live_key, slurp(key2))
        replace_file(live_crt, slurp(crt2))
        out = sighup(edge)
        check("reloaded" in out, "SIGHUP reloads (%r)" % out[-300:])
        got = wait_fp(edge, fp2)
        check(got == fp2, "after SIGHUP new connections get the new "
              "certificate")
        r = ask(old, "/after")
        check(r.status == 200, "the connection opened before the reload "
              "still serves a request (%s)" % r)
        check(peer_fingerprint(old) == fp1, "(on the old certificate)")
        r = ask(old, "/after-again")
        check(r.status == 200, "and another one")
        old.close()

        # a corrupt certificate: refused, the previous one keeps serving
        replace_file(live_crt, b"-----BEGIN CERTIFICATE-----\n"
                     b"Y29ycnVwdA==\n-----END CERTIFICATE-----\n")
        out = sighup(edge)
        check(edge.proc.poll() is None, "a corrupt certificate does not "
              "stop the daemon")
        check(errors_in(out), "the refused reload is logged at error level "
              "(%r)" % out[-800:])
        check(new_conn_fp(edge) == fp2, "new connections still get the "
              "certificate that served before")
        s = tls_connect(edge.port)
        r = ask(s, "/still")
        s.close()
        check(r.status == 200, "and are served")

        # a key that does not match the certificate: refused as well
        crt3, _ = make_cert(env.dir + "/tls", "edge-rsa-3", EDGE_NAMES)
        replace_file(live_crt, slurp(crt3))
        replace_file(live_key, slurp(certs.other[1]))
        out = sighup(edge)
        check(edge.proc.poll() is None, "a mismatched key does not stop "
              "the daemon")
        check(errors_in(out), "the mismatched key is logged at error level "
              "(%r)" % out[-800:])
        check(new_conn_fp(edge) == fp2, "new connections still get the "
              "certificate that served before")

        # fixed files: the next SIGHUP applies them
        crt4, key4 = make_cert(env.dir + "/tls", "edge-rsa-4", EDGE_NAMES)
        replace_file(live_key, slurp(key4))
        replace_file(live_crt, slurp(crt4))
        sighup(edge)
        fp4 = pem_fingerprint(crt4)
        check(wait_fp(edge, fp4) == fp4, "once the files are good again, "
              "a SIGHUP applies them")
        env.stop_edge(edge)


main(test)
