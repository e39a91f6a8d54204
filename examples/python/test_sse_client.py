"""Unit tests of the event-stream parser: python3 -m unittest (from examples/python)."""

import unittest

from sse_client import Comment, Event, SseParser


def feed_all(parser, chunks):
    out = []
    for chunk in chunks:
        out.extend(parser.feed(chunk))
    return out


class ParserTest(unittest.TestCase):
    def test_gateway_frames(self):
        stream = (
            b": connected\n\n"
            b"id: 1\nevent: greeting\ntopic: a\ndata: hello\n\n"
            b"id: 2\ntopic: b\ndata: line one\ndata:\ndata:  two spaces\n\n"
            b": heartbeat\n\n"
        )
        parser = SseParser()
        self.assertEqual(
            parser.feed(stream),
            [
                Comment("connected"),
                Event("a", "1", "greeting", "hello"),
                Event("b", "2", "", "line one\n\n two spaces"),
                Comment("heartbeat"),
            ],
        )
        self.assertEqual(parser.last_event_id, "2")

    def test_line_endings_split_anywhere(self):
        # CRLF, LF and a lone CR all end a line, even when a read stops between CR and LF
        # or inside a UTF-8 sequence.
        stream = "\ufeffid: 7\r\ndata: a\rdata: b\ndata: ü\r\n\r\n".encode()
        items = feed_all(SseParser(), [stream[i : i + 1] for i in range(len(stream))])
        self.assertEqual(items, [Event("", "7", "", "a\nb\nü")])

    def test_field_rules(self):
        stream = (
            b"retry: 2500\n"  # sets the reconnection delay
            b"retry: 1x\n"  # ignored: not only digits
            b"id: 5\n"
            b"id: bad\0id\n"  # ignored: contains NUL
            b"data\n"  # a field name alone: empty value
            b"data:x\n"  # no space after the colon
            b"unknown: ignored\n\n"
            b"id: 6\nevent: only-a-type\n\n"  # no data: nothing is dispatched, but the id counts
            b"id: 9\ndata: cut off at the end"  # never dispatched: its id does not count
        )
        parser = SseParser()
        self.assertEqual(parser.feed(stream), [Event("", "5", "", "\nx")])
        self.assertEqual(parser.retry, 2500)
        self.assertEqual(parser.last_event_id, "6")


if __name__ == "__main__":
    unittest.main()
