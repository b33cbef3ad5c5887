"""`tenantedge -t -c FILE` says "configuration ... is valid" and exits 0
for a good file, and for a bad one prints file:line:col: message and
exits 1; the daemon itself refuses to start on a bad file."""
import os
import subprocess
import tempfile
from harness import check, main, TENANTEDGE

GOOD = """workers 1;
listen 127.0.0.1:1;
domain edge.test;
region eu { shard eu-1 { backend 127.0.0.1:2 zone z1; } }
site acme shard eu-1;
"""

BAD = [
    ("unknown directive", "workers 1;\nlisten 127.0.0.1:1;\nfrobnicate on;\n",
     ":3:1: "),
    ("bad size", "listen 127.0.0.1:1;\nclient_max_body_size 12q;\n", ":2:"),
    ("bad duration", "listen 127.0.0.1:1;\nkeepalive_timeout 5 parsecs;\n",
     ":2:"),
    ("unknown shard", GOOD.replace("site acme shard eu-1",
                                   "site acme shard nowhere"), ":5:"),
    ("missing semicolon", "listen 127.0.0.1:1\nworkers 1;\n", ":"),
    ("unclosed block", "listen 127.0.0.1:1;\nregion eu { shard x {\n", ":"),
]


def run(args):
    p = subprocess.run([TENANTEDGE] + args, capture_output=True, timeout=30)
    return p.returncode, (p.stdout + p.stderr).decode()


def test():
    d = tempfile.mkdtemp(prefix="te-conf-")
    path = os.path.join(d, "good.conf")
    with open(path, "w") as f:
        f.write(GOOD)
    rc, out = run(["-t", "-c", path])
    check(rc == 0, "a good config passes -t")
    check("valid" in out, "and -t says so")

    for name, text, where in BAD:
        path = os.path.join(d, "bad.conf")
        with open(path, "w") as f:
            f.write(text)
        rc, out = run(["-t", "-c", path])
        check(rc == 1, "%s: -t exits 1" % name)
        check(path + where in out,
              "%s: the message names %s%s... (%s)" % (name, path, where,
                                                     out.strip()))
        rc, out = run(["-c", path])
        check(rc == 1, "%s: the daemon refuses to start" % name)

    inc = os.path.join(d, "inc.conf")
    with open(inc, "w") as f:
        f.write("workers 1;\nbogus 1;\n")
    path = os.path.join(d, "main.conf")
    with open(path, "w") as f:
        f.write("listen 127.0.0.1:1;\ninclude inc.conf;\n")
    rc, out = run(["-t", "-c", path])
    check(rc == 1 and inc + ":2:1:" in out,
          "an error in an included file names that file (%s)" % out.strip())

    rc, out = run(["-V"])
    check(rc == 0 and "tenantedge" in out and "libevent" in out
          and "OpenSSL" in out, "-V prints the version and libraries")
    rc, out = run(["-h"])
    check(rc == 0 and "-c" in out and "-t" in out, "-h prints usage")


main(test)
