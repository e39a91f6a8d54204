"""Sends one event to the gateway and says what became of it:

    published id=<id> delivered=<topics or -> dropped=<topics or ->

The data is the second argument, or standard input when there is none (one trailing newline
removed). Exit status: 0 delivered, 1 refused or unreachable, 2 usage, 3 dropped everywhere.

    API_KEY=secret TOPIC=orders .venv/bin/python publisher.py 42 hello
"""

from __future__ import annotations

import os
import sys

import httpx

USAGE = (
    "usage: API_KEY=key TOPIC=a,b [EVENT=type] [GATEWAY_URL=...] publisher.py ID [DATA]"
    "  (DATA from stdin when omitted)"
)


def fail(code: int, message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def main(argv: list) -> int:
    base = os.environ.get("GATEWAY_URL", "http://127.0.0.1:8787").rstrip("/")
    key, topic = os.environ.get("API_KEY", ""), os.environ.get("TOPIC", "")
    event = os.environ.get("EVENT", "")
    if not key or not topic or len(argv) not in (2, 3):
        print(USAGE, file=sys.stderr)
        return 2
    event_id = argv[1]
    if len(argv) == 3:
        data = argv[2]
    else:
        data = sys.stdin.buffer.read().decode("utf-8")
        data = data[:-2] if data.endswith("\r\n") else data[:-1] if data.endswith("\n") else data

    headers = {
        "Authorization": f"Bearer {key}",
        "Content-Type": "text/plain; charset=utf-8",
        "X-Sse-Topic": topic,
        "X-Sse-Id": event_id,
    }
    if event:
        headers["X-Sse-Event"] = event
    try:
        response = httpx.post(
            f"{base}/publish", content=data.encode("utf-8"), headers=headers, timeout=30
        )
    except httpx.HTTPError as err:
        return fail(1, f"cannot reach {base}: {err}")
    if response.is_error:
        hint = " (check API_KEY)" if response.status_code == 401 else ""
        try:
            error = response.json()["error"]
            return fail(1, f"HTTP {response.status_code} {error['code']}: {error['message']}{hint}")
        except (ValueError, KeyError, TypeError):
            return fail(1, f"HTTP {response.status_code}: {response.text.strip()}{hint}")

    result = response.json()
    delivered, dropped = result.get("delivered", []), result.get("dropped", [])
    print(
        f"published id={result.get('id')} delivered={','.join(delivered) or '-'}"
        f" dropped={','.join(dropped) or '-'}",
        flush=True,
    )
    if dropped:
        print(f"dropped: no subscriber on {','.join(dropped)}", file=sys.stderr)
    return 0 if delivered else 3


if __name__ == "__main__":
    sys.exit(main(sys.argv))
