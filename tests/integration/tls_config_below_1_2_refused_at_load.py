"""`tenantedge -t` refuses a tls block that asks for less than the policy
(a protocol below TLS 1.2, a TLS 1.2 cipher without ECDHE or without
AEAD), a key that does not match its certificate, a certificate file
that is missing or not a certificate, and a tls listener without a tls
block: each with file:line:col naming the directive at fault and exit
status 1, and the daemon refuses to start on such a file. A good tls
block passes."""
import os
import re
import shutil
import subprocess
import tempfile

from harness import TENANTEDGE, check, main
from tls_helpers import Certs

HEAD = """workers 1;
listen 127.0.0.1:1 tls;
domain edge.test;
region eu { shard eu-1 { backend 127.0.0.1:2 zone z1; } }
site acme shard eu-1;
"""


def conf(cert, key, line):
    """The tls block starts on line 6: certificate on 7, `line` on 8."""
    return HEAD + ("tls {\n    certificate %s %s;\n    %s\n}\n"
                   % (cert, key, line))


def run(args):
    p = subprocess.run([TENANTEDGE] + args, capture_output=True, timeout=30,
                       stdin=subprocess.DEVNULL)
    return p.returncode, (p.stdout + p.stderr).decode("utf-8", "replace")


def test():
    d = tempfile.mkdtemp(prefix="te-tlsconf-")
    try:
        check_files(d)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def check_files(d):
    certs = Certs(d)
    crt, key = certs.rsa
    garbage = os.path.join(d, "garbage.crt")
    with open(garbage, "w") as f:
        f.write("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n"
                "-----END CERTIFICATE-----\n")

    good = conf(crt, key, "protocols TLSv1.2 TLSv1.3;\n"
                "    ciphers ECDHE+AESGCM:ECDHE+CHACHA20;\n"
                "    groups X25519:P-256:P-384;\n"
                "    certificate %s %s;" % certs.ec)
    path = os.path.join(d, "good.conf")
    with open(path, "w") as f:
        f.write(good)
    rc, out = run(["-t", "-c", path])
    check(rc == 0 and "valid" in out,
          "a tls block within the policy passes -t (%s)" % out.strip())

    # (what, certificate, key, line 8, the line at fault, a word the
    # message must carry)
    bad = [
        ("protocols TLSv1.1", crt, key, "protocols TLSv1.1 TLSv1.2;", 8,
         "TLSv1.1"),
        ("protocols TLSv1", crt, key, "protocols TLSv1 TLSv1.2;", 8,
         "TLSv1"),
        ("protocols SSLv3", crt, key, "protocols SSLv3;", 8, "SSLv3"),
        ("ciphers AES128-SHA", crt, key, "ciphers AES128-SHA;", 8,
         "AES128-SHA"),
        ("ciphers AES128-GCM-SHA256 (no ECDHE)", crt, key,
         "ciphers AES128-GCM-SHA256;", 8, "AES128-GCM-SHA256"),
        ("ciphers ECDHE-RSA-AES128-SHA (no AEAD)", crt, key,
         "ciphers ECDHE-RSA-AES128-SHA;", 8, "ECDHE-RSA-AES128-SHA"),
        ("ciphers mixing a good and a bad one", crt, key,
         "ciphers ECDHE+AESGCM:AES256-SHA;", 8, "AES256-SHA"),
        ("a key that does not match its certificate", crt, certs.other[1],
         "protocols TLSv1.2 TLSv1.3;", 7, None),
        ("a missing certificate file", os.path.join(d, "nope.crt"), key,
         "protocols TLSv1.2 TLSv1.3;", 7, "nope.crt"),
        ("a file that is not a certificate", garbage, key,
         "protocols TLSv1.2 TLSv1.3;", 7, None),
    ]
    for what, c, k, line, at, word in bad:
        path = os.path.join(d, "bad.conf")
        with open(path, "w") as f:
            f.write(conf(c, k, line))
        rc, out = run(["-t", "-c", path])
        check(rc == 1, "%s: -t exits 1 (got %d: %s)" % (what, rc,
                                                        out.strip()))
        where = re.search(re.escape(path) + r":%d:\d+: \S" % at, out)
        check(where is not None,
              "%s: the message names %s:%d:col (%s)"
              % (what, path, at, out.strip()))
        if word:
            check(word in out, "%s: and says what is refused (%s)"
                  % (what, out.strip()))
        rc, out = run(["-c", path])
        check(rc == 1, "%s: the daemon refuses to start" % what)

    path = os.path.join(d, "noblock.conf")
    with open(path, "w") as f:
        f.write(HEAD)
    rc, out = run(["-t", "-c", path])
    check(rc == 1 and re.search(re.escape(path) + r":\d+:\d+: ", out),
          "a tls listener without a tls block is refused with its place "
          "(%s)" % out.strip())


main(test)
