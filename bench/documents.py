"""Upload throughput of the local document store, with the SHA-256 and every content check.

Three figures per size, median of a few runs on this machine's disk:

* ``store.put``: ``LocalStorage.put`` alone from a stream of 64 KiB chunks (hash, write, fsync,
  rename, fsync of the directory).
* ``upload``: ``core.documents.service.upload`` whole — stream into the spool (hash, size limit),
  detect the type, store, insert the row and its audit entry on SQLite, commit.
* ``read_bytes``: download whole and check the SHA-256.

Run: ``.venv/bin/python bench/documents.py [--mb 20] [--runs 5]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.access import Actor
from core.documents import LocalStorage, UploadLimits
from core.documents import service as documents
from core.models import metadata
from hub.database import make_engine, make_session_factory


async def chunks(data: bytes, size: int = 64 * 1024):
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def main(mb: int, runs: int) -> None:
    data = b"%PDF-1.7\n" + os.urandom(mb * 1024 * 1024 - 9)
    actor = Actor.operator("bench")
    with tempfile.TemporaryDirectory() as tmp:
        store = LocalStorage(Path(tmp) / "documents")
        engine = make_engine(f"sqlite+aiosqlite:///{tmp}/bench.db")
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
        sessions = make_session_factory(engine)
        put, upload, read = [], [], []
        for run in range(runs):
            started = time.perf_counter()
            await store.put(f"bench/{run}", chunks(data))
            put.append(time.perf_counter() - started)

            body = data[:-8] + run.to_bytes(8, "big")  # new bytes each run: no dedupe shortcut
            started = time.perf_counter()
            async with sessions() as session, session.begin():
                result = await documents.upload(
                    session,
                    actor,
                    store,
                    owner_kind="customer",
                    owner_record_id="bench",
                    owner_id=None,
                    branch_id=None,
                    doc_type="other",
                    filename="bench.pdf",
                    declared_type="application/pdf",
                    stream=chunks(body),
                    limits=UploadLimits(max_bytes=(mb + 1) * 1024 * 1024),
                )
            upload.append(time.perf_counter() - started)

            started = time.perf_counter()
            async with sessions() as session, session.begin():
                await documents.read_bytes(session, actor, store, result.document.id)
            read.append(time.perf_counter() - started)
        await engine.dispose()
    for name, times in (("store.put", put), ("upload", upload), ("read_bytes", read)):
        median = statistics.median(times)
        print(
            f"{name:<11} {mb} MiB: median {median * 1000:7.1f} ms  {mb / median:7.1f} MiB/s  (runs: {runs})"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.mb, args.runs))
