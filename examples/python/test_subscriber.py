"""The subscriber's reconnect loop against a scripted gateway (httpx.MockTransport), no network:
.venv/bin/python -m unittest -v (from examples/python)."""

import io
import json
import unittest
from contextlib import redirect_stderr, redirect_stdout

import httpx

from subscriber import Subscriber

URL = "http://gateway.test/sse?topic=a%2Cb&envelope=json"
CONNECTED = 'event: gateway.connected\ndata: {"connectionId":"c1","topics":["a","b"]}\n'


def stream(*frames: str) -> httpx.Response:
    body = ": connected\n\n" + "".join(f"{f}\n" for f in frames) + ": heartbeat\n\n"
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, text=body)


def envelope(topic: str, id: str, event, data: str) -> str:
    return json.dumps({"topic": topic, "id": id, "event": event, "data": data, "cursor": "1.x"})


class ReconnectTest(unittest.TestCase):
    def test_resumes_with_the_last_id_honours_retry_backs_off_and_stops_on_a_400(self):
        seen = []  # the Last-Event-ID header of each request

        def gateway(request: httpx.Request) -> httpx.Response:
            seen.append(request.headers.get("last-event-id"))
            n = len(seen)
            if n == 1:  # a fresh connection, two events, then the gateway ends the stream
                multiline = envelope("a", "p-1", "created", "line one\nline two")
                return stream(
                    f"id: ~1.x-1-0\n{CONNECTED}",
                    f"retry: 2500\nid: p-1~1.x-1-1\nevent: created\ndata: {multiline}\n",
                    f"id: p-2~1.x-1-2\ndata: {envelope('b', 'p-2', None, '')}\n",
                )
            if n == 2:  # resumed: gateway.connected has no id, ours must stay
                return stream(CONNECTED)
            if n == 3:
                return httpx.Response(503, text="busy")
            if n == 4:
                raise httpx.ConnectError("connection refused", request=request)
            return httpx.Response(400, json={"error": {"code": "bad_request", "message": "no"}})

        sleeps = []
        out, err = io.StringIO(), io.StringIO()
        with httpx.Client(transport=httpx.MockTransport(gateway)) as client:
            with redirect_stdout(out), redirect_stderr(err):
                status = Subscriber(client, URL).run(sleep=sleeps.append)

        self.assertEqual(status, 1)
        self.assertEqual(seen, [None, "p-2~1.x-1-2", "p-2~1.x-1-2", "p-2~1.x-1-2", "p-2~1.x-1-2"])
        # The gateway's retry: after a stream that worked; doubling while it does not answer.
        self.assertEqual(sleeps, [2.5, 2.5, 5.0, 10.0])
        self.assertEqual(
            out.getvalue().splitlines(),
            [
                "ready",
                'event topic=a id=p-1 event=created data="line one\\nline two"',
                'event topic=b id=p-2 event=- data=""',
                "ready",
            ],
        )
        self.assertIn('gateway.connected {"connectionId":"c1"', err.getvalue())
        self.assertIn("error: HTTP 400: ", err.getvalue())


if __name__ == "__main__":
    unittest.main()
