"""Interop client: sseclient-py on requests. Prints one JSON line per event sseclient-py hands
over; reconnects with Last-Event-ID by itself, because sseclient-py does not.

INTEROP_URL=http://127.0.0.1:8787/sse?topic=a ../../../../examples/python/.venv/bin/python client.py
"""

import json
import os
import sys
import threading
import time

import requests
import sseclient


def emit(**fields: str) -> None:
    print(json.dumps(fields, ensure_ascii=False), flush=True)


def main() -> None:
    url = os.environ["INTEROP_URL"]
    # Exit when stdin closes (the harness is done), whatever the stream is doing.
    threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
    last_id, retry_ms, delay_ms = "", 1000, 1000
    while True:
        headers = {"Last-Event-ID": last_id} if last_id else {}
        try:
            # stream=True, or requests reads the whole (endless) body first; chunk_size=None
            # hands over each chunk as it arrives instead of waiting for 128 bytes.
            with requests.get(url, headers=headers, stream=True, timeout=(10, 60)) as response:
                response.raise_for_status()
                delay_ms = retry_ms
                for event in sseclient.SSEClient(response.iter_content(chunk_size=None)).events():
                    if event.id is not None:
                        last_id = event.id
                    if event.retry and event.retry.isdigit():
                        retry_ms = delay_ms = int(event.retry)
                    emit(type=event.event, id=event.id or "", data=event.data)
            print("the stream ended: reconnecting", file=sys.stderr)
        except requests.RequestException as err:
            emit(error=f"{type(err).__name__}: {err}")
        time.sleep(delay_ms / 1000)
        delay_ms = min(delay_ms * 2, 30_000)


if __name__ == "__main__":
    main()
