#!/usr/bin/env python3
"""Keeps a PAC file and a proxy environment file pointing at the gateway overlayd selected.

overlayd picks this node's Internet gateway (an HTTP proxy on the mesh) and announces every
change on its event stream, GET /v1/events (Docs/api.md). This program follows that stream over
the Unix socket and, at start and after every selection event, rewrites atomically (temporary
file, fsync, rename):

  --pac PATH   a proxy auto-config file for browsers:
                   function FindProxyForURL(url, host) { return "PROXY 10.1.2.3:3128; DIRECT"; }
  --env PATH   KEY="VALUE" lines for shells (`set -a; . PATH; set +a`) and systemd's
               EnvironmentFile=: http_proxy, https_proxy, ftp_proxy, their upper-case twins,
               no_proxy and NO_PROXY.

With no usable gateway the PAC file says DIRECT and the proxy variables are empty. A proxy
address that is not a plain host:port (gateway announcements come from other members, so they
are not trusted) is refused and treated as no gateway. When overlayd stops or restarts, the
program reconnects with exponential backoff (1 s doubling up to --max-backoff) and re-reads the
selection, so nothing is missed. Only the standard library is used; Python 3.8 or later.

    proxy_switcher.py --socket /run/overlayd/overlayd.sock \\
        --pac /var/www/html/proxy.pac --env /etc/overlayd/proxy.env [--exec 'systemctl reload squid']

Exit status: 0 after SIGTERM/SIGINT or --once; 1 when --once cannot read the selection; 2 usage.
"""

import argparse
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

DEFAULT_SOCKET = "/run/overlayd/overlayd.sock"
SOCKET_ENVIRONMENT = "OVERLAYD_SOCKET"
DEFAULT_NO_PROXY = "localhost,127.0.0.1,::1"

# host:port where host is a DNS name, an IPv4 literal or a bracketed IPv6 literal. Nothing else
# may reach the PAC file (JavaScript) or the environment file (shell).
PROXY_PATTERN = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}))"
                           r":(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])")


def log(message):
    print(f"proxy-switcher: {message}", file=sys.stderr, flush=True)


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


class DaemonError(Exception):
    """overlayd could not be reached, or answered with an error: worth a retry later."""


def get_json(socket_path, path, timeout=5.0):
    """GET path over the socket; the decoded JSON of a 2xx answer, else DaemonError."""
    connection = UnixHTTPConnection(socket_path, timeout)
    try:
        connection.request("GET", path, headers={"Accept": "application/json"})
        response = connection.getresponse()
        body = response.read()
    except (OSError, http.client.HTTPException) as error:
        raise DaemonError(f"cannot reach overlayd on {socket_path}: {error}") from error
    finally:
        connection.close()
    if not 200 <= response.status < 300:
        raise DaemonError(f"overlayd answered {path} with HTTP {response.status}: {describe_error(body)}")
    try:
        return json.loads(body)
    except ValueError as error:
        raise DaemonError(f"overlayd answered {path} with something that is not JSON") from error


def describe_error(body):
    try:
        error = json.loads(body)["error"]
        return f"{error['message']} ({error['code']})"
    except (ValueError, KeyError, TypeError):
        return body[:200].decode("utf-8", "replace")


def safe_proxy(proxy):
    """The proxy if it is a plain host:port, else None."""
    if isinstance(proxy, str) and PROXY_PATTERN.fullmatch(proxy):
        return proxy
    return None


def pac_text(proxy):
    """The PAC file for a proxy (None: go direct)."""
    target = f"PROXY {proxy}; DIRECT" if proxy else "DIRECT"
    return ("// Written by overlayd's proxy-switcher; rewritten when the gateway changes.\n"
            f'function FindProxyForURL(url, host) {{ return "{target}"; }}\n')


def env_text(proxy, no_proxy):
    """The environment file for a proxy (None: empty proxy variables)."""
    url = f"http://{proxy}/" if proxy else ""
    lines = ["# Written by overlayd's proxy-switcher; rewritten when the gateway changes."]
    for name in ("http_proxy", "https_proxy", "ftp_proxy"):
        lines.append(f'{name}="{url}"')
        lines.append(f'{name.upper()}="{url}"')
    lines.append(f'no_proxy="{no_proxy}"')
    lines.append(f'NO_PROXY="{no_proxy}"')
    return "\n".join(lines) + "\n"


def write_atomically(path, text, mode=0o644):
    """Replaces path with text so that readers see the old file or the new one, never half of one.

    Returns False (and writes nothing) when the file already holds exactly this text.
    """
    try:
        with open(path, encoding="utf-8") as existing:
            if existing.read() == text:
                return False
    except OSError:
        pass
    directory = os.path.dirname(os.path.abspath(path))
    descriptor, temporary = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", dir=directory)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
    try:
        directory_descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(directory_descriptor)
        finally:
            os.close(directory_descriptor)
    except OSError:
        pass  # the rename is done; fsync of the directory is best effort
    return True


