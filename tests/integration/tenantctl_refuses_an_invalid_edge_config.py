"""`tenantctl -c EDGE.conf` refuses a config the edge would refuse: exit
1 with the loader's own file:line:col message (here from an included
file), and nothing is written to Redis. A config whose edge reads no
tenants from Redis (store static) is refused too, rather than writing
where the edge never looks."""
import os

from chain_helpers import Redis, tenant
from harness import Env, check, main
from tenantctl_helpers import tenantctl


def test():
    with Env() as env:
        redis = Redis(env)
        redis.put_tenant(tenant("acme", "t-0001"))
        before = redis.get("tcs:tenant:t-0001")

        inc = os.path.join(env.dir, "redis.conf")
        with open(inc, "w") as f:
            f.write("redis %s {\n    databse 2;\n}\n" % redis.addr)
        conf = os.path.join(env.dir, "edge.conf")
        with open(conf, "w") as f:
            f.write("listen 127.0.0.1:1;\ninclude redis.conf;\n"
                    "tcs { store redis; }\n")
        rc, out, err = tenantctl("-c", conf, "suspend", "acme")
        check(rc == 1 and out == "" and err.startswith(
            "tenantctl: %s:2:5: " % inc) and "databse" in err,
              "exit 1 with the loader's file:line:col message (%d %r)"
              % (rc, err))
        check(redis.get("tcs:tenant:t-0001") == before, "nothing written")

        with open(conf, "w") as f:
            f.write("listen 127.0.0.1:1;\nredis %s;\ndomain edge.test;\n"
                    "region eu { shard eu-1 { backend 127.0.0.1:2; } }\n"
                    "site acme shard eu-1;\n" % redis.addr)
        rc, out, err = tenantctl("-c", conf, "suspend", "acme")
        check(rc == 1 and out == "" and 'reads its tenants from "store '
              'static"' in err,
              "a static store: exit 1, says so (%d %r)" % (rc, err))
        check(redis.get("tcs:tenant:t-0001") == before, "nothing written")


main(test)
