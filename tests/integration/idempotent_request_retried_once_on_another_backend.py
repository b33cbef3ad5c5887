"""A backend that drops requests without answering: an idempotent request
it failed is sent once more, to another backend, and succeeds; a POST
whose body went out is not sent again (502); the failing backend is
marked down after upstream_max_fails failures, logged once, and then
left alone. A replay that fails too is not replayed again."""
import socket
import threading
from harness import Env, check, main

CONF = """
workers 1;
listen {listen};
zone z1;
domain edge.test;
log_level info;
upstream_connect_timeout 2s;
upstream_read_timeout 10s;
upstream_max_fails 3;
upstream_fail_timeout 60s;
region eu { shard eu-1 {
    {backends}
} }
site acme shard eu-1;
"""


class Dropper:
    """Accepts, reads a request head, closes without a byte of answer.
    Keeps the request lines it saw."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.addr = "127.0.0.1:%d" % self.sock.getsockname()[1]
        self.lines = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.done.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn.settimeout(5)
            data = b""
            try:
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            except OSError:
                pass
            if data:
                self.lines.append(data.split(b"\r\n", 1)[0].decode())
            conn.close()

    def methods(self):
        return [line.split(" ", 1)[0] for line in self.lines]

    def stop(self):
        self.done.set()
        self.thread.join(10)
        self.sock.close()


def backend_lines(b, zone):
    return "backend %s zone %s;" % (b, zone)


def test():
    with Env() as env:
        bad = Dropper()
        good = env.backend("eu-1", zone="z2")
        try:
            edge = env.edge(CONF, backends=backend_lines(bad.addr, "z1") +
                            "\n    " + backend_lines(good.addr, "z2"))

            r = edge.request("POST", "/form", body=b"x" * 1000)
            check(r.status == 502, "a POST the backend dropped gets 502")
            check(bad.methods() == ["POST"] and len(good.heads()) == 0,
                  "the POST was not sent to another backend")

            for i in range(5):
                r = edge.get("/item/%d" % i)
                check(r.status == 200 and r.json()["zone"] == "z2",
                      "GET %d answered 200 by the other backend" % i)
            r = edge.request("DELETE", "/item/9")
            check(r.status == 200, "an idempotent DELETE is retried too")

            gets = bad.methods().count("GET")
            check(gets == 2,
                  "the dropping backend saw GETs until it was marked down "
                  "(3 failures with the POST), then none: %d" % gets)
            check([h["method"] for h in good.heads()] ==
                  ["GET"] * 5 + ["DELETE"],
                  "the other backend saw each idempotent request once")

            out = env.stop_edge(edge)
            down = [l for l in out.splitlines() if "backend down," in l]
            check(len(down) == 1 and ("backend=%s shard=eu-1 zone=z1"
                                      % bad.addr) in down[0]
                  and "fails=3" in down[0] and "for=60s" in down[0],
                  "the dropping backend was logged down once: %r" % down)
        finally:
            bad.stop()

        # Two dropping backends in this zone: the replay fails too, and
        # is not replayed again (the good one is never reached).
        bad1, bad2 = Dropper(), Dropper()
        good2 = env.backend("eu-1", zone="z2")
        try:
            edge = env.edge(CONF, name="edge2",
                            backends=backend_lines(bad1.addr, "z1") +
                            "\n    " + backend_lines(bad2.addr, "z1") +
                            "\n    " + backend_lines(good2.addr, "z2"))
            r = edge.get("/once")
            check(r.status == 502, "a GET whose replay failed too gets 502")
            check(bad1.methods() == ["GET"] and bad2.methods() == ["GET"]
                  and len(good2.heads()) == 0,
                  "it was sent twice in all: retried once, not more")
            env.stop_edge(edge)
        finally:
            bad1.stop()
            bad2.stop()


main(test)