class ProxySwitcher:
    """Follows overlayd's selection and keeps the PAC and environment files in step with it."""

    def __init__(self, socket_path, pac_path=None, env_path=None, no_proxy=DEFAULT_NO_PROXY,
                 command=None, max_backoff=30.0, timeout=5.0):
        self.socket_path = socket_path
        self.pac_path = pac_path
        self.env_path = env_path
        self.no_proxy = no_proxy
        self.command = command
        self.max_backoff = max_backoff
        self.timeout = timeout
        self.current = None          # the gateway ID the files describe
        self.proxy = None            # its proxy, as written
        self.writes = 0              # how many times the files changed
        self._stopping = threading.Event()
        self._stream_lock = threading.RLock()  # stop() may run in a signal handler on this thread
        self._stream_socket = None

    # --- what to write --------------------------------------------------------------------

    def proxy_of(self, gateway):
        """The proxy host:port of a gateway ID, from GET /v1/gateways; None if unknown or unsafe."""
        if gateway is None:
            return None
        for entry in get_json(self.socket_path, "/v1/gateways", self.timeout).get("gateways", []):
            if entry.get("id") == gateway:
                proxy = safe_proxy(entry.get("proxy"))
                if proxy is None:
                    log(f"refusing gateway {gateway!r}: its proxy {entry.get('proxy')!r} is not a plain host:port")
                return proxy
        log(f"gateway {gateway!r} is not in /v1/gateways; going direct")
        return None

    def apply(self, gateway):
        """Points the files at a gateway (None: direct); runs --exec when they changed."""
        proxy = self.proxy_of(gateway)
        changed = False
        if self.pac_path:
            changed |= write_atomically(self.pac_path, pac_text(proxy))
        if self.env_path:
            changed |= write_atomically(self.env_path, env_text(proxy, self.no_proxy))
        self.current, self.proxy = gateway, proxy
        if changed:
            self.writes += 1
            log(f"now using {proxy} (gateway {gateway})" if proxy else "no usable gateway: going direct")
            if self.command:
                environment = dict(os.environ, OVERLAY_GATEWAY=gateway or "", OVERLAY_PROXY=proxy or "")
                result = subprocess.run(self.command, shell=True, env=environment, check=False)
                if result.returncode != 0:
                    log(f"--exec command exited with status {result.returncode}")

    def sync(self):
        """Reads the selection now and applies it (at start and after every reconnection)."""
        self.apply(get_json(self.socket_path, "/v1/selection", self.timeout).get("current"))

    # --- following the stream ---------------------------------------------------------------

    def follow_once(self):
        """One connection: subscribe, read the selection, then apply every selection event.

        Subscribing before reading the selection means no change can slip between the two.
        Returns when overlayd ends the stream; raises DaemonError when it cannot be followed.
        """
        connection = UnixHTTPConnection(self.socket_path, self.timeout)
        try:
            try:
                connection.request("GET", "/v1/events", headers={"Accept": "application/x-ndjson"})
                response = connection.getresponse()
            except (OSError, http.client.HTTPException) as error:
                raise DaemonError(f"cannot reach overlayd on {self.socket_path}: {error}") from error
            if response.status != 200:
                raise DaemonError(f"overlayd answered /v1/events with HTTP {response.status}: "
                                  f"{describe_error(response.read())}")
            with self._stream_lock:
                self._stream_socket = connection.sock
            if self._stopping.is_set():
                return
            connection.sock.settimeout(None)  # events may be hours apart
            self.sync()
            while not self._stopping.is_set():
                try:
                    line = response.readline()
                except (OSError, ValueError, http.client.HTTPException):
                    return  # cut off without the final chunk: overlayd went away
                if not line:
                    return
                line = line.strip()
                if not line:
                    continue
                try:
                    event = json.loads(line)
                except ValueError:
                    log("skipping a line of the event stream that is not JSON")
                    continue
                if event.get("type") == "selection" and isinstance(event.get("selection"), dict):
                    self.apply(event["selection"].get("to"))
        finally:
            with self._stream_lock:
                self._stream_socket = None
            connection.close()

    def run(self):
        """Follows overlayd until stop(), reconnecting with exponential backoff."""
        backoff = 1.0
        while not self._stopping.is_set():
            started = time.monotonic()
            try:
                self.follow_once()
                if self._stopping.is_set():
                    break
                log("overlayd closed the event stream; reconnecting")
            except DaemonError as error:
                log(f"{error}; retrying in {backoff:.0f} s")
            if time.monotonic() - started > 60:
                backoff = 1.0  # it ran for a while: start the backoff afresh
            if self._stopping.wait(backoff):
                break
            backoff = min(backoff * 2, self.max_backoff)

    def stop(self):
        """Ends run(): wakes the backoff sleep and cuts the stream. Safe from a signal handler."""
        self._stopping.set()
        with self._stream_lock:
            sock = self._stream_socket
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Keep a PAC file and a proxy environment file pointing at overlayd's selected gateway.")
    parser.add_argument("--socket", default=os.environ.get(SOCKET_ENVIRONMENT) or DEFAULT_SOCKET,
                        help=f"overlayd's API socket (default: ${SOCKET_ENVIRONMENT}, else {DEFAULT_SOCKET})")
    parser.add_argument("--pac", help="the PAC file to write")
    parser.add_argument("--env", help="the environment file to write (KEY=\"VALUE\" lines)")
    parser.add_argument("--no-proxy", default=DEFAULT_NO_PROXY,
                        help=f"the no_proxy value for the environment file (default: {DEFAULT_NO_PROXY})")
    parser.add_argument("--exec", dest="command",
                        help="a shell command to run after the files change "
                             "($OVERLAY_PROXY and $OVERLAY_GATEWAY hold the new choice, empty for direct)")
    parser.add_argument("--max-backoff", type=float, default=30.0,
                        help="longest wait between reconnection attempts, in seconds (default: 30)")
    parser.add_argument("--once", action="store_true", help="write the files for the current selection and exit")
    arguments = parser.parse_args(argv)
    if not arguments.pac and not arguments.env:
        parser.error("give --pac PATH, --env PATH, or both")

    switcher = ProxySwitcher(arguments.socket, arguments.pac, arguments.env, arguments.no_proxy,
                             arguments.command, arguments.max_backoff)
    if arguments.once:
        try:
            switcher.sync()
        except DaemonError as error:
            log(str(error))
            return 1
        return 0
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signal_number, lambda *_: switcher.stop())
    log(f"following {arguments.socket}")
    switcher.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
