"""Prints the events of one or more gateway topics, one line each:

    event topic=<topic> id=<publisher's id> event=<type or -> data=<data as a JSON string>

Prints "ready" each time the gateway confirms the subscription (its `gateway.connected` event),
writes the gateway's own events (`gateway.*`) to stderr, and reconnects after a dropped
connection with the last id it saw as Last-Event-ID, so the gateway replays what it missed.

    GATEWAY_URL=http://127.0.0.1:8787 TOPIC=orders,alerts .venv/bin/python subscriber.py

TOKEN, when set, is sent as `Authorization: Bearer <TOKEN>`: a token for private topics.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import Callable

import httpx
from httpx_sse import SSEError, connect_sse

DEFAULT_RETRY_MS = 1000  # until the gateway sends `retry:`
MAX_BACKOFF_MS = 30_000  # cap for repeated failures to connect
# The gateway sends a heartbeat every 15 s by default: a stream silent for 60 s is dead.
TIMEOUT = httpx.Timeout(10.0, read=60.0)


class Fatal(Exception):
    """A refusal that retrying cannot fix (400: bad topic list, 404: not a gateway)."""


def event_line(envelope: dict) -> str:
    """The line for one `?envelope=json` event: its data is {topic, id, event, data, cursor}."""
    data = json.dumps(envelope["data"], ensure_ascii=False)
    return (
        f"event topic={envelope['topic']} id={envelope['id']}"
        f" event={envelope.get('event') or '-'} data={data}"
    )


class Subscriber:
    """One subscription; its last event id and the gateway's `retry:` outlive each connection."""

    def __init__(self, client: httpx.Client, url: str) -> None:
        self.client, self.url = client, url
        self.last_event_id = ""
        self.retry_ms = DEFAULT_RETRY_MS
        self.opened = False  # whether the last connection got as far as an event stream

    def stream(self) -> str:
        """Opens one connection and prints what it carries; returns why it ended."""
        headers = {"Last-Event-ID": self.last_event_id} if self.last_event_id else {}
        with connect_sse(self.client, "GET", self.url, headers=headers) as source:
            response = source.response
            if response.is_error:
                code = response.status_code
                message = f"HTTP {code}: {response.read().decode('utf-8', 'replace').strip()}"
                if 400 <= code < 500 and code != 429:
                    raise Fatal(message)
                return message
            self.opened = True
            connection = response.headers.get("x-sse-connection-id", "?")
            print(f"connected to {self.url} (connection {connection})", file=sys.stderr)
            try:
                for sse in source.iter_sse():
                    if sse.retry is not None:
                        self.retry_ms = sse.retry
                    if sse.id:  # "" on a resumed connection until the first replayed event
                        self.last_event_id = sse.id
                    if sse.event.startswith("gateway."):
                        print(f"{sse.event} {sse.data}", file=sys.stderr)
                        if sse.event == "gateway.connected":
                            print("ready")
                    elif sse.data:  # httpx-sse also hands over an empty event per heartbeat
                        print(event_line(json.loads(sse.data)))
            except SSEError as err:  # the answer is not text/event-stream
                raise Fatal(str(err)) from None
        return "the gateway closed the stream"

    def run(self, sleep: Callable[[float], None] = time.sleep) -> int:
        """Streams and reconnects until a refusal that retrying cannot fix; then returns 1."""
        delay = self.retry_ms
        while True:
            self.opened = False
            try:
                reason = self.stream()
            except Fatal as err:
                print(f"error: {err}", file=sys.stderr)
                return 1
            except httpx.TransportError as err:
                reason = f"{type(err).__name__}: {err}"
            if self.opened:
                delay = self.retry_ms  # the stream worked: start over from the gateway's delay
            print(
                f"disconnected: {reason}; reconnecting in {delay} ms"
                f" (Last-Event-ID: {self.last_event_id or '-'})",
                file=sys.stderr,
            )
            sleep(delay / 1000)
            delay = min(max(delay * 2, self.retry_ms), MAX_BACKOFF_MS)  # back off while it fails


def main() -> int:
    base = os.environ.get("GATEWAY_URL", "http://127.0.0.1:8787").rstrip("/")
    topics = os.environ.get("TOPIC", "")
    if not topics:
        print(
            "usage: TOPIC=a,b [GATEWAY_URL=http://127.0.0.1:8787] [TOKEN=…] subscriber.py",
            file=sys.stderr,
        )
        return 2
    url = str(httpx.URL(f"{base}/sse", params={"topic": topics, "envelope": "json"}))
    # One line per event, written at once even when stdout is a pipe.
    sys.stdout.reconfigure(encoding="utf-8", line_buffering=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # TOKEN: a subscriber token for private topics (see mint_token.py), sent on every connection.
    token = os.environ.get("TOKEN", "").strip()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with httpx.Client(timeout=TIMEOUT, headers=headers) as client:
        return Subscriber(client, url).run()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(0)
