"""A site key that points at another site's record (`SET tcs:site:weird
t-0001`, the record of acme), or at a record holding another tenant id,
is answered 503 by the edge: `tenantctl show` no longer calls it active
but prints it, says the edge refuses it and exits 1; `list` marks it
invalid and warns, and the well-formed site next to it stays active."""
import json

from chain_helpers import Redis, tenant
from harness import Env, check, main
from tenantctl_helpers import redis_edge, tenantctl


def test():
    with Env() as env:
        redis = Redis(env)
        redis.put_tenant(tenant("acme", "t-0001"))
        redis.command("SET", "tcs:site:weird", "t-0001")
        odd = tenant("odd", "t-0003")
        odd["id"] = "t-0009"
        redis.command("SET", "tcs:site:odd", "t-0003")
        redis.command("SET", "tcs:tenant:t-0003", json.dumps(odd))
        edge, eu = redis_edge(env, redis)

        for site in ("weird", "odd"):
            r = edge.get("/", host=site + ".edge.test")
            check(r.status == 503, "the edge answers 503 for %s (got %d)"
                  % (site, r.status))
        check(edge.get("/", host="acme.edge.test").status == 200,
              "and serves acme")

        rc, out, err = tenantctl("-c", edge.conf, "show", "weird")
        check(rc == 1, "show weird: exit 1 (%d %r)" % (rc, err))
        check(json.loads(out)["site"] == "acme",
              "show weird still prints the record it found")
        check("the edge would refuse the record of weird" in err and
              "site acme" in err and "503" in err,
              "and says the record is acme's and the edge answers 503 "
              "(%r)" % err)

        rc, out, err = tenantctl("-c", edge.conf, "show", "odd")
        check(rc == 1 and "tenant t-0009" in err,
              "show odd: exit 1, names the record's other id (%r)" % err)

        rc, out, err = tenantctl("-c", edge.conf, "show", "acme")
        check(rc == 0 and err == "", "show acme: exit 0, no warning")

        rc, out, err = tenantctl("-c", edge.conf, "list")
        check(rc == 0 and out ==
              "acme t-0001 active eu -\n"
              "odd t-0003 invalid - -\n"
              "weird t-0001 invalid - -\n",
              "list marks weird and odd invalid, acme active (%r)" % out)
        check("warning: weird is invalid" in err and
              "warning: odd is invalid" in err,
              "and warns about both on stderr (%r)" % err)


main(test)
