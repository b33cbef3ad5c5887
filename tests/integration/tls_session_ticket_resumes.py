"""A session ticket resumes a session, over TLS 1.2 and TLS 1.3
(s_client -sess_out, then -sess_in shows "Reused"). With the ticket keys
in files, a fleet shares them: a ticket one edge issued resumes on
another edge with the same key files, and not on an edge with other
keys. After SIGHUP with a new first key and the old one moved second
(decrypt only), a ticket sealed with the old key still resumes. A
ticket never resumes under a name another certificate serves."""
import os

from harness import Env, check, main
from tls_helpers import (Certs, http_close_request, rewrite_conf, s_client,
                         sighup,
                         tls_conf)

SNI = "acme.edge.test"


def conf(certs, keys):
    lines = ["session_tickets on;"]
    lines += ["ticket_key %s;" % k for k in keys]
    return tls_conf(certs, lines)


def ticket(edge, proto, path):
    """A full handshake that saves its session (ticket) to path."""
    if os.path.exists(path):
        os.unlink(path)
    c = s_client(edge.port, proto, "-sess_out", path, servername=SNI,
                 request=http_close_request("/ticket"))
    check(c.ok and not c.reused and "HTTP/1.1 200" in c.out,
          "%s: a full handshake is served (%s)" % (proto, c.brief()))
    check(os.path.exists(path) and os.path.getsize(path) > 0,
          "%s: and the client kept a session ticket" % proto)
    return c


def resume(edge, proto, path, sni=SNI):
    c = s_client(edge.port, proto, "-sess_in", path, servername=sni,
                 request=http_close_request("/resumed"))
    check(c.ok and "HTTP/1.1 200" in c.out,
          "%s: the resuming connection is served (%s)" % (proto, c.brief()))
    return c


def test():
    with Env() as env:
        certs = Certs(env.dir)
        k1, k2, k3 = certs.tickets
        eu = env.backend("eu-1", region="eu")
        sess = os.path.join(env.dir, "sess.pem")

        # generated keys (no ticket_key): resumption on the same edge
        plain = env.edge(tls_conf(certs, ["session_tickets on;"]),
                         name="generated", eu=eu.addr)
        for proto in ("-tls1_2", "-tls1_3"):
            ticket(plain, proto, sess)
            c = resume(plain, proto, sess)
            check(c.reused, "%s: the session is resumed with generated "
                  "keys (%s)" % (proto, c.brief()))
            ticket(plain, proto, sess)
            c = resume(plain, proto, sess, sni="x.other.test")
            check(not c.reused, "%s: a ticket for edge.test does not "
                  "resume under the other certificate's name (%s)"
                  % (proto, c.brief()))
        env.stop_edge(plain)

        a = env.edge(conf(certs, [k1, k2]), name="edge-a", eu=eu.addr)
        b = env.edge(conf(certs, [k1, k2]), name="edge-b", eu=eu.addr)
        c_ = env.edge(conf(certs, [k3]), name="edge-c", eu=eu.addr)
        for proto in ("-tls1_2", "-tls1_3"):
            ticket(a, proto, sess)
            c = resume(a, proto, sess)
            check(c.reused, "%s: a ticket resumes on the edge that issued "
                  "it (%s)" % (proto, c.brief()))
            ticket(a, proto, sess)
            c = resume(b, proto, sess)
            check(c.reused, "%s: and on another edge with the same key "
                  "files (fleet sharing) (%s)" % (proto, c.brief()))
            ticket(a, proto, sess)
            c = resume(c_, proto, sess)
            check(not c.reused, "%s: but not on an edge with other keys "
                  "(a full handshake instead)" % proto)

        # tickets from a's first key, before the rotation
        old = {}
        for proto in ("-tls1_2", "-tls1_3"):
            old[proto] = os.path.join(env.dir, "old%s.pem" % proto)
            ticket(a, proto, old[proto])

        rewrite_conf(a, conf(certs, [k3, k1]), eu=eu.addr)
        out = sighup(a)
        check(a.proc.poll() is None and "reloaded" in out,
              "edge-a reloaded on SIGHUP (%r)" % out[-300:])

        for proto in ("-tls1_2", "-tls1_3"):
            c = resume(a, proto, old[proto])
            check(c.reused, "%s: after SIGHUP with the old key second, "
                  "the old ticket still resumes (%s)" % (proto, c.brief()))
            # a ticket issued now is sealed with k3: c (k3 only) takes it
            ticket(a, proto, sess)
            c = resume(c_, proto, sess)
            check(c.reused, "%s: the new first key now seals tickets (an "
                  "edge with only that key resumes them)" % proto)

        for e in (c_, b, a):
            env.stop_edge(e)


main(test)
