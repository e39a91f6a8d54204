"""Reads a text/event-stream as the HTML specification describes it, plus the gateway's ``topic:``
field, which tells a multi-topic subscriber where an event came from.

https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Optional, Union

_LINE_END = re.compile(rb"\r\n|\r|\n")


@dataclass(frozen=True)
class Event:
    topic: str  # from the gateway's ``topic:`` field; "" when absent
    id: str  # the last event ID, as EventSource's MessageEvent.lastEventId
    type: str  # from ``event:``; "" when absent (EventSource would call it "message")
    data: str  # the ``data:`` lines joined with "\n"


@dataclass(frozen=True)
class Comment:
    text: str  # ": connected", ": heartbeat"


class SseParser:
    """Incremental parser: ``feed()`` bytes as they arrive, get comments and complete events back.

    ``last_event_id`` and ``retry`` outlive a connection: send the former as Last-Event-ID when
    reconnecting, and wait ``retry`` milliseconds before doing so. Call ``start_stream()`` for
    each new connection.
    """

    def __init__(self) -> None:
        self.last_event_id = ""
        self.retry: Optional[int] = None
        self.start_stream()

    def start_stream(self) -> None:
        self._pending = b""
        self._skip_lf = False  # the previous chunk ended with CR: a leading LF belongs to it
        self._first_line = True
        self._id_buffer = ""  # each stream starts with an empty last event ID buffer
        self._reset_event()

    def _reset_event(self) -> None:
        self._data: List[str] = []
        self._type = ""
        self._topic = ""

    def feed(self, chunk: bytes) -> List[Union[Comment, Event]]:
        buf = self._pending + chunk
        if self._skip_lf and buf.startswith(b"\n"):
            buf = buf[1:]
        self._skip_lf = False
        out: List[Union[Comment, Event]] = []
        start = 0
        for m in _LINE_END.finditer(buf):
            if m.group() == b"\r" and m.end() == len(buf):
                self._skip_lf = True
            line = buf[start : m.start()].decode("utf-8", errors="replace")
            start = m.end()
            if self._first_line:
                if line.startswith("\ufeff"):
                    line = line[1:]  # a leading byte order mark is ignored
                self._first_line = False
            item = self._line(line)
            if item is not None:
                out.append(item)
        # An unfinished line waits for more bytes; at the end of the stream it is discarded.
        self._pending = buf[start:]
        return out

    def _line(self, line: str) -> Optional[Union[Comment, Event]]:
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            return Comment(line[2:] if line.startswith(": ") else line[1:])
        field, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if field == "data":
            self._data.append(value)
        elif field == "event":
            self._type = value
        elif field == "topic":
            self._topic = value
        elif field == "id":
            if "\0" not in value:
                self._id_buffer = value
        elif field == "retry":
            if value.isascii() and value.isdigit():
                self.retry = int(value)
        # Any other field is ignored.
        return None

    def _dispatch(self) -> Optional[Event]:
        self.last_event_id = self._id_buffer  # even when there is no data to dispatch
        event = None
        if self._data:
            event = Event(self._topic, self.last_event_id, self._type, "\n".join(self._data))
        self._reset_event()
        return event
