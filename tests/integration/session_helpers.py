"""Helpers for the session and auth integration tests: an edge whose
tenants and sessions live in a redis-server of the test's own, session
records written as the identity system writes them, and requests that
carry a session cookie."""

import json
import time

from chain_helpers import Redis, tenant

SID = "s-live-0123456789abcdef"

CONF = """
workers {workers};
listen {listen};
domain edge.test;
log_level info;
redis {redis} { timeout 300ms; connect_timeout 500ms; heartbeat 200ms; }
tcs { store redis; cache 1000 ttl 60s; negative_ttl 1s; }
region eu { shard eu-1 { backend {eu} zone z1; } }
chain session tenant policy route;
module session { cookie sid; login_url /login; }
"""


def put_session(redis, sid, user="u-1", tenant_id="t-0001", ttl=3600):
    """The record at tcs:session:<sid>, expiring ttl seconds from now
    (negative: already expired)."""
    record = {"user": user, "tenant": tenant_id,
              "expires": int(time.time()) + ttl}
    redis.command("SET", "tcs:session:" + sid, json.dumps(record))


def revoke(redis, sid):
    """What the identity system does on logout: delete, then publish."""
    redis.command("DEL", "tcs:session:" + sid)
    redis.command("PUBLISH", "tcs:events",
                  json.dumps({"event": "session-revoke", "session": sid}))


def session_edge(env, extra="", conf=CONF, workers=1, name="edge"):
    """A redis-server with tenants acme (t-0001) and globex (t-0002), a
    backend for eu-1 and an edge in front; returns (edge, redis,
    backend)."""
    redis = Redis(env)
    redis.put_tenant(tenant("acme", "t-0001"))
    redis.put_tenant(tenant("globex", "t-0002"))
    eu = env.backend("eu-1", region="eu")
    edge = env.edge(conf + extra, name=name, eu=eu.addr, redis=redis.addr,
                    workers=workers)
    return edge, redis, eu


def cookie(sid, name="sid"):
    """Request fields carrying session sid, as a browser sends them."""
    return {"Cookie": "theme=dark; %s=%s; lang=en" % (name, sid)}


class Fields(list):
    """Request fields as (name, value) pairs, for a name sent twice."""

    def items(self):
        return list(self)
