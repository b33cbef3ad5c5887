"""A tenantedge restarted on the same `listen` address right after the
previous one stopped starts and serves: connections of the old run left
in TIME_WAIT do not count as another daemon listening there (the check
that refuses a second daemon on a taken address must not refuse a
restart)."""
import errno
import os
import socket

from harness import (TENANTEDGE, Env, Process, TestFailure, check,
                     free_port, main, wait_port)

CONF = """
workers 2;
listen 127.0.0.1:%d;
domain edge.test;
region eu { shard eu-1 { backend %s zone z1; } }
site acme shard eu-1;
"""


def start(env, conf, port, name):
    p = Process([TENANTEDGE, "-c", conf], os.path.join(env.dir, name))
    env.procs.append(p)
    if not wait_port(port, p.proc):
        raise TestFailure("tenantedge did not start:\n" + p.output())
    return p


def served(port):
    """One request with Connection: close, read until the edge closes:
    the edge closes first, so its side of the connection is left in
    TIME_WAIT."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    out = b""
    try:
        s.sendall(b"GET / HTTP/1.1\r\nHost: acme.edge.test\r\n"
                  b"Connection: close\r\n\r\n")
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    finally:
        s.close()
    return out.startswith(b"HTTP/1.1 200 ")


def plain_bind_fails(port):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        return False
    except OSError as e:
        return e.errno == errno.EADDRINUSE
    finally:
        s.close()


def test():
    with Env() as env:
        eu = env.backend("eu-1", region="eu")
        port = free_port()
        conf = os.path.join(env.dir, "edge.conf")
        with open(conf, "w") as f:
            f.write(CONF % (port, eu.addr))

        first = start(env, conf, port, "first.log")
        check(all(served(port) for _ in range(5)),
              "the first run serves, closing each connection itself")
        env.stop_edge(first)
        check(plain_bind_fails(port),
              "its connections are in TIME_WAIT: a plain bind to the port "
              "fails now")

        second = start(env, conf, port, "second.log")
        check(served(port), "the restarted daemon starts and serves")
        out = env.stop_edge(second)
        check("already in use" not in out, "nothing called the address "
              "taken")


main(test)
