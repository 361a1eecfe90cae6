#!/usr/bin/env python3
"""A tiny client of overlayd's local API, using only Python's standard library.

overlayd answers HTTP/1.1 and JSON on a Unix socket (Docs/api.md). This module is both a small
library and a command:

    python3 overlay_client.py [--socket PATH] [--json] status|peers|gateways|selection|observations|refresh|events

As a library:

    from overlay_client import OverlayClient
    client = OverlayClient()                      # --socket, else $OVERLAYD_SOCKET, else the default
    print(client.selection()["current"])
    for event in client.events():                 # blocks; one dict per event
        print(event["type"], event)

Every response carries "schema" (1) and "version"; fields are only ever added within a schema,
so read the keys you know and ignore the rest. Exit statuses of the command follow overlayctl:
0 success, 1 overlayd not reachable (or it closed the event stream), 2 usage, 3 overlayd answered
with an error.
"""

import argparse
import http.client
import json
import os
import socket
import sys
import urllib.parse

DEFAULT_SOCKET = "/run/overlayd/overlayd.sock"
SOCKET_ENVIRONMENT = "OVERLAYD_SOCKET"
SCHEMA = 1


def resolve_socket(option=None):
    """The socket path: the option, else $OVERLAYD_SOCKET, else the default (as overlayctl)."""
    if option:
        return option
    return os.environ.get(SOCKET_ENVIRONMENT) or DEFAULT_SOCKET


class UnixHTTPConnection(http.client.HTTPConnection):
    """An http.client connection to a Unix stream socket instead of a TCP host."""

    def __init__(self, socket_path, timeout=5.0):
        super().__init__("localhost", timeout=timeout)
        self.socket_path = socket_path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.socket_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


class DaemonUnreachable(Exception):
    """overlayd could not be reached: no socket, nobody listening, no permission, no answer."""


class OverlayAPIError(Exception):
    """overlayd answered with an error: an HTTP status and the API's stable code and message."""

    def __init__(self, status, code, message):
        super().__init__(f"overlayd refused the request: {message} ({code or 'no code'}, HTTP {status})")
        self.status = status
        self.code = code
        self.message = message


def _unreachable(socket_path, error):
    if isinstance(error, FileNotFoundError):
        return DaemonUnreachable(f"overlayd is not running (no socket at {socket_path})")
    if isinstance(error, ConnectionRefusedError):
        return DaemonUnreachable(f"overlayd is not running (nothing is listening on {socket_path})")
    if isinstance(error, PermissionError):
        return DaemonUnreachable(f"permission denied on {socket_path}; run as root or as a member of the socket's group")
    if isinstance(error, socket.timeout):
        return DaemonUnreachable(f"overlayd did not answer on {socket_path} in time")
    return DaemonUnreachable(f"cannot talk to overlayd on {socket_path} ({error})")


