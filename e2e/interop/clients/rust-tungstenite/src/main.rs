//! Interop client: subscribes to `INTEROP_URL` (`ws://…/ws?topic=…`) with `tokio-tungstenite`
//! and prints `{"frame":"<text frame>"}` per frame, `{"error"}` per error or close. The library
//! does not reconnect: this loop does, after 1 s, with `lastEventId=<cursor of the last frame>`
//! appended, so the gateway replays what was missed. Exits when stdin closes.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio_tungstenite::{connect_async, tungstenite::Message};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    std::thread::spawn(|| {
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        std::process::exit(0);
    });
    let base = std::env::var("INTEROP_URL").expect("INTEROP_URL: the subscribe URL");
    let error = |msg: String| println!("{}", json!({ "error": msg }));
    let mut cursor: Option<String> = None;
    loop {
        // A cursor is base36 digits, `.` and `-`: nothing to percent-encode.
        let url = match &cursor {
            Some(c) if base.contains('?') => format!("{base}&lastEventId={c}"),
            Some(c) => format!("{base}?lastEventId={c}"),
            None => base.clone(),
        };
        match connect_async(url.as_str()).await {
            Err(err) => error(format!("cannot connect: {err}")),
            Ok((mut ws, _)) => {
                while let Some(msg) = ws.next().await {
                    match msg {
                        Ok(Message::Text(text)) => {
                            let frame: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                            if let Some(c) = frame["cursor"].as_str() {
                                cursor = Some(c.to_string());
                            }
                            println!("{}", json!({ "frame": text.as_str() }));
                        }
                        Ok(Message::Close(frame)) => {
                            error(match frame {
                                Some(f) => {
                                    format!(
                                        "closed by the server: {} {}",
                                        u16::from(f.code),
                                        f.reason
                                    )
                                }
                                None => "closed by the server".to_string(),
                            });
                            // The close frame is answered by the library; do not wait for the
                            // server to end the TCP connection (local workerd keeps it open).
                            break;
                        }
                        Ok(_) => {} // pings are answered by the library
                        Err(err) => {
                            error(format!("connection failed: {err}"));
                            break;
                        }
                    }
                }
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
