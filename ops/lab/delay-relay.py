#!/usr/bin/env python3
"""A TCP relay that adds a fixed delay: the lab's stand-in for a slow gateway uplink.

Listens on --listen, connects every accepted client to --target, and forwards the client's
bytes to the target --delay-ms milliseconds after they arrive (in order); the answers come
back at once. A request-response exchange through it therefore takes --delay-ms longer per
round trip, which is what a congested or distant Internet uplink does to an HTTP fetch
through a proxy. (This kernel has no netem, so delay is added here, in front of each proxy.)

If the target refuses (the proxy is stopped), the client's connection is closed at once,
as a gateway whose proxy died would do.

    ops/lab/delay-relay.py --listen 127.0.0.1:17611 --target 127.0.0.1:17621 --delay-ms 40

Stops on SIGTERM or SIGINT. Standard library only.
"""
import argparse
import asyncio
import signal
import sys


def endpoint(text):
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not host:port")
    return host.strip("[]"), int(port)


async def pump_delayed(reader, writer, delay):
    """Copies reader to writer, each chunk `delay` seconds after it arrived, in order."""
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def read():
        try:
            while True:
                chunk = await reader.read(65536)
                await queue.put((loop.time() + delay, chunk))
                if not chunk:
                    return
        except (ConnectionError, OSError):
            await queue.put((loop.time(), b""))

    reading = asyncio.create_task(read())
    try:
        while True:
            due, chunk = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if not chunk:
                break
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        reading.cancel()
        try:
            if writer.can_write_eof():
                writer.write_eof()
        except (ConnectionError, OSError):
            pass


async def pump(reader, writer):
    try:
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                break
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            writer.close()
        except (ConnectionError, OSError):
            pass


async def serve(args):
    delay = args.delay_ms / 1000.0
    target_host, target_port = args.target

    async def handle(client_reader, client_writer):
        try:
            target_reader, target_writer = await asyncio.open_connection(target_host, target_port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(
            pump_delayed(client_reader, target_writer, delay),
            pump(target_reader, client_writer),
        )
        for writer in (client_writer, target_writer):
            try:
                writer.close()
            except (ConnectionError, OSError):
                pass

    host, port = args.listen
    server = await asyncio.start_server(handle, host, port, reuse_address=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"delay-relay: {host}:{port} -> {target_host}:{target_port}, +{args.delay_ms} ms", flush=True)
    async with server:
        await stop.wait()


def main():
    parser = argparse.ArgumentParser(description="TCP relay that delays client-to-target bytes.")
    parser.add_argument("--listen", type=endpoint, required=True, help="host:port to accept on")
    parser.add_argument("--target", type=endpoint, required=True, help="host:port to forward to")
    parser.add_argument("--delay-ms", type=int, default=0, help="delay added to each client chunk, ms")
    args = parser.parse_args()
    if args.delay_ms < 0:
        print("delay-relay: --delay-ms must be 0 or more", file=sys.stderr)
        return 2
    try:
        asyncio.run(serve(args))
    except OSError as error:
        print(f"delay-relay: cannot listen on {args.listen[0]}:{args.listen[1]}: {error.strerror}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
