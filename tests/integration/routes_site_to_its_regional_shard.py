"""A site is served by the shard its site line names, in that shard's
region: the issue's two-region example, acme -> eu-1, globex -> us-1."""
from harness import Env, check, main, two_regions


def test():
    with Env() as env:
        edge, eu, us = two_regions(env)

        r = edge.get("/hello?x=1", host="acme.edge.test")
        check(r.status == 200, "acme answered 200")
        body = r.json()
        check(body["shard"] == "eu-1" and body["region"] == "eu",
              "acme served by shard eu-1 in region eu")
        check(body["path"] == "/hello?x=1", "path and query forwarded")

        r = edge.get("/", host="GLOBEX.edge.test:8080")
        check(r.status == 200 and r.json()["shard"] == "us-1",
              "globex (any case, with a port) served by us-1")

        check(len(eu.heads()) == 1 and len(us.heads()) == 1,
              "each backend saw exactly its own site's request")


main(test)
