//! Prints the events of one or more gateway topics, one line each:
//!
//! ```text
//! event topic=<topic> id=<id> event=<type or -> data=<data as a JSON string>
//! ```
//!
//! Prints `ready` each time a stream is open, and reconnects after a dropped connection, sending
//! the last id it saw as `Last-Event-ID`.
//!
//! `GATEWAY_URL=http://127.0.0.1:8787 TOPIC=orders,alerts cargo run --release --bin subscriber`

use std::io::Read;
use std::process::ExitCode;
use std::time::Duration;

use sse_gateway_examples::{Item, Parser};
use ureq::Agent;

const DEFAULT_RETRY_MS: u64 = 1000; // until the gateway sends `retry:`
const MAX_BACKOFF_MS: u64 = 30_000; // cap for repeated failures to connect

/// Why a connection ended.
enum End {
    /// A refusal that retrying cannot fix (400: bad topic list, 404: not a gateway).
    Fatal(String),
    /// The connection failed or ended; `opened` says whether the stream had been open.
    Disconnected { reason: String, opened: bool },
}

fn dash(s: &str) -> &str {
    if s.is_empty() {
        "-"
    } else {
        s
    }
}

/// Opens one connection and prints what it carries until it ends.
fn stream(agent: &Agent, url: &str, parser: &mut Parser) -> End {
    let mut req = agent
        .get(url)
        .header("Accept", "text/event-stream")
        .header("Cache-Control", "no-cache");
    if !parser.last_event_id.is_empty() {
        // The gateway accepts the header but does not replay: events published while we were
        // away are lost.
        req = req.header("Last-Event-ID", &parser.last_event_id);
    }
    let mut res = match req.call() {
        Ok(res) => res,
        Err(err) => {
            let reason = format!("cannot connect: {err}");
            return End::Disconnected {
                reason,
                opened: false,
            };
        }
    };
    let status = res.status().as_u16();
    if status != 200 {
        let body = res.body_mut().read_to_string().unwrap_or_default();
        let msg = format!("HTTP {status}: {}", body.trim());
        if (400..500).contains(&status) && status != 429 {
            return End::Fatal(msg);
        }
        return End::Disconnected {
            reason: msg,
            opened: false,
        };
    }
    let header = |name: &str| {
        let value = res.headers().get(name).and_then(|v| v.to_str().ok());
        value.unwrap_or("").to_string()
    };
    let content_type = header("content-type");
    if !content_type.starts_with("text/event-stream") {
        return End::Fatal(format!("not an event stream: Content-Type {content_type}"));
    }
    eprintln!(
        "connected to {url} (connection {})",
        header("x-sse-connection-id")
    );
    parser.start_stream();
    let mut ready = false;
    let mut reader = res.body_mut().as_reader();
    let mut buf = [0u8; 65536];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => "the gateway closed the stream".to_string(),
            Ok(n) => {
                for item in parser.feed(&buf[..n]) {
                    if !ready {
                        // The first comment (": connected") or event: we are subscribed.
                        ready = true;
                        println!("ready");
                    }
                    if let Item::Event(ev) = item {
                        let data = serde_json::to_string(&ev.data).expect("a string serializes");
                        let (topic, id, ty) = (dash(&ev.topic), dash(&ev.id), dash(&ev.event_type));
                        println!("event topic={topic} id={id} event={ty} data={data}");
                    }
                }
                continue;
            }
            Err(err) => err.to_string(),
        };
        return End::Disconnected {
            reason: n,
            opened: true,
        };
    }
}

fn main() -> ExitCode {
    let base = std::env::var("GATEWAY_URL").unwrap_or_else(|_| "http://127.0.0.1:8787".into());
    let topics = std::env::var("TOPIC").unwrap_or_default();
    if topics.is_empty() {
        eprintln!("usage: TOPIC=a,b [GATEWAY_URL=http://127.0.0.1:8787] subscriber");
        return ExitCode::from(2);
    }
    let encoded: String = topics.bytes().map(percent_encode).collect();
    let url = format!("{}/sse?topic={encoded}", base.trim_end_matches('/'));
    // Error statuses are answers to read (the gateway explains them in the body), not failures.
    let agent: Agent = Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();

    let mut parser = Parser::new();
    let mut delay = DEFAULT_RETRY_MS;
    loop {
        let (reason, opened) = match stream(&agent, &url, &mut parser) {
            End::Fatal(msg) => {
                eprintln!("error: {msg}");
                return ExitCode::FAILURE;
            }
            End::Disconnected { reason, opened } => (reason, opened),
        };
        let base_delay = parser.retry.unwrap_or(DEFAULT_RETRY_MS);
        if opened {
            delay = base_delay; // the stream worked: start over from the gateway's delay
        }
        eprintln!(
            "disconnected: {reason}; reconnecting in {delay} ms (Last-Event-ID: {})",
            dash(&parser.last_event_id)
        );
        std::thread::sleep(Duration::from_millis(delay));
        delay = (delay * 2).max(base_delay).min(MAX_BACKOFF_MS); // back off while the gateway stays away
    }
}

/// Percent-encodes one byte of a query value (topic names use few characters, but `,` and `/`
/// are among them).
fn percent_encode(b: u8) -> String {
    if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
        (b as char).to_string()
    } else {
        format!("%{b:02X}")
    }
}
