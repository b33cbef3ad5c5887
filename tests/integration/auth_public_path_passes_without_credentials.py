"""Public paths never need a caller, whatever the auth rules: with `auth
required` everywhere, /health and /login (and below them) are served
without credentials; /healthz is not a public path, and neither is a
path that a backend could resolve elsewhere (`//`, an encoded `/`); dot
segments are refused by the core (400) before the policy runs."""
from harness import Env, check, main
from chain_helpers import check_refusal
from session_helpers import session_edge

POLICY = """
module policy {
    auth required;
    public_paths /health /login;
}
"""


def test():
    with Env() as env:
        edge, redis, eu = session_edge(env, extra=POLICY)
        for path in ("/health", "/health/db?verbose=1", "/login",
                     "/login?next=/wiki/"):
            r = edge.get(path, host="acme.edge.test")
            check(r.status == 200, "GET %s is served without credentials "
                  "(got %d)" % (path, r.status))
        for path in ("/healthz", "/health//admin", "/health%2Fadmin",
                     "/wiki/"):
            r = edge.get(path, host="acme.edge.test")
            check_refusal(r, 401, "authentication required",
                          "GET %s without credentials" % path)
        r = edge.get("/health/../admin", host="acme.edge.test")
        check_refusal(r, 400, "bad request", "GET /health/../admin")


main(test)