class OverlayClient:
    """Blocking calls to overlayd's local API, one connection per request."""

    def __init__(self, socket_path=None, timeout=5.0):
        self.socket_path = resolve_socket(socket_path)
        self.timeout = timeout

    def request(self, method, path):
        """Sends a request without a body; returns (status, body bytes), error statuses included."""
        connection = UnixHTTPConnection(self.socket_path, self.timeout)
        try:
            connection.request(method, path, headers={"Accept": "application/json"})
            response = connection.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException) as error:
            raise _unreachable(self.socket_path, error) from error
        finally:
            connection.close()

    def fetch(self, path, method="GET"):
        """The JSON body of a successful answer, decoded; raises OverlayAPIError otherwise."""
        status, body = self.request(method, path)
        if not 200 <= status < 300:
            raise _api_error(status, body)
        return json.loads(body)

    def status(self):
        """GET /v1/status: who this node is and its member counts."""
        return self.fetch("/v1/status")

    def peers(self, state=None, name=None):
        """GET /v1/peers: every member, this node first; state is a list of states to keep."""
        return self.fetch(_with_query("/v1/peers", state=",".join(state) if state else None, name=name))["peers"]

    def gateways(self):
        """GET /v1/gateways: every known gateway with the cloud's estimate of it."""
        return self.fetch("/v1/gateways")["gateways"]

    def observations(self, gateway=None, observer=None):
        """GET /v1/observations: the fresh measurements held, filtered by gateway or observer prefix."""
        return self.fetch(_with_query("/v1/observations", gateway=gateway, observer=observer))["observations"]

    def selection(self):
        """GET /v1/selection: the gateway in use, why, and the last round's candidates."""
        return self.fetch("/v1/selection")

    def refresh_selection(self):
        """POST /v1/selection/refresh: start a round now (root or overlayd's user only)."""
        return self.fetch("/v1/selection/refresh", method="POST")

    def events(self):
        """GET /v1/events: yields each event (a dict) as it happens, until overlayd ends the stream.

        Blocks between events for as long as it takes. Stops quietly when overlayd closes the
        stream (it stopped or restarted); reconnecting is the caller's choice.
        """
        connection = UnixHTTPConnection(self.socket_path, self.timeout)
        try:
            try:
                connection.request("GET", "/v1/events", headers={"Accept": "application/x-ndjson"})
                response = connection.getresponse()
            except (OSError, http.client.HTTPException) as error:
                raise _unreachable(self.socket_path, error) from error
            if response.status != 200:
                raise _api_error(response.status, response.read())
            connection.sock.settimeout(None)  # events may be hours apart
            while True:
                try:
                    line = response.readline()
                except (OSError, http.client.HTTPException):
                    return  # the connection ended without the final chunk: overlayd went away
                if not line:
                    return
                line = line.strip()
                if line:
                    yield json.loads(line)
        finally:
            connection.close()


def _with_query(path, **parameters):
    query = {key: value for key, value in parameters.items() if value is not None}
    return path + ("?" + urllib.parse.urlencode(query, safe=",*") if query else "")


def _api_error(status, body):
    try:
        error = json.loads(body)["error"]
        return OverlayAPIError(status, error.get("code"), error.get("message", ""))
    except (ValueError, KeyError, TypeError):
        text = body.decode("utf-8", "replace").strip().splitlines()
        return OverlayAPIError(status, None, text[0] if text else "no error body")


# --- the command ---------------------------------------------------------------------------

def _safe(text):
    """Text as a terminal may show it: other members choose names, so control characters go."""
    return "".join(c if c.isprintable() else "?" for c in str(text))


def _ms(value):
    return "—" if value is None else (f"{value:.1f}ms" if value < 100 else f"{value:.0f}ms")


def _table(rows):
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(widths[i]) if i < len(row) - 1 else cell
                               for i, cell in enumerate(row)) for row in rows)


def _print_status(status):
    node, members = status["node"], status["members"]
    print(f"node     {_safe(node['name'])} ({node['id'][:12]})")
    print(f"endpoint {_safe(node['endpoint'])}")
    print(f"daemon   overlayd {_safe(status['version'])}, up {status['uptime_seconds']:.0f}s")
    print(f"members  {members['total']}: {members['alive']} alive, {members['suspect']} suspect, "
          f"{members['failed']} failed, {members['left']} left")


def _print_peers(peers):
    rows = [["NAME", "ID", "ADDRESS", "STATE", "INC"]]
    rows += [[_safe(p["name"]), p["id"][:12], _safe(p["address"]), _safe(p["state"]), str(p["incarnation"])]
             for p in peers]
    print(_table(rows))


def _print_gateways(gateways):
    rows = [["GATEWAY", "PROXY", "HOPS", "ESTIMATE", "OBSERVERS", "LOAD", "STATUS"]]
    for g in gateways:
        status = "current" if g["is_current"] else ("eligible" if g["eligible"] else
                                                     "excluded: " + _safe(g.get("excluded_reason") or "not eligible"))
        capacity = "—" if g.get("capacity") is None else str(g["capacity"])
        rows.append([_safe(g["id"]), _safe(g["proxy"]), "—" if g.get("hops") is None else str(g["hops"]),
                     _ms(g.get("estimate_ms")), str(g.get("observers", 0)), f"{g.get('clients', 0)}/{capacity}",
                     status])
    print(_table(rows))


