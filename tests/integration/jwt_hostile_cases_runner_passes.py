"""The hostile JWT cases (tests/cases/jwt: forged, confused, expired,
malformed and valid tokens) pass in full against tenantedge, configured
as their README asks: the JWKS and HMAC secret of the cases, issuer
https://id.example.test, audience tenantedge, tenant claim `tenant`,
leeway 60 s, /secure/ needing a token (the policy module's `auth`), and
the lenient case backend behind the proxy never sees a refused token's
request. A request to /secure/ without any token gets 401 too."""
import os
import subprocess
import sys

from harness import Env, Process, SRCDIR, check, free_port, main, wait_port

CASES = os.path.join(SRCDIR, "tests", "cases")
JWT = os.path.join(CASES, "jwt")

CONF = """
workers 2;
listen {listen};
domain example.test;
region eu { shard eu-1 { backend 127.0.0.1:{port} zone z1; } }
site acme shard eu-1 id t-0001;
chain jwt tenant policy route;
module jwt {
    jwks {jwt}/jwks.json;
    hmac_secret {jwt}/keys/hs256.secret kid hs-1;
    issuer https://id.example.test;
    audience tenantedge;
    tenant_claim tenant;
    leeway 60s;
}
module policy {
    auth off;
    auth required /secure/;
}
"""


def test():
    with Env() as env:
        port = free_port()
        log = os.path.join(env.dir, "backend.log")
        backend = Process(["/usr/bin/python3",
                           os.path.join(CASES, "http1", "backend.py"),
                           str(port), "--log", log],
                          os.path.join(env.dir, "backend.out"))
        env.procs.append(backend)
        check(wait_port(port, backend.proc), "the case backend started")
        edge = env.edge(CONF, port=port, jwt=JWT)

        p = subprocess.run(["/usr/bin/python3", os.path.join(JWT, "run.py"),
                            "127.0.0.1", str(edge.port), "--host-header",
                            "acme.example.test", "--path", "/secure/",
                            "--backend-log", log],
                           capture_output=True, timeout=600)
        sys.stdout.write(p.stdout.decode())
        sys.stdout.write(p.stderr.decode())
        check(p.returncode == 0, "every hostile JWT case passes")

        r = edge.get("/secure/no-token", host="acme.example.test")
        check(r.status == 401 and
              r.headers.get("www-authenticate") == "Bearer",
              "no token on /secure/: 401 with the bare challenge (got %d)"
              % r.status)
        r = edge.get("/app/no-token", host="acme.example.test")
        check(r.status == 200, "no token on /app/: served")


main(test)
