"""Helpers for the jwt module's integration tests: an edge that trusts the
test keys of tests/cases/jwt, tokens minted with `tenantctl token` (the
tool operators use), and malformed tokens crafted here with the standard
library only, since no JWT library would write them."""

import base64
import hashlib
import hmac
import json
import os
import subprocess
import time

from harness import BUILDDIR, SRCDIR, TestFailure, check

KEYS = os.path.join(SRCDIR, "tests", "cases", "jwt", "keys")
JWKS = os.path.join(SRCDIR, "tests", "cases", "jwt", "jwks.json")
TENANTCTL = os.path.join(BUILDDIR, "tools", "tenantctl")
ISS = "https://id.example.test"
SVC_ISS = "https://services.example.test"
AUD = "tenantedge"

CONF = """
workers {workers};
listen {listen};
domain edge.test;
log_level info;
region eu { shard eu-1 { backend {eu} zone z1; } }
{sites}
chain jwt tenant policy route;
module jwt {
    jwks {jwks};
    hmac_secret {keys}/hs256.secret kid hs-1;
    issuer %s;
    service_issuer %s;
    audience %s;
    leeway 60s;
    {jwt_extra}
}
""" % (ISS, SVC_ISS, AUD)


SITES = """
site acme shard eu-1 id t-0001;
site globex shard eu-1 id t-0002;
"""


def jwt_edge(env, jwt_extra="", extra="", jwks=JWKS, workers=1,
             name="edge", sites=SITES):
    """A backend for eu-1 and an edge trusting the test keys; by default
    static sites acme (t-0001) and globex (t-0002). Returns (edge,
    backend)."""
    eu = env.backend("eu-1", region="eu")
    edge = env.edge(CONF + extra, name=name, eu=eu.addr, jwks=jwks,
                    keys=KEYS, jwt_extra=jwt_extra, workers=workers,
                    sites=sites)
    return edge, eu


def mint(edge, *args, key="rsa.key.pem", kid="rsa-1", tenant="t-0001"):
    """`tenantctl -c EDGE.conf token` with the test key; returns the
    token. Issuer and audience come from the edge's config."""
    argv = [TENANTCTL, "-c", edge.conf, "token", "--tenant", tenant,
            "--key", os.path.join(KEYS, key)]
    if kid is not None:
        argv += ["--kid", kid]
    argv += list(args)
    p = subprocess.run(argv, capture_output=True, timeout=60)
    if p.returncode != 0:
        raise TestFailure("tenantctl token failed: %s"
                          % p.stderr.decode().strip())
    return p.stdout.decode().strip()


def b64u(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def parts(tok):
    """(header, payload) as dicts, and the three segments."""
    h, p, s = tok.split(".")
    return json.loads(unb64u(h)), json.loads(unb64u(p)), (h, p, s)


def hs256(header, payload):
    """A token signed with the test HMAC secret (kid hs-1), header and
    payload given as JSON text, so that duplicate names and odd shapes
    survive."""
    with open(os.path.join(KEYS, "hs256.secret"), "rb") as f:
        secret = f.read()
    signing_input = b64u(header) + "." + b64u(payload)
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64u(mac)


def bearer(tok):
    return {"Authorization": "Bearer " + tok}


def reached(backend, marker):
    """Did a request whose path holds marker reach the backend?"""
    return any(marker in e.get("path", "") for e in backend.heads())


def check_invalid(edge, backend, tok, what, marker=None):
    """tok is refused with 401, the RFC 6750 challenge and nothing more
    than "invalid token" in the body, and never reaches the backend."""
    marker = marker or "m-%d" % int(time.monotonic() * 1e6)
    r = edge.get("/jira/%s" % marker, host="acme.edge.test",
                 headers=bearer(tok))
    check(r.status == 401, "%s: 401 (got %d %r)" % (what, r.status,
                                                    r.body[:120]))
    check(r.headers.get("www-authenticate") ==
          'Bearer error="invalid_token"',
          "%s: WWW-Authenticate: Bearer error=\"invalid_token\"" % what)
    body = r.json()
    check(set(body) == {"error", "request_id"} and
          body["error"] == "invalid token",
          "%s: the body says only \"invalid token\"" % what)
    check(not reached(backend, marker), "%s: the backend saw nothing" % what)


def check_served(edge, backend, tok, what, host="acme.edge.test"):
    marker = "m-%d" % int(time.monotonic() * 1e6)
    r = edge.get("/jira/%s" % marker, host=host, headers=bearer(tok))
    check(r.status == 200, "%s: 200 (got %d %r)" % (what, r.status,
                                                    r.body[:160]))
    check(reached(backend, marker), "%s: the backend saw it" % what)
    return r


def rsa_jwk(pem_path, kid):
    """The public JWK of an RSA private key file, through the openssl
    command line (n from its modulus, e = 65537 checked)."""
    pub = subprocess.run(["openssl", "pkey", "-in", pem_path, "-pubout"],
                         capture_output=True, check=True, timeout=60).stdout
    out = subprocess.run(["openssl", "rsa", "-pubin", "-noout", "-modulus",
                          "-text"], input=pub, capture_output=True,
                         check=True, timeout=60).stdout.decode()
    modulus = [l for l in out.splitlines() if l.startswith("Modulus=")][0]
    n = bytes.fromhex(modulus.split("=", 1)[1])
    if "Exponent: 65537" not in out:
        raise TestFailure("unexpected RSA exponent in %s" % pem_path)
    return {"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
            "n": b64u(n), "e": "AQAB"}


def write_jwks(path, keys):
    """Replace the JWKS file the way a sync job should: write, rename."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"keys": keys}, f)
    os.rename(tmp, path)
