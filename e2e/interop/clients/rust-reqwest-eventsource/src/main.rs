//! Interop client: subscribes to `INTEROP_URL` with `reqwest-eventsource` and prints one JSON
//! object a line: `{"type","id","data"}` for every event the library hands over (it hands over
//! every event type, `gateway.*` included), `{"error"}` for every error it reports. The library
//! reconnects by itself with `Last-Event-ID`; it gives up only on an answer that is not a 200
//! event stream, and so does this program (exit status 1). Exits when stdin closes.

use std::error::Error as _;

use futures_util::StreamExt;
use reqwest_eventsource::{Error, Event, EventSource};
use serde_json::json;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    std::thread::spawn(|| {
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        std::process::exit(0);
    });
    let url = std::env::var("INTEROP_URL").expect("INTEROP_URL: the subscribe URL");
    let request = reqwest::Client::new().get(url);
    let mut source = EventSource::new(request).expect("a GET without a body can be cloned");
    while let Some(item) = source.next().await {
        match item {
            Ok(Event::Open) => {}
            Ok(Event::Message(m)) => {
                println!("{}", json!({ "type": m.event, "id": m.id, "data": m.data }));
            }
            Err(Error::InvalidStatusCode(status, res)) => {
                let body = res.text().await.unwrap_or_default();
                println!("{}", json!({ "error": format!("HTTP {status}: {body}") }));
            }
            Err(err) => {
                let root = std::iter::successors(err.source(), |&e| e.source()).last();
                let cause = root.map(|c| format!(" ({c})")).unwrap_or_default();
                println!("{}", json!({ "error": format!("{err}{cause}") }));
            }
        }
    }
    std::process::exit(1); // closed for good by the library
}
