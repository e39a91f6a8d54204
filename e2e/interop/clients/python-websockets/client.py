"""Interop client: the websockets package (threading API). Prints each text frame as received;
reconnects by itself with ?lastEventId=<cursor of the last frame>, because websockets' own
reconnect() cannot change the URL between attempts.

INTEROP_URL=ws://127.0.0.1:8787/ws?topic=a ../../../../examples/python/.venv/bin/python client.py
"""

import json
import os
import sys
import threading
import time
from urllib.parse import quote

from websockets.exceptions import WebSocketException
from websockets.sync.client import connect


def emit(**fields: str) -> None:
    print(json.dumps(fields, ensure_ascii=False), flush=True)


def main() -> None:
    url = os.environ["INTEROP_URL"]
    # Exit when stdin closes (the harness is done), whatever the socket is doing.
    threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
    cursor, delay = "", 1.0
    while True:
        resume = f"{'&' if '?' in url else '?'}lastEventId={quote(cursor, safe='')}"
        try:
            # max_size: the largest message accepted. websockets' default, 1 MiB, is below the
            # JSON frame of a 1 MiB body (the gateway's MAX_BODY_BYTES): 2 MiB holds it.
            with connect(url + resume if cursor else url, max_size=2**21) as ws:
                delay = 1.0
                for frame in ws:  # ends at a normal close; another close code raises
                    text = frame if isinstance(frame, str) else frame.decode("utf-8", "replace")
                    emit(frame=text)
                    try:
                        cursor = json.loads(text).get("cursor") or cursor
                    except (ValueError, AttributeError):
                        pass
            print(f"closed: {ws.close_code} {ws.close_reason}: reconnecting", file=sys.stderr)
        except (OSError, WebSocketException) as err:
            emit(error=f"{type(err).__name__}: {err}")
        time.sleep(delay)
        delay = min(delay * 2, 30.0)


if __name__ == "__main__":
    main()
