"""Interop client: httpx-sse on httpx. Prints one JSON line per event httpx-sse hands over;
reconnects with Last-Event-ID by itself, because httpx-sse does not.

INTEROP_URL=http://127.0.0.1:8787/sse?topic=a ../../../../examples/python/.venv/bin/python client.py
"""

import json
import os
import sys
import threading
import time

import httpx
from httpx_sse import SSEError, connect_sse


def emit(**fields: str) -> None:
    print(json.dumps(fields, ensure_ascii=False), flush=True)


def main() -> None:
    url = os.environ["INTEROP_URL"]
    # Exit when stdin closes (the harness is done), whatever the stream is doing.
    threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
    last_id, retry_ms, delay_ms = "", 1000, 1000
    # No read timeout of httpx's default 5 s: the gateway's heartbeat comes every 15 s.
    with httpx.Client(timeout=httpx.Timeout(10, read=60)) as client:
        while True:
            headers = {"Last-Event-ID": last_id} if last_id else {}
            try:
                with connect_sse(client, "GET", url, headers=headers) as source:
                    source.response.raise_for_status()
                    delay_ms = retry_ms
                    for sse in source.iter_sse():
                        if sse.id:  # the decoder's last id: "" until this stream sends one
                            last_id = sse.id
                        if sse.retry is not None:
                            retry_ms = delay_ms = sse.retry
                        emit(type=sse.event, id=sse.id, data=sse.data)
                print("the stream ended: reconnecting", file=sys.stderr)
            except (httpx.HTTPError, SSEError) as err:  # SSEError: not text/event-stream
                emit(error=f"{type(err).__name__}: {err}")
            time.sleep(delay_ms / 1000)
            delay_ms = min(delay_ms * 2, 30_000)


if __name__ == "__main__":
    main()
