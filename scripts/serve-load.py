#!/usr/bin/env python3
"""Load and soak measurements for `charnn serve`, with Python's standard library only.

  scripts/serve-load.py load --url http://127.0.0.1:8080 --pid PID [--streams 1,8,32,128] [--length 400]
      For each concurrency C, C clients each stream one generation of LENGTH symbols, all
      started together (after one warm-up round). Reports total symbols/s, the p50 and p99 time
      between consecutive symbols of one stream (over all streams), the p50 and p99 time to the
      first symbol, and the server's peak RSS (from /proc/PID/status).

  scripts/serve-load.py soak --url http://127.0.0.1:8080 --pid PID [--clients 64] [--minutes 3]
      CLIENTS clients generate back to back for MINUTES; about a third of the requests disconnect
      after a random number of symbols. Every other request must end with its done event and its
      full length. RSS is sampled every 10 s. Exit status 1 if any request failed or the server
      stopped answering.

Times are what a client sees on loopback, so they include HTTP, the event framing and Python's
own cost. The machine and what else runs on it matter: report the CPU with the numbers.
"""
import argparse, asyncio, json, random, statistics, sys, time, urllib.parse


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def stream(base, body, disconnect_after=None):
    """One POST /v1/generate; returns (request start, [arrival time of each symbol], done reason)."""
    url = urllib.parse.urlparse(base)
    reader, writer = await asyncio.open_connection(url.hostname, url.port or 80)
    payload = json.dumps(body).encode()
    start = time.perf_counter()
    writer.write(b"POST /v1/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(payload) + payload)
    await writer.drain()
    status = (await reader.readline()).split()
    if len(status) < 2 or status[1] != b"200":
        rest = await reader.read()
        writer.close()
        raise RuntimeError(f"status {status}: {rest[-300:]!r}")
    while (await reader.readline()) not in (b"\r\n", b""):
        pass
    arrivals, reason, pending = [], None, b""
    try:
        while True:
            size_line = await reader.readline()
            if not size_line:
                break
            size = int(size_line.strip() or b"0", 16)
            if size == 0:
                break
            chunk = await reader.readexactly(size + 2)
            now = time.perf_counter()
            pending += chunk[:-2]
            while b"\n\n" in pending:
                event, pending = pending.split(b"\n\n", 1)
                if event.startswith(b"event: symbol"):
                    arrivals.append(now)
                elif event.startswith(b"event: done"):
                    reason = json.loads(event.split(b"data: ", 1)[1])["reason"]
            if disconnect_after is not None and len(arrivals) >= disconnect_after:
                return start, arrivals, "disconnected"
    finally:
        writer.close()
    return start, arrivals, reason


def percentile(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


async def load(args):
    print(f"| streams | symbols/s (total) | × one stream | per-symbol p50 | per-symbol p99 | first symbol p50 | first symbol p99 | peak RSS |")
    print(f"|---:|---:|---:|---:|---:|---:|---:|---:|")
    single = None
    for count in [int(c) for c in args.streams.split(",")]:
        # One warm-up round, then the measured one.
        for measured in (False, True):
            peak = rss_mib(args.pid)
            async def sample_rss():
                nonlocal peak
                while True:
                    peak = max(peak, rss_mib(args.pid))
                    await asyncio.sleep(0.05)
            sampler = asyncio.create_task(sample_rss())
            began = time.perf_counter()
            results = await asyncio.gather(*[stream(args.url, {"length": args.length, "seed": seed, "temperature": 0.8})
                                             for seed in range(count)])
            wall = time.perf_counter() - began
            sampler.cancel()
        gaps, firsts, total = [], [], 0
        for start, arrivals, reason in results:
            if reason != "length" or len(arrivals) != args.length:
                sys.exit(f"a stream ended with {reason} after {len(arrivals)} symbols")
            total += len(arrivals)
            firsts.append(arrivals[0] - start)
            gaps += [b - a for a, b in zip(arrivals, arrivals[1:])]
        rate = total / wall
        single = single or rate
        ms = lambda s: f"{s * 1000:.2f} ms"
        print(f"| {count} | {rate:,.0f} | {rate / single:.1f} | {ms(percentile(gaps, 50))} | {ms(percentile(gaps, 99))} | "
              f"{ms(percentile(firsts, 50))} | {ms(percentile(firsts, 99))} | {peak:.0f} MiB |", flush=True)


async def soak(args):
    deadline = time.time() + args.minutes * 60
    counts = {"completed": 0, "disconnected": 0, "failed": 0}
    failures = []
    samples = [(0, rss_mib(args.pid))]
    began = time.time()

    async def client(index):
        rng = random.Random(index)
        while time.time() < deadline:
            length = rng.randint(50, 600)
            cut = rng.randint(1, length - 1) if rng.random() < 0.33 else None
            try:
                _, arrivals, reason = await stream(args.url, {"length": length, "seed": rng.getrandbits(32),
                                                              "temperature": rng.uniform(0.5, 1.2)}, cut)
                if reason == "disconnected":
                    counts["disconnected"] += 1
                elif reason == "length" and len(arrivals) == length:
                    counts["completed"] += 1
                else:
                    counts["failed"] += 1
                    failures.append(f"ended with {reason} after {len(arrivals)} of {length}")
            except Exception as error:  # a refused or broken request is a failure to report
                counts["failed"] += 1
                failures.append(repr(error))

    async def monitor():
        while time.time() < deadline:
            await asyncio.sleep(10)
            samples.append((round(time.time() - began), rss_mib(args.pid)))
            print(f"  {samples[-1][0]:4d} s  RSS {samples[-1][1]:.0f} MiB  {counts}", flush=True)

    await asyncio.gather(monitor(), *[client(i) for i in range(args.clients)])
    await asyncio.sleep(1)
    samples.append((round(time.time() - began), rss_mib(args.pid)))
    print(f"soak: {args.clients} clients, {args.minutes} min: {counts}")
    print(f"soak: RSS {samples[0][1]:.0f} MiB at start, {samples[1][1]:.0f} MiB after 10 s, "
          f"{max(s[1] for s in samples):.0f} MiB peak, {samples[-1][1]:.0f} MiB at the end")
    for failure in failures[:10]:
        print(f"  failure: {failure}")
    if counts["failed"]:
        sys.exit(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    for mode in ("load", "soak"):
        p = sub.add_parser(mode)
        p.add_argument("--url", default="http://127.0.0.1:8080")
        p.add_argument("--pid", type=int, required=True, help="the server's process id, for its RSS")
    sub.choices["load"].add_argument("--streams", default="1,8,32,128")
    sub.choices["load"].add_argument("--length", type=int, default=400)
    sub.choices["soak"].add_argument("--clients", type=int, default=64)
    sub.choices["soak"].add_argument("--minutes", type=float, default=3)
    args = parser.parse_args()
    asyncio.run(load(args) if args.mode == "load" else soak(args))


if __name__ == "__main__":
    main()
