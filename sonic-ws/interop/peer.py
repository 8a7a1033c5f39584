"""Python `websockets` side of the sonic-ws interop tests (see interop/run.sh, peer.rs).

usage: python peer.py server PORT [--deflate]  |  python peer.py client URL [--deflate]

The server echoes and understands the `!` commands described in peer.rs; the client runs the
same check list as peer.rs's client and prints PASS/FAIL lines."""
import asyncio
import sys

from websockets.asyncio.client import connect
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

SIZES = [0, 1, 125, 126, 1000, 65535, 65536, 70000, 200_000, 1 << 20]
UNIT = "Tsonic ✓ héllo wörld — 速い 🦀 "


def pattern(n):
    return bytes((i * 31 + 7) & 0xFF for i in range(n))


def text(n):
    """At most n UTF-8 bytes of mixed 1- to 4-byte characters, starting with 'T'."""
    out, size = [], 0
    while True:
        for c in UNIT:
            b = len(c.encode())
            if size + b > n:
                return "".join(out)
            out.append(c)
            size += b


def binary(n):
    """Half compressible pattern, half noise."""
    head = pattern(n // 2)
    x, tail = 0x2545F4914F6CDD1D ^ n, bytearray()
    mask = (1 << 64) - 1
    while len(head) + len(tail) < n:
        x ^= (x << 13) & mask
        x ^= x >> 7
        x ^= (x << 17) & mask
        tail.append(x & 0xFF)
    return head + bytes(tail)


# ----------------------------------------------------------------------------------- server
last_close = ["none"]


async def handler(ws):
    try:
        async for msg in ws:
            if isinstance(msg, str) and msg.startswith("!"):
                w = msg.split(" ")
                if w[0] == "!ext":
                    ext = ws.response.headers.get("Sec-WebSocket-Extensions") or ""
                    await ws.send("deflate" if "permessage-deflate" in ext else "none")
                elif w[0] == "!frag":
                    n, data = max(1, int(w[1])), pattern(int(w[2]))
                    step = max(1, -(-len(data) // n))
                    await ws.send([data[i:i + step] for i in range(0, len(data), step)])
                elif w[0] == "!ping":
                    await (await ws.ping(b"srv-ping"))
                    await ws.send("pong-ok")
                elif w[0] == "!last-close":
                    await ws.send(last_close[0])
                elif w[0] == "!close":
                    await ws.close(4001, "server bye")
                else:
                    await ws.send(msg)
            else:
                await ws.send(msg)
    except ConnectionClosed:
        pass
    rcvd = ws.protocol.close_rcvd
    if rcvd is not None:
        last_close[0] = f"{rcvd.code} {rcvd.reason}"


async def server(port, deflate):
    async with serve(handler, "127.0.0.1", port, max_size=None,
                     compression="deflate" if deflate else None):
        print("python websockets interop server on", port, flush=True)
        await asyncio.get_running_loop().create_future()


# ----------------------------------------------------------------------------------- client
failed = 0


def check(name, err):
    global failed
    if err is None:
        print(f"PASS {name}", flush=True)
    else:
        failed += 1
        print(f"FAIL {name}: {err}", flush=True)


def same(got, want):
    if type(got) is type(want) and got == want:
        return None
    return f"got {type(got).__name__} of {len(got)} (want {type(want).__name__} of {len(want)})"


async def step(name, coro):
    try:
        check(name, await asyncio.wait_for(coro, 30))
    except Exception as e:  # noqa: BLE001 - any failure is a test failure
        check(name, f"{type(e).__name__}: {e}")


async def client(url, deflate):
    comp = "deflate" if deflate else None
    want = "deflate" if deflate else "none"
    ws = await connect(url, max_size=None, compression=comp)
    ext = ws.response.headers.get("Sec-WebSocket-Extensions") or ""
    agreed = "permessage-deflate" in ext
    check("handshake, extension agreed (client view)",
          None if agreed == deflate else f"extensions: {ext!r}")

    async def ask(cmd, want_reply):
        await ws.send(cmd)
        return same(await ws.recv(), want_reply)

    await step("extension agreed (server view)", ask("!ext", want))
    for n in SIZES:
        t = text(n)
        await step(f"text echo {n} B", ask(t, t))
        b = binary(n)
        await step(f"binary echo {n} B", ask(b, b))
    # Fragmented sends (websockets fragments str at character boundaries).
    t = text(30_001)
    third = len(t) // 3
    await step("send fragmented text 3 x ~10 KiB",
               ask([t[:third], t[third:2 * third], t[2 * third:]], t))
    for name, n, size in [("7 x ~14 KiB", 7, 100_000), ("64 x 16 KiB", 64, 1 << 20)]:
        b = binary(size)
        s = -(-size // n)
        await step(f"send fragmented binary {name}", ask([b[i:i + s] for i in range(0, size, s)], b))
    await step("receive fragmented binary 5 x 20000 B", ask("!frag 5 100000", pattern(100_000)))

    async def ping():
        await (await ws.ping(b"cli-ping-123"))   # resolves when the matching pong arrives
    await step("client ping -> pong with payload", ping())
    await step("server ping -> our automatic pong", ask("!ping", "pong-ok"))

    async def close():
        await ws.close(4000, "client bye ✓")
        rcvd = ws.protocol.close_rcvd
        return None if rcvd is not None and rcvd.code == 4000 else f"peer's Close: {rcvd}"
    await step("client close 4000 + reason, peer answers", close())

    ws = await connect(url, max_size=None, compression=comp)
    await step("server received close code 4000 + reason", ask("!last-close", "4000 client bye ✓"))

    async def server_close():
        await ws.send("!close")
        try:
            m = await ws.recv()
            return f"got a message instead of Close: {m!r}"
        except ConnectionClosed as e:
            r = e.rcvd
            return None if r is not None and (r.code, r.reason) == (4001, "server bye") else f"{r}"
    await step("server close 4001 + reason received", server_close())


def main():
    mode, arg = sys.argv[1], sys.argv[2]
    deflate = "--deflate" in sys.argv
    if mode == "server":
        asyncio.run(server(int(arg), deflate))
    else:
        try:
            asyncio.run(client(arg, deflate))
        except Exception as e:  # noqa: BLE001
            check("client run", f"{type(e).__name__}: {e}")
        sys.exit(1 if failed else 0)


main()
