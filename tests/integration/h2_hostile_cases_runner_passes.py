"""The hostile HTTP/2 cases (tests/cases/h2, from real-world HTTP/2 DoS
and downgrade-smuggling reports) pass in full against tenantedge, over
TLS with ALPN h2 and over a cleartext h2c listener: valid requests are
served, malformed ones refused and never seen by the lenient backend
behind the proxy, floods cut off with GOAWAY. Each case runs on its own
(run.py --only NAME) and is reported as its own check, so every case is
a regression test of its own."""
import os
import subprocess
import sys

from harness import Env, Process, check, free_port, main, wait_port, SRCDIR
from tls_helpers import Certs, tls_block

CASES = os.path.join(SRCDIR, "tests", "cases")
RUNNER = os.path.join(CASES, "h2", "run.py")

CONF = """
workers 2;
listen {listen} tls;
listen 127.0.0.1:{plain};
h2c on;
domain example.test;
client_header_timeout 3s;
region eu { shard eu-1 { backend 127.0.0.1:{port} zone z1; } }
site acme shard eu-1 id t-0001;
"""


def case_names():
    names = []
    with open(os.path.join(CASES, "h2", "cases.tsv")) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                names.append(line.split("\t", 1)[0])
    return names


def run_case(port, log, name, h2c):
    argv = ["/usr/bin/python3", RUNNER, "127.0.0.1", str(port),
            "--backend-log", log, "--only", name]
    if h2c:
        argv.append("--h2c")
    try:
        p = subprocess.run(argv, capture_output=True, timeout=120)
    except subprocess.TimeoutExpired:
        return False, "runner timed out after 120 s"
    out = p.stdout.decode("utf-8", "replace")
    lines = [ln for ln in out.splitlines()
             if ln.startswith(("PASS ", "FAIL "))]
    ok = p.returncode == 0 and any(ln.startswith("PASS %s" % name)
                                   for ln in lines)
    why = "; ".join(lines) or (out + p.stderr.decode())[-400:]
    return ok, why


def test():
    with Env() as env:
        certs = Certs(env.dir)
        port = free_port()
        log = os.path.join(env.dir, "backend.log")
        backend = Process(["/usr/bin/python3",
                           os.path.join(CASES, "http1", "backend.py"),
                           str(port), "--log", log],
                          os.path.join(env.dir, "backend.out"))
        env.procs.append(backend)
        check(wait_port(port, backend.proc), "the case backend started")
        plain = free_port()
        edge = env.edge(CONF + tls_block(certs), port=port, plain=plain)
        check(wait_port(plain, edge.proc), "the h2c listener is up")

        names = case_names()
        check(len(names) >= 14, "%d cases in cases.tsv" % len(names))
        failed = []
        for listener, p, h2c in (("tls", edge.port, False),
                                 ("h2c", plain, True)):
            for name in names:
                ok, why = run_case(p, log, name, h2c)
                print("%s - %s %s: %s" % ("ok" if ok else "not ok",
                                          listener, name, why), flush=True)
                if not ok:
                    failed.append("%s %s" % (listener, name))
        sys.stdout.flush()
        check(not failed, "every hostile HTTP/2 case passes over TLS and "
              "h2c (failed: %s)" % ", ".join(failed))


main(test)
