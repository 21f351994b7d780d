#!/usr/bin/env python3
"""fakeapi: a local stand-in for the Kubernetes API server's list/watch
protocol, for svcdns' tests (python3 standard library only).

  fakeapi.py serve --port-file F [--objects FILE.json]... [--tls CERT KEY]
                   [--token T] [--gen-pods N] [--gen-services N]
                   [--bookmark-ms MS] [--history N]
  fakeapi.py ctl PORTFILE OP [ARG...]

serve: answers
  GET /api/v1/{namespaces,services,pods}
  GET /apis/discovery.k8s.io/v1/endpointslices
with LIST (limit, continue, labelSelector: k=v, k!=v, k, !k) and WATCH
(watch=1, resourceVersion, allowWatchBookmarks, timeoutSeconds) as the
API server does: one JSON event per line of a chunked response, BOOKMARK
events, 410 Gone for a resourceVersion older than the history kept. Objects
come from --objects files (a JSON list of objects, or a *List) and from
--gen-pods/--gen-services (generated on the fly, for memory tests: the
generated objects never change). With --tls the API is HTTPS; --token
requires "Authorization: Bearer T" (401 otherwise). The API port and a
plain-HTTP control port are written to --port-file as "API CTL" once both
listen.

ctl: sends one command to the control port (POST /ctl) and prints the
reply (JSON). Commands:
  apply FILE|-        add or replace the objects (one object, a JSON list
                      or a *List); each is one ADDED or MODIFIED event
  delete KIND NS NAME one DELETED event (NS "" for a Namespace)
  gone                forget the history (watches resuming from an older
                      resourceVersion get 410) and end every open watch
                      with an ERROR 410 event
  gone-status         the same, but the next watches get HTTP 410
  drop                cut every open watch connection (no final chunk)
  wedge               every open watch goes silent, as behind a proxy that
                      lost the server: nothing more is sent on it (no
                      event, no bookmark) until the client hangs up;
                      later watches are served as usual
  slow MS             write each event in 3 pieces, MS apart (0: off)
  bookmark            send a BOOKMARK on every open watch now
  fail N              answer the next N API requests with HTTP 500
  expire-continue     the next LIST with a continue token gets 410
  stats               {"lists": {res: n}, "watches": {res: n},
                       "connections": n, "open_watches": n, "rv": n}
"""
import base64
import json
import select
import socket
import ssl
import sys
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RESOURCES = {
    "/api/v1/namespaces": ("namespaces", "Namespace", "v1"),
    "/api/v1/services": ("services", "Service", "v1"),
    "/api/v1/pods": ("pods", "Pod", "v1"),
    "/apis/discovery.k8s.io/v1/endpointslices":
        ("endpointslices", "EndpointSlice", "discovery.k8s.io/v1"),
}
KIND_RES = {v[1]: v[0] for v in RESOURCES.values()}
RES_INFO = {v[0]: (v[1], v[2]) for v in RESOURCES.values()}


def obj_key(o):
    md = o.get("metadata", {})
    return "%s/%s" % (md.get("namespace", ""), md.get("name", ""))


class State:
    def __init__(self, args):
        self.lock = threading.Condition()
        self.rv = 100
        self.objects = {r: {} for r in RES_INFO}
        self.history = []  # (rv, res, type, obj)
        self.history_max = args.history
        self.compacted = 0  # watches from rv < this get 410
        self.gone_status = False
        self.epoch = 0  # bumped to end every open watch
        self.drop_epoch = 0
        self.wedge_epoch = 0
        self.slow_ms = 0
        self.fail = 0
        self.expire_continue = False
        self.bookmark_epoch = 0
        self.lists = {r: 0 for r in RES_INFO}
        self.watches = {r: 0 for r in RES_INFO}
        self.connections = 0
        self.open_watches = 0
        self.gen_pods = args.gen_pods
        self.gen_services = args.gen_services
        self.snapshots = {}
        self.next_snap = 1

    def put(self, o):
        kind = o.get("kind")
        res = KIND_RES.get(kind)
        if res is None:
            raise ValueError("unknown kind %r" % kind)
        o.setdefault("apiVersion", RES_INFO[res][1])
        md = o.setdefault("metadata", {})
        if res != "namespaces":
            md.setdefault("namespace", "default")
        key = obj_key(o)
        self.rv += 1
        md["resourceVersion"] = str(self.rv)
        typ = "MODIFIED" if key in self.objects[res] else "ADDED"
        self.objects[res][key] = o
        self.record(res, typ, o)

    def delete(self, kind, ns, name):
        res = KIND_RES[kind]
        key = "%s/%s" % (ns, name)
        o = self.objects[res].pop(key, None)
        if o is None:
            return False
        self.rv += 1
        o = json.loads(json.dumps(o))
        o["metadata"]["resourceVersion"] = str(self.rv)
        self.record(res, "DELETED", o)
        return True

    def record(self, res, typ, o):
        self.history.append((self.rv, res, typ, json.dumps(o)))
        if len(self.history) > self.history_max:
            drop = len(self.history) - self.history_max
            self.compacted = self.history[drop - 1][0] + 1
            del self.history[:drop]
        self.lock.notify_all()