def _print_selection(selection):
    print(f"gateway   {_safe(selection.get('current') or 'none')}")
    print(f"why       {_safe(selection.get('explanation') or '—')}")
    print(f"strategy  {_safe(selection['strategy'])}, round {selection.get('round', 0)}")
    print(f"cost      {selection.get('probes_sent', 0)} probes sent, "
          f"{selection.get('shared_estimates_used', 0)} shared estimates used")
    candidates = selection.get("candidates") or []
    if candidates:
        rows = [["CANDIDATE", "BASIS", "LATENCY", "OBSERVERS", "NOTE"]]
        for c in candidates:
            notes = [n for n, on in (("chosen", c.get("chosen")), ("previous", c.get("is_previous")),
                                     ("unusable", not c.get("usable"))) if on]
            rows.append([_safe(c["gateway"]), _safe(c["basis"]), _ms(c.get("content_latency_ms")),
                         str(c.get("observers", 0)), ", ".join(notes) or "—"])
        print()
        print(_table(rows))


def _print_observations(observations):
    rows = [["OBSERVER", "GATEWAY", "RESULT", "LATENCY", "AGE"]]
    rows += [[_safe(o.get("observer_name") or o["observer"][:12]), _safe(o["gateway"]),
              "ok" if o["ok"] else _safe(o.get("failure") or "failed"), _ms(o.get("content_latency_ms")),
              f"{o['age_seconds']:.0f}s"] for o in observations]
    print(_table(rows))


def _describe_event(event):
    kind = event.get("type")
    if kind == "member" and event.get("member"):
        m = event["member"]
        return f"member {_safe(m['name'])} ({m['id'][:12]}): {m.get('from') or 'new'} -> {m.get('to') or 'removed'}"
    if kind == "selection" and event.get("selection"):
        s = event["selection"]
        return f"selection {_safe(s.get('from') or 'none')} -> {_safe(s.get('to') or 'none')} ({_safe(s['reason'])})"
    if kind == "view" and event.get("view"):
        return f"view epoch {event['view']['epoch']}, {len(event['view']['members'])} members"
    if kind == "quorum" and event.get("quorum"):
        q = event["quorum"]
        return f"quorum {'regained' if q['has_quorum'] else 'lost'}: {q['reachable']} of {q['view_size']} reachable"
    return f"{_safe(kind)} (unknown event type)"


def main(argv=None):
    parser = argparse.ArgumentParser(description="Query overlayd's local API over its Unix socket.")
    parser.add_argument("--socket", help=f"the API socket (default: ${SOCKET_ENVIRONMENT}, else {DEFAULT_SOCKET})")
    parser.add_argument("--json", action="store_true", help="print the API's JSON")
    parser.add_argument("command", choices=["status", "peers", "gateways", "selection", "observations", "refresh",
                                            "events"])
    parser.add_argument("--gateway", help="observations: only this gateway")
    arguments = parser.parse_args(argv)
    client = OverlayClient(arguments.socket)
    try:
        if arguments.command == "events":
            for event in client.events():
                print(json.dumps(event, sort_keys=True) if arguments.json else _describe_event(event), flush=True)
            print("overlayd closed the event stream (it stopped or is restarting)", file=sys.stderr)
            return 1
        if arguments.json:
            method, path = {
                "status": ("GET", "/v1/status"),
                "peers": ("GET", "/v1/peers"),
                "gateways": ("GET", "/v1/gateways"),
                "selection": ("GET", "/v1/selection"),
                "observations": ("GET", _with_query("/v1/observations", gateway=arguments.gateway)),
                "refresh": ("POST", "/v1/selection/refresh"),
            }[arguments.command]
            print(json.dumps(client.fetch(path, method=method), indent=2, sort_keys=True))
            return 0
        calls = {
            "status": (client.status, _print_status),
            "peers": (client.peers, _print_peers),
            "gateways": (client.gateways, _print_gateways),
            "selection": (client.selection, _print_selection),
            "observations": (lambda: client.observations(gateway=arguments.gateway), _print_observations),
            "refresh": (client.refresh_selection, lambda r: print(_safe(r["message"]))),
        }
        call, show = calls[arguments.command]
        show(call())
        return 0
    except DaemonUnreachable as error:
        print(error, file=sys.stderr)
        return 1
    except OverlayAPIError as error:
        print(error, file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
