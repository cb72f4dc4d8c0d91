"""Blob store throughput: MB/s of put and get, folder backend and JetStream Object Store.

    .venv/bin/python perf/blob_bench.py [--sizes 1,20] [--count 10] [--store nats://HOST:PORT]

Without `--store` a throwaway stock nats-server (no config file, 1 MB max_payload) is
started on a free loopback port. Each size is put `--count` times with distinct bytes
(so idempotence never skips a write), then got back; `get` checks every blob's sha256.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent / "tests"
sys.path[:0] = [str(TESTS)]
from nats_server import NatsServer  # noqa: E402

from store.blobs import BlobStore, FolderBlobStore, JetStreamBlobStore  # noqa: E402


async def bench(name: str, store: BlobStore, size_mb: float, count: int) -> None:
    size = int(size_mb * 1024 * 1024)
    blobs = [os.urandom(32) * (size // 32) for _ in range(count)]
    start = time.perf_counter()
    refs = [await store.put(b) for b in blobs]
    put_s = time.perf_counter() - start
    start = time.perf_counter()
    for ref in refs:
        await store.get(ref.sha256)
    get_s = time.perf_counter() - start
    total = size * count / 1024 / 1024
    print(f"{name:<10} {size_mb:>6g} MB x {count:<3} put {total / put_s:8.1f} MB/s   "
          f"get {total / get_s:8.1f} MB/s")


async def main(args: argparse.Namespace) -> None:
    sizes = [float(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="blob-bench-") as tmp:
        folder = FolderBlobStore(Path(tmp) / "blobs")
        for size in sizes:
            await bench("folder", folder, size, args.count)
        server = None
        url = args.store
        if url is None:
            server = NatsServer(Path(tmp) / "nats", config=None).start()
            url = server.url
        try:
            nats_store = await JetStreamBlobStore.connect(url)
            try:
                for size in sizes:
                    await bench("jetstream", nats_store, size, args.count)
            finally:
                await nats_store.close()
        finally:
            if server is not None:
                server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,20", help="blob sizes in MB, comma-separated")
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--store", help="nats://HOST:PORT (default: a throwaway stock server)")
    asyncio.run(main(parser.parse_args()))
