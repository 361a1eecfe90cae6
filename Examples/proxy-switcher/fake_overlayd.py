#!/usr/bin/env python3
"""A stand-in for overlayd's local API on a Unix socket, for testing the Python examples.

It answers GET /v1/status, /v1/peers, /v1/gateways, /v1/observations, /v1/selection,
POST /v1/selection/refresh and the GET /v1/events stream (chunked NDJSON, held open) with the
shapes of Docs/api.md, from state a test changes at will:

    daemon = FakeOverlayd("/tmp/fake.sock").start()
    daemon.select("gw-b", reason="requested")      # updates /v1/selection and emits an event
    daemon.stop()

Run it alone to play with the examples: python3 fake_overlayd.py --socket /tmp/fake.sock
(every 10 s it switches between its two gateways).
"""

import argparse
import http.server
import json
import os
import queue
import select
import socket
import socketserver
import threading
import time

VERSION = "0.0.0-fake"
NODE_ID = "ab" * 32


def _now_ms():
    return int(time.time() * 1000)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-overlayd"

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass  # quiet; and a Unix socket has no client address to print

    def _send_json(self, status, value):
        body = (json.dumps(value, indent=2, sort_keys=True) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Overlayd-Version", VERSION)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status, code, message):
        self._send_json(status, {"schema": 1, "version": VERSION, "error": {"code": code, "message": message}})

    def do_GET(self):  # noqa: N802 - http.server's name
        daemon = self.server.daemon
        path, _, query = self.path.partition("?")
        with daemon.lock:
            daemon.requests.append(("GET", self.path))
            if daemon.unavailable and path != "/v1/status":
                return self._error(503, "unavailable", f"{path} is not available: gateway selection is off")
            if path == "/v1/status":
                return self._send_json(200, daemon.status())
            if path == "/v1/peers":
                return self._send_json(200, {"schema": 1, "version": VERSION, "peers": daemon.peers()})
            if path == "/v1/gateways":
                return self._send_json(200, {"schema": 1, "version": VERSION, "gateways": daemon.gateway_rows()})
            if path == "/v1/observations":
                return self._send_json(200, {"schema": 1, "version": VERSION, "observations": []})
            if path == "/v1/selection":
                return self._send_json(200, daemon.selection())
        if path == "/v1/events":
            return self._stream(daemon)
        return self._error(404, "not_found", f"no route for {path}")

    def do_POST(self):  # noqa: N802 - http.server's name
        daemon = self.server.daemon
        with daemon.lock:
            daemon.requests.append(("POST", self.path))
        if self.path == "/v1/selection/refresh":
            if daemon.forbid_writes:
                return self._error(403, "forbidden", "/v1/selection/refresh changes the node and user 1000 may not write")
            with daemon.lock:
                daemon.refreshes += 1
            return self._send_json(202, {"schema": 1, "version": VERSION, "accepted": True,
                                         "message": "A selection round started; GET /v1/selection shows the outcome."})
        return self._error(405 if self.path.startswith("/v1/") else 404, "method_not_allowed",
                           f"{self.path} does not accept POST; use GET")

    def _stream(self, daemon):
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("X-Overlayd-Version", VERSION)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        subscriber = daemon.subscribe()
        try:
            while True:
                try:
                    record = subscriber.get(timeout=0.1)
                except queue.Empty:
                    if self._client_left():
                        return
                    continue
                if record is None:  # the daemon stops: end the stream properly
                    self.wfile.write(b"0\r\n\r\n")
                    self.wfile.flush()
                    return
                line = (json.dumps(record, sort_keys=True, separators=(",", ":")) + "\n").encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                self.wfile.flush()
        except OSError:
            return  # the client went away
        finally:
            daemon.unsubscribe(subscriber)
            self.close_connection = True


    def _client_left(self):
        """Whether the follower closed its end (readable, and a peek reads nothing)."""
        readable, _, _ = select.select([self.connection], [], [], 0)
        if not readable:
            return False
        try:
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    allow_reuse_address = True


class FakeOverlayd:
    """A fake overlayd API on a Unix socket; its state is plain attributes guarded by `lock`."""

    def __init__(self, socket_path, gateways=None, current="gw-a"):
        self.socket_path = socket_path
        self.lock = threading.RLock()
        self.gateways = dict(gateways or {"gw-a": "10.1.2.3:3128", "gw-b": "[fd00::7]:8888"})
        self.current = current
        self.previous = None
        self.reason = "start"
        self.round = 1
        self.unavailable = False
        self.forbid_writes = False
        self.refreshes = 0
        self.requests = []
        self._subscribers = []
        self._server = None
        self._thread = None

    # --- the answers ---------------------------------------------------------------------------

    def status(self):
        return {"schema": 1, "version": VERSION,
                "node": {"id": NODE_ID, "name": "node-12", "endpoint": "127.0.0.1:17900"},
                "uptime_seconds": 12.5, "incarnation": 1,
                "members": {"alive": 1, "suspect": 0, "failed": 0, "left": 0, "total": 1},
                "local_health": 0, "protocol_period_ms": 1000}

    def peers(self):
        return [{"id": NODE_ID, "name": "node-12", "address": "127.0.0.1:17900", "state": "alive",
                 "incarnation": 1, "last_heard_seconds_ago": 0, "round_trip_ms": None, "is_local": True}]

    def gateway_rows(self):
        return [{"id": gateway, "proxy": proxy, "origin": "configured", "announced_by": None, "hops": 1,
                 "eligible": True, "excluded_reason": None, "estimate_ms": 40.0, "ttfb_ms": 10.0, "observers": 1,
                 "failures": 0, "age_seconds": 3.0, "clients": 1, "capacity": None,
                 "is_current": gateway == self.current}
                for gateway, proxy in sorted(self.gateways.items())]

    def selection(self):
        return {"schema": 1, "version": VERSION, "strategy": "collaborative", "current": self.current,
                "previous": self.previous, "reason": self.reason, "decided_seconds_ago": 1.0,
                "explanation": f"Chose {self.current}." if self.current else "No usable gateway.",
                "round": self.round, "candidates": [], "probes_sent": 1, "shared_estimates_used": 0,
                "rounds_completed": self.round, "next_round_in_seconds": 300.0}

    # --- changes a test makes -------------------------------------------------------------------

    def select(self, gateway, reason="periodic"):
        """Switches the selection and emits the selection event."""
        with self.lock:
            self.previous, self.current, self.reason = self.current, gateway, reason
            self.round += 1
            record = {"schema": 1, "type": "selection", "at_ms": _now_ms(), "member": None, "view": None,
                      "quorum": None, "selection": {"from": self.previous, "to": gateway, "reason": reason,
                                                    "explanation": f"Switched to {gateway}."}}
        self.emit(record)

    def emit(self, record):
        """Sends a record to every follower of /v1/events."""
        with self.lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            subscriber.put(record)

    def subscribe(self):
        subscriber = queue.Queue()
        with self.lock:
            self._subscribers.append(subscriber)
        return subscriber

    def unsubscribe(self, subscriber):
        with self.lock:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)

    @property
    def follower_count(self):
        with self.lock:
            return len(self._subscribers)

    def wait_for_followers(self, count, timeout=5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.follower_count >= count:
                return True
            time.sleep(0.01)
        return False

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self):
        if os.path.exists(self.socket_path):
            os.unlink(self.socket_path)
        self._server = _Server(self.socket_path, _Handler)
        self._server.daemon = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Ends every event stream with its final chunk, stops listening, removes the socket."""
        with self.lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            subscriber.put(None)
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if os.path.exists(self.socket_path):
            os.unlink(self.socket_path)


def main():
    parser = argparse.ArgumentParser(description="A fake overlayd local API on a Unix socket.")
    parser.add_argument("--socket", required=True)
    arguments = parser.parse_args()
    daemon = FakeOverlayd(arguments.socket).start()
    print(f"fake overlayd on {arguments.socket}; switching gateway every 10 s (Ctrl-C to stop)")
    try:
        while True:
            time.sleep(10)
            daemon.select("gw-b" if daemon.current == "gw-a" else "gw-a")
    except KeyboardInterrupt:
        daemon.stop()


if __name__ == "__main__":
    main()