def gen_pod(i, n_pods, n_svc):
    # Pods of one service are adjacent, as in the API server's key order
    # (namespace/name, and a Deployment's pods share a name prefix).
    svc = i * max(n_svc, 1) // max(n_pods, 1)
    ns = "ns-%d" % (svc % 50)
    return {
        "metadata": {
            "name": "svc-%d-%08x-%05d" % (svc, svc * 2654435761 % 2**32, i),
            "namespace": ns,
            "uid": "00000000-0000-0000-0000-%012d" % i,
            "resourceVersion": "100",
            "labels": {"app": "svc-%d" % svc,
                       "pod-template-hash": "%08x" % (svc * 40503 % 2**32)},
            "annotations": {"kubectl.kubernetes.io/restartedAt":
                            "2024-01-01T00:00:00Z"},
        },
        "spec": {
            "containers": [{"name": "app", "image": "example/app:1.0",
                            "ports": [{"name": "http",
                                       "containerPort": 8080,
                                       "protocol": "TCP"}]}],
            "nodeName": "node-%d" % (i % 100),
        },
        "status": {
            "phase": "Running",
            "podIP": "10.%d.%d.%d" % (64 + i // 65536, i // 256 % 256,
                                       i % 256),
            "podIPs": [{"ip": "10.%d.%d.%d" % (64 + i // 65536,
                                               i // 256 % 256, i % 256)}],
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }


def gen_service(i):
    return {
        "metadata": {"name": "svc-%d" % i, "namespace": "ns-%d" % (i % 50),
                     "resourceVersion": "100"},
        "spec": {"clusterIP": "10.96.%d.%d" % (i // 256 % 256, i % 256),
                 "clusterIPs": ["10.96.%d.%d" % (i // 256 % 256, i % 256)],
                 "selector": {"app": "svc-%d" % i},
                 "ports": [{"name": "http", "port": 80,
                            "targetPort": 8080, "protocol": "TCP"}]},
    }


def label_match(o, selector):
    if not selector:
        return True
    labels = o.get("metadata", {}).get("labels", {}) or {}
    for term in selector.split(","):
        term = term.strip()
        if "!=" in term:
            k, v = term.split("!=", 1)
            if labels.get(k) == v:
                return False
        elif "=" in term:
            k, v = term.split("=", 1)
            if labels.get(k.rstrip("=")) != v:
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


class Api(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fakeapi/1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def setup(self):
        super().setup()
        st = self.server.state
        with st.lock:
            st.connections += 1

    def reply(self, code, body, ctype="application/json"):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def status(self, code, reason, msg):
        self.reply(code, json.dumps({
            "kind": "Status", "apiVersion": "v1", "metadata": {},
            "status": "Failure", "message": msg, "reason": reason,
            "code": code}))

    def do_GET(self):
        st = self.server.state
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        if self.server.token is not None and \
                self.headers.get("Authorization") != \
                "Bearer " + self.server.token:
            return self.status(401, "Unauthorized", "Unauthorized")
        info = RESOURCES.get(url.path)
        if info is None:
            return self.status(404, "NotFound", "no such path")
        with st.lock:
            if st.fail > 0:
                st.fail -= 1
                return self.status(500, "InternalError", "injected failure")
        if q.get("watch") in ("1", "true"):
            return self.watch(info, q)
        return self.list(info, q)

    def list(self, info, q):
        st = self.server.state
        res, kind, api = info
        limit = int(q.get("limit", "0") or 0)
        sel = q.get("labelSelector", "")
        with st.lock:
            st.lists[res] += 1
            cont = q.get("continue")
            if cont:
                if st.expire_continue:
                    st.expire_continue = False
                    return self.status(410, "Expired",
                                       "continue token expired")
                snap = st.snapshots.get(cont)
                if snap is None:
                    return self.status(410, "Expired", "unknown token")
                rv, items, off = snap
                del st.snapshots[cont]
            else:
                rv = st.rv
                items = [("obj", o) for o in st.objects[res].values()]
                ngen = {"pods": st.gen_pods,
                        "services": st.gen_services}.get(res, 0)
                items = [("gen", i) for i in range(ngen)] + items
                off = 0
            end = len(items) if limit <= 0 else min(len(items), off + limit)
            page = items[off:end]
            token = ""
            if end < len(items):
                token = "c%d" % st.next_snap
                st.next_snap += 1
                st.snapshots[token] = (rv, items, end)
        out = []
        for t, v in page:
            if t == "gen":
                o = gen_pod(v, st.gen_pods, st.gen_services) \
                    if res == "pods" \
                    else gen_service(v)
            else:
                o = dict(v)
                o.pop("kind", None)
                o.pop("apiVersion", None)
            if label_match(o, sel):
                out.append(json.dumps(o, separators=(",", ":")))
        md = {"resourceVersion": str(rv)}
        if token:
            md["continue"] = token
        body = '{"kind":"%sList","apiVersion":"%s","metadata":%s,"items":[%s]}' % (
            kind, api, json.dumps(md), ",".join(out))
        self.reply(200, body)

    def chunk(self, data):
        b = data.encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(b), b))
        self.wfile.flush()

    def send_line(self, line):
        st = self.server.state
        slow = st.slow_ms
        if slow <= 0:
            return self.chunk(line + "\n")
        n = len(line)
        cuts = [0, n // 3, 2 * n // 3, n]
        for i in range(3):
            self.chunk(line[cuts[i]:cuts[i + 1]] + ("\n" if i == 2 else ""))
            if i < 2:
                time.sleep(slow / 1000.0)

    def watch(self, info, q):
        st = self.server.state
        res, kind, api = info
        sel = q.get("labelSelector", "")
        bookmarks = q.get("allowWatchBookmarks") in ("1", "true")
        timeout = float(q.get("timeoutSeconds", "1800") or 1800)
        try:
            since = int(q.get("resourceVersion", "0") or 0)
        except ValueError:
            return self.status(400, "BadRequest", "bad resourceVersion")
        with st.lock:
            st.watches[res] += 1
            if since < st.compacted and st.gone_status:
                return self.status(410, "Expired", "too old resource version")
            gone = since < st.compacted
            epoch, drop_epoch = st.epoch, st.drop_epoch
            wedge_epoch = st.wedge_epoch
            bm_epoch = st.bookmark_epoch
            st.open_watches += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        deadline = time.monotonic() + timeout
        last_bm = time.monotonic()
        try:
            if gone:
                self.send_line(json.dumps({"type": "ERROR", "object": {
                    "kind": "Status", "apiVersion": "v1", "status":
                    "Failure", "message": "too old resource version: %d (%d)"
                    % (since, st.compacted), "reason": "Expired",
                    "code": 410}}))
                self.chunk_end()
                return
            while True:
                with st.lock:
                    evs = [h for h in st.history
                           if h[0] > since and h[1] == res]
                    if not evs and st.epoch == epoch and \
                            st.drop_epoch == drop_epoch and \
                            st.bookmark_epoch == bm_epoch:
                        st.lock.wait(0.2)
                        evs = [h for h in st.history
                               if h[0] > since and h[1] == res]
                    cur_rv = st.rv
                    ended = st.epoch != epoch
                    dropped = st.drop_epoch != drop_epoch
                    wedged = st.wedge_epoch != wedge_epoch
                    want_bm = st.bookmark_epoch != bm_epoch
                    bm_epoch = st.bookmark_epoch
                    compacted = st.compacted
                if dropped:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if wedged:
                    self.wait_hangup(deadline)
                    return
                for rv, _, typ, o in evs:
                    if not label_match(json.loads(o), sel):
                        since = rv
                        continue
                    self.send_line('{"type":"%s","object":%s}' % (typ, o))
                    since = rv
                if ended:
                    self.send_line(json.dumps({"type": "ERROR", "object": {
                        "kind": "Status", "apiVersion": "v1", "status":
                        "Failure", "message": "too old resource version: "
                        "%d (%d)" % (since, compacted), "reason": "Expired",
                        "code": 410}}))
                    self.chunk_end()
                    return
                now = time.monotonic()
                if bookmarks and (want_bm or (
                        self.server.bookmark_ms > 0 and
                        now - last_bm >= self.server.bookmark_ms / 1000.0)):
                    last_bm = now
                    since = max(since, cur_rv)
                    self.send_line(json.dumps({"type": "BOOKMARK", "object": {
                        "kind": kind, "apiVersion": api, "metadata": {
                            "resourceVersion": str(cur_rv)}}}))
                if now >= deadline:
                    self.chunk_end()
                    return
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True
        finally:
            with st.lock:
                st.open_watches -= 1

    def wait_hangup(self, deadline):
        """Sends nothing until the client closes (or the deadline)."""
        self.close_connection = True
        while time.monotonic() < deadline:
            r, _, _ = select.select([self.connection], [], [], 0.2)
            if not r:
                continue
            try:
                if not self.connection.recv(4096):
                    return
            except (ssl.SSLError, OSError):
                return

    def chunk_end(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


def load_objects(path_or_data):
    data = json.loads(path_or_data)
    if isinstance(data, dict) and data.get("kind", "").endswith("List"):
        kind = data["kind"][:-4]
        out = []
        for it in data.get("items", []):
            it.setdefault("kind", kind)
            out.append(it)
        return out
    if isinstance(data, dict):
        return [data]
    return data


class Ctl(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def do_POST(self):
        st = self.server.state
        n = int(self.headers.get("Content-Length", "0"))
        cmd = json.loads(self.rfile.read(n) or b"{}")
        op = cmd.get("op")
        out = {"ok": True}
        try:
            with st.lock:
                if op == "apply":
                    for o in load_objects(cmd["data"]):
                        st.put(o)
                elif op == "delete":
                    out["found"] = st.delete(cmd["kind"], cmd["ns"],
                                             cmd["name"])
                elif op in ("gone", "gone-status"):
                    st.history = []
                    st.compacted = st.rv + 1
                    st.gone_status = op == "gone-status"
                    st.epoch += 1
                    st.lock.notify_all()
                elif op == "drop":
                    st.drop_epoch += 1
                    st.lock.notify_all()
                elif op == "wedge":
                    st.wedge_epoch += 1
                    st.lock.notify_all()
                elif op == "slow":
                    st.slow_ms = int(cmd["ms"])
                elif op == "bookmark":
                    st.bookmark_epoch += 1
                    st.lock.notify_all()
                elif op == "fail":
                    st.fail = int(cmd["n"])
                elif op == "expire-continue":
                    st.expire_continue = True
                elif op == "stats":
                    out = {"lists": st.lists, "watches": st.watches,
                           "connections": st.connections,
                           "open_watches": st.open_watches, "rv": st.rv}
                else:
                    out = {"ok": False, "error": "unknown op %r" % op}
        except (KeyError, ValueError) as e:
            out = {"ok": False, "error": str(e)}
        body = json.dumps(out).encode()
        self.send_response(200 if out.get("ok", True) else 400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(argv):
    import argparse
    p = argparse.ArgumentParser(prog="fakeapi.py serve")
    p.add_argument("--port-file", required=True)
    p.add_argument("--objects", action="append", default=[])
    p.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--token")
    p.add_argument("--gen-pods", type=int, default=0)
    p.add_argument("--gen-services", type=int, default=0)
    p.add_argument("--bookmark-ms", type=int, default=0)
    p.add_argument("--history", type=int, default=100000)
    args = p.parse_args(argv)
    st = State(args)
    for f in args.objects:
        with open(f) as fh, st.lock:
            for o in load_objects(fh.read()):
                st.put(o)
    api = Server(("127.0.0.1", 0), Api)
    api.state = st
    api.token = args.token
    api.bookmark_ms = args.bookmark_ms
    if args.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls[0], args.tls[1])
        api.socket = ctx.wrap_socket(api.socket, server_side=True)
    ctl = Server(("127.0.0.1", 0), Ctl)
    ctl.state = st
    threading.Thread(target=ctl.serve_forever, daemon=True).start()
    with open(args.port_file + ".tmp", "w") as fh:
        fh.write("%d %d\n" % (api.server_address[1], ctl.server_address[1]))
    import os
    os.rename(args.port_file + ".tmp", args.port_file)
    try:
        api.serve_forever()
    except KeyboardInterrupt:
        pass


def ctl(argv):
    if len(argv) < 2:
        sys.exit("usage: fakeapi.py ctl PORTFILE OP [ARG...]")
    with open(argv[0]) as fh:
        port = int(fh.read().split()[1])
    op, rest = argv[1], argv[2:]
    cmd = {"op": op}
    if op == "apply":
        cmd["data"] = sys.stdin.read() if rest[0] == "-" else \
            open(rest[0]).read()
    elif op == "delete":
        cmd.update(kind=rest[0], ns=rest[1], name=rest[2])
    elif op == "slow":
        cmd["ms"] = rest[0]
    elif op == "fail":
        cmd["n"] = rest[0]
    req = urllib.request.Request(
        "http://127.0.0.1:%d/ctl" % port, data=json.dumps(cmd).encode(),
        headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            print(r.read().decode())
    except urllib.error.HTTPError as e:
        print(e.read().decode())
        sys.exit(1)


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in ("serve", "ctl"):
        sys.exit(__doc__)
    (serve if sys.argv[1] == "serve" else ctl)(sys.argv[2:])
