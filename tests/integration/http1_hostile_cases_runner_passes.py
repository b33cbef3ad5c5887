"""The hostile HTTP/1.1 cases (tests/cases/http1, from real-world
smuggling reports) pass in full against tenantedge: valid requests are
served, every ambiguous one is refused, and the lenient backend behind
the proxy never sees a refused or smuggled request."""
import os
import subprocess
import sys
import time
from harness import (Env, Process, check, main, free_port, wait_port,
                     SRCDIR)

CASES = os.path.join(SRCDIR, "tests", "cases", "http1")

CONF = """
workers 2;
listen {listen};
domain example.test;
client_header_timeout 3s;
region eu { shard eu-1 { backend 127.0.0.1:{port} zone z1; } }
site acme shard eu-1 id t-0001;
"""


def test():
    with Env() as env:
        port = free_port()
        log = os.path.join(env.dir, "backend.log")
        backend = Process(["/usr/bin/python3", os.path.join(CASES,
                                                            "backend.py"),
                           str(port), "--log", log],
                          os.path.join(env.dir, "backend.out"))
        env.procs.append(backend)
        check(wait_port(port, backend.proc), "the case backend started")
        edge = env.edge(CONF, port=port)
        p = subprocess.run(["/usr/bin/python3",
                            os.path.join(CASES, "run.py"), "127.0.0.1",
                            str(edge.port), "--backend-log", log],
                           capture_output=True, timeout=600)
        out = p.stdout.decode()
        sys.stdout.write(out)
        sys.stdout.write(p.stderr.decode())
        check(p.returncode == 0, "every hostile HTTP/1.1 case passes")


main(test)
