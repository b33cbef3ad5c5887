"""A TLS listener refuses TLS 1.0 and 1.1 and every TLS 1.2 cipher
without forward secrecy or without AEAD (RSA key exchange, CBC), and
accepts TLS 1.2 with ECDHE and AES-GCM or ChaCha20-Poly1305 and TLS 1.3,
as `openssl s_client` shows. A control server (openssl s_server on
loopback, started by this test) proves the client itself can speak
TLS 1.0 and the refused ciphers, so each refusal is the edge's."""
import time

from harness import Env, Process, check, free_port, main, wait_port
from tls_helpers import Certs, s_client, tls_conf, http_close_request

LEGACY = "DEFAULT:@SECLEVEL=0"     # lets Debian's client offer old things

REFUSED = [
    ("TLS 1.0", ["-tls1", "-cipher", LEGACY]),
    ("TLS 1.1", ["-tls1_1", "-cipher", LEGACY]),
    ("TLS 1.2 AES128-GCM-SHA256 (RSA key exchange)",
     ["-tls1_2", "-cipher", "AES128-GCM-SHA256:@SECLEVEL=0"]),
    ("TLS 1.2 AES256-SHA (RSA key exchange, CBC)",
     ["-tls1_2", "-cipher", "AES256-SHA:@SECLEVEL=0"]),
    ("TLS 1.2 ECDHE-RSA-AES128-SHA (ECDHE but CBC)",
     ["-tls1_2", "-cipher", "ECDHE-RSA-AES128-SHA:@SECLEVEL=0"]),
    ("TLS 1.2 DHE-RSA-AES128-GCM-SHA256 (finite-field DHE)",
     ["-tls1_2", "-cipher", "DHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0"]),
]

ACCEPTED = [
    ("TLS 1.2 ECDHE-ECDSA-AES128-GCM-SHA256",
     ["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"],
     "TLSv1.2", "ECDHE-ECDSA-AES128-GCM-SHA256"),
    ("TLS 1.2 ECDHE-RSA-AES256-GCM-SHA384",
     ["-tls1_2", "-cipher", "ECDHE-RSA-AES256-GCM-SHA384"],
     "TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384"),
    ("TLS 1.2 ECDHE-RSA-CHACHA20-POLY1305",
     ["-tls1_2", "-cipher", "ECDHE-RSA-CHACHA20-POLY1305"],
     "TLSv1.2", "ECDHE-RSA-CHACHA20-POLY1305"),
    ("TLS 1.3", ["-tls1_3"], "TLSv1.3", None),
]


def control_server(env, certs):
    """openssl s_server on a free loopback port accepting TLS 1.0 up to
    1.2 with every cipher: the client's half of each refusal."""
    port = free_port()
    srv = Process(["openssl", "s_server", "-accept", "127.0.0.1:%d" % port,
                   "-cert", certs.rsa[0], "-key", certs.rsa[1],
                   "-cipher", LEGACY, "-no_tls1_3", "-www", "-quiet"],
                  env.dir + "/s_server.out")
    env.procs.append(srv)
    check(wait_port(port, srv.proc), "the control s_server started")
    return srv, port


def test():
    with Env() as env:
        certs = Certs(env.dir)
        srv, cport = control_server(env, certs)
        for what, args in REFUSED:
            c = s_client(cport, *args)
            check(c.ok, "control: the client can negotiate %s with a "
                  "permissive server (%s)" % (what, c.brief()))
        srv.proc.terminate()
        srv.proc.wait(10)

        eu = env.backend("eu-1", region="eu")
        edge = env.edge(tls_conf(certs), eu=eu.addr)

        for what, args in REFUSED:
            c = s_client(edge.port, *args, servername="acme.edge.test")
            check(c.rc != 0 and not c.ok,
                  "%s is refused (%s)" % (what, c.brief()))

        for what, args, proto, cipher in ACCEPTED:
            c = s_client(edge.port, *args, servername="acme.edge.test",
                         request=http_close_request("/fs"))
            check(c.ok and c.protocol == proto,
                  "%s is accepted: %s negotiated (%s)"
                  % (what, proto, c.brief()))
            if cipher:
                check(c.cipher == cipher, "with the cipher asked for, %s"
                      % c.cipher)
            else:
                check(c.cipher in ("TLS_AES_128_GCM_SHA256",
                                   "TLS_AES_256_GCM_SHA384",
                                   "TLS_CHACHA20_POLY1305_SHA256"),
                      "with an AEAD TLS 1.3 suite (%s)" % c.cipher)
            check(c.temp_key is not None and
                  c.temp_key.split()[0] in ("X25519", "ECDH"),
                  "the key exchange is ephemeral ECDH (Server Temp Key: "
                  "%s)" % c.temp_key)
            check("HTTP/1.1 200" in c.out,
                  "and a request over it is answered 200")

        # Offering everything, the server picks ECDHE with AEAD.
        c = s_client(edge.port, "-tls1_2", "-cipher", LEGACY,
                     servername="acme.edge.test")
        check(c.ok and c.cipher.startswith("ECDHE-") and
              ("GCM" in c.cipher or "CHACHA20" in c.cipher),
              "a client offering every TLS 1.2 cipher gets ECDHE with "
              "AEAD (%s)" % c.brief())

        time.sleep(0.2)
        check(edge.proc.poll() is None, "the edge is still running")
        env.stop_edge(edge)


main(test)
