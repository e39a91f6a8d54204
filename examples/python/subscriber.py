"""Prints the events of one or more gateway topics, one line each:

    event topic=<topic> id=<id> event=<type or -> data=<data as a JSON string>

Prints "ready" each time a stream is open, and reconnects after a dropped connection, sending
the last id it saw as Last-Event-ID.

    GATEWAY_URL=http://127.0.0.1:8787 TOPIC=orders,alerts python3 subscriber.py
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from sse_client import Comment, SseParser

DEFAULT_RETRY_MS = 1000  # until the gateway sends `retry:`
MAX_BACKOFF_MS = 30_000  # cap for repeated failures to connect


class Fatal(Exception):
    """A refusal that retrying cannot fix (400: bad topic list, 404: not a gateway)."""


class Disconnected(Exception):
    """The connection failed or ended; ``opened`` says whether the stream had been open."""

    def __init__(self, reason: str, opened: bool) -> None:
        super().__init__(reason)
        self.opened = opened


def dash(value: str) -> str:
    return value or "-"


def stream(url: str, parser: SseParser) -> None:
    """Opens one connection and prints what it carries until it ends."""
    headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
    if parser.last_event_id:
        # The gateway accepts the header but does not replay: events published while we were
        # away are lost.
        headers["Last-Event-ID"] = parser.last_event_id
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers=headers))
    except urllib.error.HTTPError as err:
        message = f"HTTP {err.code}: {err.read(4096).decode('utf-8', 'replace').strip()}"
        if 400 <= err.code < 500 and err.code != 429:
            raise Fatal(message) from None
        raise Disconnected(message, opened=False) from None
    except (OSError, http.client.HTTPException) as err:
        raise Disconnected(f"cannot connect: {err}", opened=False) from None
    with response:
        if response.headers.get_content_type() != "text/event-stream":
            raise Fatal(f"not an event stream: Content-Type {response.headers['Content-Type']}")
        connection = response.headers.get("x-sse-connection-id", "?")
        print(f"connected to {url} (connection {connection})", file=sys.stderr)
        parser.start_stream()
        ready = False
        while True:
            try:
                chunk = response.read1(65536)
            except (OSError, http.client.HTTPException) as err:
                raise Disconnected(f"{type(err).__name__}: {err}", opened=True) from None
            if not chunk:
                raise Disconnected("the gateway closed the stream", opened=True)
            for item in parser.feed(chunk):
                if not ready:  # the first comment (": connected") or event: we are subscribed
                    ready = True
                    print("ready")
                if isinstance(item, Comment):
                    continue
                data = json.dumps(item.data, ensure_ascii=False)
                print(
                    f"event topic={dash(item.topic)} id={dash(item.id)}"
                    f" event={dash(item.type)} data={data}"
                )


def main() -> int:
    base = os.environ.get("GATEWAY_URL", "http://127.0.0.1:8787").rstrip("/")
    topics = os.environ.get("TOPIC", "")
    if not topics:
        print("usage: TOPIC=a,b [GATEWAY_URL=http://127.0.0.1:8787] subscriber.py", file=sys.stderr)
        return 2
    url = f"{base}/sse?topic={urllib.parse.quote(topics, safe='')}"
    # One line per event, written at once even when stdout is a pipe.
    sys.stdout.reconfigure(encoding="utf-8", line_buffering=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    parser = SseParser()
    delay = DEFAULT_RETRY_MS
    while True:
        try:
            stream(url, parser)
            continue  # not reached: a stream only ends by raising
        except Fatal as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        except Disconnected as err:
            reason, opened = str(err), err.opened
        base_delay = parser.retry if parser.retry is not None else DEFAULT_RETRY_MS
        if opened:
            delay = base_delay  # the stream worked: start over from the gateway's delay
        print(
            f"disconnected: {reason}; reconnecting in {delay} ms"
            f" (Last-Event-ID: {dash(parser.last_event_id)})",
            file=sys.stderr,
        )
        time.sleep(delay / 1000)
        # Back off while the gateway stays away.
        delay = min(max(delay * 2, base_delay), MAX_BACKOFF_MS)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(0)
