#!/usr/bin/env python3
"""A userspace stand-in for netem's delay, for kernels without it: a TCP relay that holds every chunk it reads
for a fixed one-way delay before forwarding it, in each direction.

    delay-relay.py LISTEN_PORT TARGET_HOST:TARGET_PORT ONE_WAY_MS

Prints "relay listening on 127.0.0.1:PORT" once it accepts connections. Each accepted connection gets its own
upstream connection. What it models, and what it does not:
- Latency: a byte read at time t is written on at t + delay, in both directions, so a request/answer exchange
  costs one round trip (2 x delay) more than without the relay.
- Connection set-up: the client's connect returns at once (the relay is local), so its first bytes are held one
  full round trip more (delivered at connect + 3 x delay), as if it had waited for the SYN-ACK first.
- No bandwidth cap: reading never waits for the delayed writes (buffering is unbounded), so the relay adds
  latency, not a limit on throughput. It is a split connection, though: each side's TCP sees a loopback round
  trip, so TCP's own window and slow start over a long path are NOT reproduced (netem's delay does that).
"""
import asyncio
import collections
import sys
import time

READ_SIZE = 1 << 20


async def pump(reader, writer, delay, not_before):
    """Reads as fast as the sender sends; a second task writes each chunk once its time has come."""
    queue = collections.deque()
    ready = asyncio.Event()
    done = False

    async def deliver():
        while True:
            while not queue:
                if done:
                    return
                ready.clear()
                await ready.wait()
            due, chunk = queue.popleft()
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if chunk is None:
                break
            writer.write(chunk)
            await writer.drain()
        try:
            if writer.can_write_eof():
                writer.write_eof()
        except OSError:
            pass

    delivering = asyncio.ensure_future(deliver())
    try:
        while True:
            chunk = await reader.read(READ_SIZE)
            queue.append((max(time.monotonic() + delay, not_before), chunk or None))
            ready.set()
            if not chunk:
                break
    except (ConnectionError, OSError):
        queue.append((time.monotonic() + delay, None))
        ready.set()
    done = True
    ready.set()
    try:
        await delivering
    except (ConnectionError, OSError):
        pass


async def serve(listen_port, target_host, target_port, delay):
    async def accepted(client_reader, client_writer):
        connected = time.monotonic()
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(target_host, target_port)
        except OSError:
            client_writer.close()
            return
        # The client's first bytes leave after the round trip its TCP handshake would have taken.
        await asyncio.gather(
            pump(client_reader, upstream_writer, delay, connected + 3 * delay),
            pump(upstream_reader, client_writer, delay, 0.0),
            return_exceptions=True)
        for writer in (client_writer, upstream_writer):
            writer.close()

    server = await asyncio.start_server(accepted, "127.0.0.1", listen_port, limit=READ_SIZE)
    port = server.sockets[0].getsockname()[1]
    print(f"relay listening on 127.0.0.1:{port}", flush=True)
    async with server:
        await server.serve_forever()


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: delay-relay.py LISTEN_PORT TARGET_HOST:TARGET_PORT ONE_WAY_MS")
    host, _, port = sys.argv[2].rpartition(":")
    try:
        listen_port, target_port, one_way = int(sys.argv[1]), int(port), float(sys.argv[3])
    except ValueError:
        sys.exit(f"delay-relay.py: ports are integers and the delay is milliseconds; got {sys.argv[1:]}")
    if not host or not 0 <= one_way <= 10_000:
        sys.exit("delay-relay.py: the target is HOST:PORT and the delay 0-10000 ms")
    asyncio.run(serve(listen_port, host, target_port, one_way / 1000))


if __name__ == "__main__":
    main()
