"""Key rotation without a restart: when the JWKS file is replaced, a token
under a newly published kid is accepted within a couple of seconds, on
every worker; once the old kid is removed from the file, its tokens are
refused, even one every worker had already verified and cached. A
broken file leaves the keys in force and is logged once."""
import json
import os
import shutil
import time

from harness import Env, check, main
from jwt_helpers import (JWKS, KEYS, bearer, jwt_edge, mint, rsa_jwk,
                         write_jwks)


def status(edge, tok):
    return edge.get("/jira/rot", host="acme.edge.test",
                    headers=bearer(tok)).status


def until(edge, tok, want, seconds=8.0):
    """Ask (on new connections, so any worker) until every one of 6
    answers in a row is want, or time runs out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if all(status(edge, tok) == want for _ in range(6)):
            return True
        time.sleep(0.2)
    return False


def test():
    with Env() as env:
        jwks = os.path.join(env.dir, "jwks.json")
        shutil.copy(JWKS, jwks)
        with open(JWKS) as f:
            published = json.load(f)["keys"]
        new_key = rsa_jwk(os.path.join(KEYS, "attacker-rsa.key.pem"),
                          "rsa-2")
        edge, _ = jwt_edge(env, jwks=jwks, workers=2)

        old_tok = mint(edge)
        new_tok = mint(edge, key="attacker-rsa.key.pem", kid="rsa-2")
        check(until(edge, old_tok, 200), "a token of rsa-1 is served")
        check(status(edge, new_tok) == 401, "rsa-2 is not trusted yet")

        write_jwks(jwks, published + [new_key])
        check(until(edge, new_tok, 200),
              "after the file changed, rsa-2 is accepted on every worker")
        check(status(edge, old_tok) == 200, "rsa-1 still is")

        write_jwks(jwks, [k for k in published if k["kid"] != "rsa-1"] +
                   [new_key])
        check(until(edge, old_tok, 401),
              "once rsa-1 is removed its cached token is refused")
        check(status(edge, new_tok) == 200, "rsa-2 goes on")

        with open(jwks, "w") as f:
            f.write('{"keys": [')
        time.sleep(2.5)
        check(until(edge, new_tok, 200, 2.0),
              "a broken file leaves the keys in force")

        out = env.stop_edge(edge)
        check(out.count("keys reloaded") == 2,
              "each good change is logged once (%d)"
              % out.count("keys reloaded"))
        check(out.count("keys not reloaded, the old ones stay") == 1,
              "the broken file is logged once")


main(test)
