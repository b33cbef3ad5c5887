"""`tenantctl -c EDGE.conf token --site S` mints what the edge accepts:
the tenant id from Redis (the site's tcs:site key), issuer, audience and
tenant claim name from the edge's own `module jwt` block, signed with
the given key; overrides win; an unknown site, an empty key file or a
config without a jwt block are refused with exit status 1 or 2 and a
message, never an unsigned token."""
import os
import subprocess
import time

from chain_helpers import Redis, tenant
from harness import Env, check, main
from jwt_helpers import KEYS, TENANTCTL, bearer, jwt_edge, parts

SITES = """
redis {redis} { timeout 300ms; connect_timeout 500ms; }
tcs { store redis; }
"""


def tenantctl(*args):
    p = subprocess.run([TENANTCTL] + list(args), capture_output=True,
                       timeout=60)
    return p.returncode, p.stdout.decode().strip(), p.stderr.decode()


def test():
    with Env() as env:
        redis = Redis(env)
        redis.put_tenant(tenant("acme", "t-0042"))
        edge, eu = jwt_edge(env, sites=SITES.replace("{redis}", redis.addr),
                            jwt_extra="tenant_claim org;")
        key = os.path.join(KEYS, "rsa.key.pem")

        rc, tok, err = tenantctl("-c", edge.conf, "token", "--site", "acme",
                                 "--key", key, "--kid", "rsa-1", "--ttl",
                                 "2m", "--sub", "ops", "--claim",
                                 "scope=read")
        check(rc == 0, "minted (rc %d: %s)" % (rc, err))
        h, c, _ = parts(tok)
        now = int(time.time())
        check(h == {"alg": "RS256", "kid": "rsa-1", "typ": "JWT"},
              "header: RS256, the kid given (%r)" % h)
        check(c["org"] == "t-0042" and "tenant" not in c,
              "the tenant id from Redis, under the configured claim name")
        check(c["iss"] == "https://id.example.test" and
              c["aud"] == "tenantedge",
              "issuer and audience from the edge's config")
        check(c["sub"] == "ops" and c["scope"] == "read" and
              abs(c["exp"] - now - 120) <= 5 and abs(c["iat"] - now) <= 5,
              "sub, claims and ttl as asked (%r)" % c)
        r = edge.get("/jira/minted", host="acme.edge.test",
                     headers=bearer(tok))
        check(r.status == 200, "the edge accepts it (got %d %r)"
              % (r.status, r.body[:100]))

        rc, tok, err = tenantctl("-c", edge.conf, "token", "--tenant", "t-9",
                                 "--key", key, "--iss", "https://other.test",
                                 "--aud", "x", "--claim",
                                 "aud:=[\"a\",\"b\"]")
        c = parts(tok)[1]
        check(rc == 0 and c["iss"] == "https://other.test" and
              c["aud"] == ["a", "b"] and c["org"] == "t-9",
              "--tenant, --iss and --claim NAME:=JSON override")

        rc, _, err = tenantctl("-c", edge.conf, "token", "--site", "nosuch",
                               "--key", key)
        check(rc == 1 and "no such site: nosuch" in err,
              "an unknown site: exit 1 (%r)" % err)
        empty = os.path.join(env.dir, "empty.key")
        open(empty, "w").close()
        rc, out, err = tenantctl("-c", edge.conf, "token", "--site", "acme",
                                 "--key", empty, "--alg", "HS256")
        check(rc == 1 and out == "" and "empty key file" in err,
              "an empty key is refused, nothing printed (%r)" % err)
        rc, out, err = tenantctl("-c", edge.conf, "token", "--site", "acme",
                                 "--key", key, "--alg", "none")
        check(rc == 2 and out == "", "--alg none is refused")
        bare = os.path.join(env.dir, "bare.conf")
        with open(bare, "w") as f:
            f.write("listen 127.0.0.1:1;\n")
        rc, out, err = tenantctl("-c", bare, "token", "--tenant", "t-1",
                                 "--key", key)
        check(rc == 1 and "no module jwt block" in err,
              "a config without a jwt block: said so (%r)" % err)


main(test)
