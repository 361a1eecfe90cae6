#!/usr/bin/env python3
"""Run a job only while this node's side of the mesh holds the committed view.

Some jobs must run on one side of a partition only: a DHCP server for a shared range, a
scheduler, a writer to a shared store. overlayd's quorum view says which side that is: only the
side with a majority of the view's members reports "quorum": true, and two sides can never both
have it (Docs/membership-view.md). This supervisor polls GET /v1/membership on the local socket,
starts the command while the node is a member of the view and its side has quorum, and stops it
(SIGTERM, then SIGKILL after --grace seconds) as soon as either stops being true, or when
overlayd cannot be reached (no answer is no evidence of a majority).

    python3 majority_job.py [--socket PATH] [--interval 2] [--grace 10] -- COMMAND [ARGS...]

For example, on every node of a cloud, with only one copy running at a time per majority side:

    python3 majority_job.py -- /usr/sbin/dnsmasq --keep-in-foreground --conf-file=/etc/mesh-dhcp.conf

Only the Python standard library is used. Exit status: the supervisor runs until SIGTERM or
SIGINT (it stops the job first, exit 0); 2 for a usage error.
"""

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time

DEFAULT_SOCKET = "/run/overlayd/overlayd.sock"


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


def membership(socket_path, timeout=3.0):
    """GET /v1/membership as a dict, or None when overlayd does not answer with one."""
    try:
        connection = _UnixConnection(socket_path, timeout)
        connection.request("GET", "/v1/membership")
        response = connection.getresponse()
        body = response.read()
        connection.close()
        if response.status != 200:
            return None
        return json.loads(body)
    except (OSError, ValueError, http.client.HTTPException):
        return None


def holds_view(view):
    """Whether the job may run: this node is in the committed view and its side has quorum."""
    return bool(view) and view.get("schema") == 1 and view.get("is_member") is True and view.get("quorum") is True


class Supervisor:
    """Starts and stops one command as holds_view() changes."""

    def __init__(self, command, grace, log=print):
        self.command = command
        self.grace = grace
        self.process = None
        self.log = log

    @property
    def running(self):
        return self.process is not None and self.process.poll() is None

    def update(self, allowed, why):
        if allowed and not self.running:
            self.log(f"majority-job: starting {self.command[0]} ({why})")
            self.process = subprocess.Popen(self.command)
        elif not allowed and self.running:
            self.log(f"majority-job: stopping {self.command[0]} ({why})")
            self.stop()

    def stop(self):
        if not self.running:
            return
        self.process.terminate()
        try:
            self.process.wait(self.grace)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def describe(view):
    if view is None:
        return "overlayd does not answer"
    return f"epoch {view.get('epoch')}, {view.get('reachable')} of {view.get('view_size')} reachable, quorum {view.get('quorum')}, member {view.get('is_member')}"


def main(argv=None):
    parser = argparse.ArgumentParser(description="Run a command only while this node's side holds the committed view.")
    parser.add_argument("--socket", default=os.environ.get("OVERLAYD_SOCKET", DEFAULT_SOCKET))
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between checks (default 2)")
    parser.add_argument("--grace", type=float, default=10.0, help="seconds between SIGTERM and SIGKILL (default 10)")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --")
    supervisor = Supervisor(command, args.grace)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(True))
    while not stopping:
        view = membership(args.socket)
        supervisor.update(holds_view(view), describe(view))
        time.sleep(args.interval)
    supervisor.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
