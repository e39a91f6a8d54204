//! Prints the events of one or more gateway topics, one line each:
//!
//! ```text
//! event topic=<topic> id=<id> event=<type or -> data=<data as a JSON string>
//! ```
//!
//! `ready` each time the gateway confirms the subscription (its `gateway.connected` event); the
//! gateway's own events and the connection's ups and downs go to stderr. `reqwest-eventsource`
//! reconnects by itself and sends the last `id:` it saw as `Last-Event-ID`, so the gateway
//! replays what was missed.
//!
//! `GATEWAY_URL=http://127.0.0.1:8787 TOPIC=orders,alerts cargo run --release --bin subscriber`
//!
//! `TOKEN`, when set, is sent as `Authorization: Bearer <TOKEN>`: a token for private topics.

use std::error::Error as _;
use std::process::ExitCode;

use futures_util::StreamExt;
use reqwest_eventsource::{Error, Event, EventSource};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let base = std::env::var("GATEWAY_URL").unwrap_or_else(|_| "http://127.0.0.1:8787".into());
    let topics = std::env::var("TOPIC").unwrap_or_default();
    if topics.is_empty() {
        eprintln!("usage: TOPIC=a,b [GATEWAY_URL=http://127.0.0.1:8787] [TOKEN=…] subscriber");
        return ExitCode::from(2);
    }
    // `envelope=json`: each event's data is {"topic","id","event","data","cursor"}, so a
    // subscriber of several topics can tell where an event came from.
    let sse = format!("{}/sse", base.trim_end_matches('/'));
    let params = [("topic", topics.as_str()), ("envelope", "json")];
    let url = match reqwest::Url::parse_with_params(&sse, params) {
        Ok(url) => url,
        Err(err) => {
            eprintln!("error: GATEWAY_URL {base}: {err}");
            return ExitCode::from(2);
        }
    };
    let mut request = reqwest::Client::new().get(url.clone());
    // TOKEN: a subscriber token for private topics (see mint-token), sent on every reconnection.
    if let Ok(token) = std::env::var("TOKEN").map(|t| t.trim().to_string()) {
        if !token.is_empty() {
            request = request.bearer_auth(token);
        }
    }
    let mut source = EventSource::new(request).expect("a GET without a body can be cloned");

    while let Some(item) = source.next().await {
        match item {
            Ok(Event::Open) => eprintln!("connected to {url}"),
            Ok(Event::Message(msg)) if msg.event.starts_with("gateway.") => {
                if msg.event == "gateway.connected" {
                    println!("ready");
                }
                eprintln!("{} {}", msg.event, msg.data);
            }
            Ok(Event::Message(msg)) => match serde_json::from_str::<Value>(&msg.data) {
                Ok(e) => {
                    let field = |name: &str| e[name].as_str().unwrap_or("-").to_string();
                    let data = Value::String(field("data"));
                    let (topic, id, event) = (field("topic"), field("id"), field("event"));
                    println!("event topic={topic} id={id} event={event} data={data}");
                }
                Err(err) => eprintln!("not a JSON envelope ({err}): {}", msg.data),
            },
            // The library gives up on an answer that is not a 200 event stream (as a browser's
            // EventSource does): a 400 names the bad topic in its body.
            Err(Error::InvalidStatusCode(status, res)) => {
                let body = res.text().await.unwrap_or_default();
                eprintln!("error: HTTP {}: {}", status.as_u16(), body.trim());
                return ExitCode::FAILURE;
            }
            Err(Error::InvalidContentType(value, _)) => {
                eprintln!("error: not an event stream: Content-Type {value:?}");
                return ExitCode::FAILURE;
            }
            Err(err) => {
                let root = std::iter::successors(err.source(), |&e| e.source()).last();
                let cause = root.map(|c| format!(" ({c})")).unwrap_or_default();
                let last = source.last_event_id();
                let last = if last.is_empty() { "-" } else { last };
                eprintln!("disconnected: {err}{cause}; reconnecting (Last-Event-ID: {last})");
            }
        }
    }
    ExitCode::FAILURE // the library closed the stream for good
}
