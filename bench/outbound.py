"""Overhead of the resilient outbound road versus a bare httpx client.

Runs N calls at concurrency C against a local HTTP/1.1 responder (a raw asyncio server in its own
process, so it is not what we measure), once through ``HttpConnector.request`` (memory recorder,
breaker, rate and concurrency limits all on) and once through a bare ``httpx.AsyncClient``. The two
alternate over several rounds, order flipped each round, so drift in a shared machine hits both.

    .venv/bin/python bench/outbound.py --calls 10000 --concurrency 100
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from multiprocessing.connection import Connection
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from plugins.sdk import (
    Capability,
    ConnectorInfo,
    HttpConnector,
    HttpConnectorConfig,
    MemoryCallRecorder,
    SecretStr,
    SharedState,
)

BODY = b'{"code":0,"data":{"subject":"S-1001","score":712,"phone":"13812345678"}}'
RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
    + str(len(BODY)).encode()
    + b"\r\nConnection: keep-alive\r\n\r\n"
    + BODY
)


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            writer.write(RESPONSE)
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


def _serve(conn: Connection) -> None:
    async def main() -> None:
        server = await asyncio.start_server(_handle, "127.0.0.1", 0, backlog=1024)
        conn.send(server.sockets[0].getsockname()[1])
        async with server:
            await server.serve_forever()

    asyncio.run(main())


class BenchConfig(HttpConnectorConfig):
    api_key: SecretStr


class BenchConnector(HttpConnector):
    info = ConnectorInfo(
        slug="bench-bureau",
        name="Bench bureau",
        capability=Capability.CREDIT_BUREAU,
        vendor="Bench",
        vendor_api_version="1",
        hosts=("127.0.0.1",),
    )
    Config = BenchConfig


async def _run(
    call: Callable[[], Awaitable[object]], calls: int, concurrency: int
) -> tuple[float, list[float]]:
    latencies: list[float] = []
    remaining = calls

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            start = time.perf_counter()
            await call()
            latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - start, latencies


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def bench(calls: int, concurrency: int, rounds: int, port: int) -> None:
    base = f"http://127.0.0.1:{port}"
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    timeout = httpx.Timeout(5.0)
    async with (
        httpx.AsyncClient(limits=limits, timeout=timeout) as bare,
        httpx.AsyncClient(limits=limits, timeout=timeout) as shared,
    ):
        recorder = MemoryCallRecorder(limit=None)
        config = BenchConfig(
            base_url=base,
            api_key=SecretStr("sk_bench_0123456789abcdef"),
            rate_limit_per_second=1_000_000,
            max_concurrency=concurrency,
            breaker_failure_threshold=5,
            cost_per_call=Decimal("0.10"),
        )
        connector = BenchConnector(
            config, instance="bench", http=shared, state=SharedState.memory(), recorder=recorder
        )

        async def via_sdk() -> object:
            return await connector.request(
                "GET",
                "/v1/score",
                operation="score",
                params={"subject": "S-1001"},
                headers={"X-Api-Key": "k"},
            )

        async def via_bare() -> object:
            response = await bare.get(
                f"{base}/v1/score", params={"subject": "S-1001"}, headers={"X-Api-Key": "k"}
            )
            response.raise_for_status()
            return response

        # Warm both pools and code paths before measuring.
        await _run(via_sdk, concurrency * 2, concurrency)
        await _run(via_bare, concurrency * 2, concurrency)
        recorder.records.clear()

        per_round = max(1, calls // rounds)
        results: dict[str, tuple[float, list[float]]] = {"sdk": (0.0, []), "bare": (0.0, [])}
        for index in range(rounds):
            order = [("sdk", via_sdk), ("bare", via_bare)]
            if index % 2:
                order.reverse()
            for name, call in order:
                wall, lat = await _run(call, per_round, concurrency)
                total, all_lat = results[name]
                results[name] = (total + wall, all_lat + lat)

    print(f"calls={per_round * rounds} concurrency={concurrency} rounds={rounds}")
    for name, (wall, lat) in results.items():
        print(
            f"{name:5s} wall={wall:7.3f}s  calls/s={len(lat) / wall:8.0f}  "
            f"p50={_pct(lat, 0.50):6.2f}ms  p99={_pct(lat, 0.99):6.2f}ms"
        )
    ratio = results["sdk"][0] / results["bare"][0]
    print(f"ratio sdk/bare wall = {ratio:.3f}  (target <= 1.25)")
    print(f"call-log rows recorded: {len(recorder.records)}")
    print(f"p50 per-call overhead = {_pct(results['sdk'][1], 0.5) - _pct(results['bare'][1], 0.5):.3f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--profile", action="store_true", help="profile the SDK side with cProfile")
    args = parser.parse_args()

    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(target=_serve, args=(child,), daemon=True)
    server.start()
    try:
        port = parent.recv()
        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.enable()
            asyncio.run(bench(args.calls, args.concurrency, args.rounds, port))
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
        else:
            asyncio.run(bench(args.calls, args.concurrency, args.rounds, port))
    finally:
        server.terminate()
        server.join()


if __name__ == "__main__":
    main()
