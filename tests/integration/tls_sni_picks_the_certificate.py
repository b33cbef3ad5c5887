"""SNI picks the certificate: a name under *.edge.test (or edge.test
itself) gets the edge.test certificate, one under *.other.test the other
one; no SNI or an unknown name gets the first certificate configured; a
wildcard matches exactly one label; names compare case-insensitively.
With RSA and ECDSA certificates side by side for the same names, a
client that can only check RSA signatures gets the RSA one and an ECDSA
client the ECDSA one, in TLS 1.2 (by cipher) and TLS 1.3 (by
signature algorithm)."""
from harness import Env, check, main
from tls_helpers import Certs, s_client, tls_conf

RSA12 = ("-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256")
EC12 = ("-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256")
RSA13 = ("-tls1_3", "-sigalgs", "rsa_pss_rsae_sha256:rsa_pss_pss_sha256")
EC13 = ("-tls1_3", "-sigalgs", "ecdsa_secp256r1_sha256")


def cert_of(edge, names, args, sni):
    c = s_client(edge.port, *args, servername=sni)
    check(c.ok, "handshake with SNI %s %s (%s)" % (sni, " ".join(args),
                                                   c.brief()))
    return names.get(c.fingerprint, "an unknown certificate")


def test():
    with Env() as env:
        certs = Certs(env.dir)
        names = {certs.fp(certs.rsa): "edge-rsa",
                 certs.fp(certs.ec): "edge-ec",
                 certs.fp(certs.other): "other"}
        eu = env.backend("eu-1", region="eu")

        # rsa, ec, other: the edge.test certificates are the default
        edge = env.edge(tls_conf(certs), eu=eu.addr)
        for sni in ("acme.edge.test", "edge.test", "ACME.Edge.Test"):
            got = cert_of(edge, names, RSA12, sni)
            check(got == "edge-rsa", "%s, RSA-only TLS 1.2 client: the RSA "
                  "edge.test certificate (got %s)" % (sni, got))
            got = cert_of(edge, names, EC12, sni)
            check(got == "edge-ec", "%s, ECDSA TLS 1.2 client: the ECDSA "
                  "edge.test certificate (got %s)" % (sni, got))
        got = cert_of(edge, names, RSA13, "acme.edge.test")
        check(got == "edge-rsa", "TLS 1.3 client with RSA-PSS signatures "
              "only: the RSA certificate (got %s)" % got)
        got = cert_of(edge, names, EC13, "acme.edge.test")
        check(got == "edge-ec", "TLS 1.3 client with ECDSA signatures "
              "only: the ECDSA certificate (got %s)" % got)
        for sni in ("x.other.test", "other.test", "X.OTHER.test"):
            got = cert_of(edge, names, RSA12, sni)
            check(got == "other", "%s: the other.test certificate (got %s)"
                  % (sni, got))
            got = cert_of(edge, names, ("-tls1_3",), sni)
            check(got == "other", "%s over TLS 1.3: the other.test "
                  "certificate (got %s)" % (sni, got))
        got = cert_of(edge, names, RSA12, None)
        check(got == "edge-rsa", "no SNI, RSA client: the first certificate "
              "(got %s)" % got)
        got = cert_of(edge, names, ("-tls1_3",), None)
        check(got in ("edge-rsa", "edge-ec"), "no SNI over TLS 1.3: an "
              "edge.test certificate, the first's names (got %s)" % got)
        got = cert_of(edge, names, RSA12, "www.unknown.test")
        check(got == "edge-rsa", "an unknown name: the first certificate "
              "(got %s)" % got)

        # other first: now it is the default, and a wildcard covers one
        # label only
        edge2 = env.edge(tls_conf(certs, pairs=[certs.other, certs.rsa,
                                                certs.ec]),
                         name="edge2", eu=eu.addr)
        got = cert_of(edge2, names, RSA12, None)
        check(got == "other", "other first: no SNI gets it (got %s)" % got)
        got = cert_of(edge2, names, RSA12, "a.b.edge.test")
        check(got == "other", "*.edge.test does not cover a.b.edge.test: "
              "the default (got %s)" % got)
        got = cert_of(edge2, names, RSA12, "acme.edge.test")
        check(got == "edge-rsa", "acme.edge.test still gets the edge.test "
              "certificate (got %s)" % got)
        got = cert_of(edge2, names, EC12, "acme.edge.test")
        check(got == "edge-ec", "and the ECDSA one for an ECDSA client "
              "(got %s)" % got)

        env.stop_edge(edge2)
        env.stop_edge(edge)


main(test)
