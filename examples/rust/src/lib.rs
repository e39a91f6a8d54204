//! Reads a `text/event-stream` as the HTML specification describes it
//! (<https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation>),
//! plus the gateway's `topic:` field, which tells a multi-topic subscriber where an event came from.

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// From the gateway's `topic:` field; empty when absent.
    pub topic: String,
    /// The last event ID, as EventSource's `MessageEvent.lastEventId`.
    pub id: String,
    /// From `event:`; empty when absent (EventSource would call it "message").
    pub event_type: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
}

/// What a stream carries: comments (`: connected`, `: heartbeat`) and events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Comment(String),
    Event(Event),
}

/// Incremental parser: [`Parser::feed`] bytes as they arrive, get comments and complete events.
///
/// `last_event_id` and `retry` outlive a connection: send the former as `Last-Event-ID` when
/// reconnecting, and wait `retry` milliseconds before doing so. Call [`Parser::start_stream`] for
/// each new connection.
#[derive(Debug, Default)]
pub struct Parser {
    pub last_event_id: String,
    pub retry: Option<u64>,
    pending: Vec<u8>,
    skip_lf: bool, // the previous chunk ended with CR: a leading LF belongs to it
    first_line: bool,
    id_buffer: String,
    data: Option<String>,
    event_type: String,
    topic: String,
}

impl Parser {
    pub fn new() -> Self {
        let mut p = Parser::default();
        p.start_stream();
        p
    }

    /// Forgets the previous connection's unfinished event; keeps `last_event_id` and `retry`.
    pub fn start_stream(&mut self) {
        self.pending.clear();
        self.skip_lf = false;
        self.first_line = true;
        self.id_buffer.clear(); // each stream starts with an empty last event ID buffer
        self.reset_event();
    }

    fn reset_event(&mut self) {
        self.data = None;
        self.event_type.clear();
        self.topic.clear();
    }

    /// Parses the complete lines in `chunk` (plus what was left over); an unfinished line waits
    /// for more bytes, and at the end of the stream it is discarded.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<Item> {
        let mut buf = std::mem::take(&mut self.pending);
        buf.extend_from_slice(chunk);
        let mut start = usize::from(self.skip_lf && buf.first() == Some(&b'\n'));
        self.skip_lf = false;
        let mut out = Vec::new();
        let mut i = start;
        while i < buf.len() {
            let b = buf[i];
            if b != b'\n' && b != b'\r' {
                i += 1;
                continue;
            }
            let mut line = String::from_utf8_lossy(&buf[start..i]).into_owned();
            if b == b'\r' {
                match buf.get(i + 1) {
                    Some(b'\n') => i += 1,
                    Some(_) => {}
                    None => self.skip_lf = true,
                }
            }
            i += 1;
            start = i;
            if self.first_line {
                if line.starts_with('\u{feff}') {
                    line.remove(0); // a leading byte order mark is ignored
                }
                self.first_line = false;
            }
            if let Some(item) = self.line(&line) {
                out.push(item);
            }
        }
        self.pending = buf.split_off(start);
        out
    }

    fn line(&mut self, line: &str) -> Option<Item> {
        if line.is_empty() {
            return self.dispatch();
        }
        if let Some(text) = line.strip_prefix(':') {
            return Some(Item::Comment(
                text.strip_prefix(' ').unwrap_or(text).to_string(),
            ));
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "data" => match &mut self.data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => self.data = Some(value.to_string()),
            },
            "event" => self.event_type = value.to_string(),
            "topic" => self.topic = value.to_string(),
            "id" if !value.contains('\0') => self.id_buffer = value.to_string(),
            "retry" if !value.is_empty() && value.bytes().all(|c| c.is_ascii_digit()) => {
                self.retry = value.parse().ok();
            }
            _ => {} // any other field is ignored
        }
        None
    }

    fn dispatch(&mut self) -> Option<Item> {
        self.last_event_id = self.id_buffer.clone(); // even when there is no data to dispatch
        let item = self.data.take().map(|data| {
            Item::Event(Event {
                topic: std::mem::take(&mut self.topic),
                id: self.last_event_id.clone(),
                event_type: std::mem::take(&mut self.event_type),
                data,
            })
        });
        self.reset_event();
        item
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(topic: &str, id: &str, event_type: &str, data: &str) -> Item {
        Item::Event(Event {
            topic: topic.into(),
            id: id.into(),
            event_type: event_type.into(),
            data: data.into(),
        })
    }

    #[test]
    fn gateway_frames() {
        let stream = ": connected\n\n\
            id: 1\nevent: greeting\ntopic: a\ndata: hello\n\n\
            id: 2\ntopic: b\ndata: line one\ndata:\ndata:  two spaces\n\n\
            : heartbeat\n\n";
        let mut p = Parser::new();
        assert_eq!(
            p.feed(stream.as_bytes()),
            vec![
                Item::Comment("connected".into()),
                ev("a", "1", "greeting", "hello"),
                ev("b", "2", "", "line one\n\n two spaces"),
                Item::Comment("heartbeat".into()),
            ]
        );
        assert_eq!(p.last_event_id, "2");
    }

    #[test]
    fn line_endings_split_anywhere() {
        // CRLF, LF and a lone CR all end a line, even when a read stops between CR and LF
        // or inside a UTF-8 sequence.
        let stream = "\u{feff}id: 7\r\ndata: a\rdata: b\ndata: ü\r\n\r\n".as_bytes();
        let mut p = Parser::new();
        let items: Vec<Item> = stream.iter().flat_map(|b| p.feed(&[*b])).collect();
        assert_eq!(items, vec![ev("", "7", "", "a\nb\nü")]);
    }

    #[test]
    fn field_rules() {
        let stream = concat!(
            "retry: 2500\n", // sets the reconnection delay
            "retry: 1x\n",   // ignored: not only digits
            "id: 5\n",
            "id: bad\0id\n", // ignored: contains NUL
            "data\n",        // a field name alone: empty value
            "data:x\n",      // no space after the colon
            "unknown: ignored\n\n",
            "id: 6\nevent: only-a-type\n\n", // no data: nothing dispatched, but the id counts
            "id: 9\ndata: cut off at the end", // never dispatched: its id does not count
        );
        let mut p = Parser::new();
        assert_eq!(p.feed(stream.as_bytes()), vec![ev("", "5", "", "\nx")]);
        assert_eq!(p.retry, Some(2500));
        assert_eq!(p.last_event_id, "6");
    }
}
