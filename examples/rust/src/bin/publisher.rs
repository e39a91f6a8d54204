//! Sends one event to the gateway and says what became of it:
//!
//! ```text
//! published id=<id> delivered=<topics or -> dropped=<topics or ->
//! ```
//!
//! The data is the second argument, or standard input when there is none (one trailing newline
//! removed). Exit status: 0 delivered, 1 refused or unreachable, 2 usage, 3 dropped everywhere.
//!
//! `GATEWAY_URL=http://127.0.0.1:8787 API_KEY=secret TOPIC=orders cargo run --release --bin publisher -- 42 hello`

use std::error::Error as _;
use std::io::Read;
use std::process::ExitCode;
use std::time::Duration;

use serde_json::Value;

const USAGE: &str = "usage: API_KEY=key TOPIC=a,b [EVENT=type] [GATEWAY_URL=...] publisher ID [DATA]  (DATA from stdin when omitted)";

fn fail(code: u8, msg: String) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(code)
}

/// `["a","b"]` → `a,b`; nothing → `-`.
fn list(v: &Value) -> String {
    let items: Vec<&str> = v
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if items.is_empty() {
        "-".into()
    } else {
        items.join(",")
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let env = |name: &str| std::env::var(name).unwrap_or_default();
    let base = std::env::var("GATEWAY_URL").unwrap_or_else(|_| "http://127.0.0.1:8787".into());
    let (key, topic, event) = (env("API_KEY"), env("TOPIC"), env("EVENT"));
    let args: Vec<String> = std::env::args().skip(1).collect();
    if key.is_empty() || topic.is_empty() || args.is_empty() || args.len() > 2 {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    }
    let id = &args[0];
    let data = match args.get(1) {
        Some(d) => d.clone(),
        None => {
            let mut d = String::new();
            if let Err(err) = std::io::stdin().read_to_string(&mut d) {
                return fail(1, format!("cannot read stdin: {err}"));
            }
            let line = d.strip_suffix("\r\n").or_else(|| d.strip_suffix('\n'));
            line.unwrap_or(&d).to_string()
        }
    };

    let mut req = reqwest::Client::new()
        .post(format!("{}/publish", base.trim_end_matches('/')))
        .timeout(Duration::from_secs(30))
        .bearer_auth(&key)
        .header("content-type", "text/plain; charset=utf-8")
        .header("x-sse-topic", &topic)
        .header("x-sse-id", id)
        .body(data);
    if !event.is_empty() {
        req = req.header("x-sse-event", &event);
    }
    let res = match req.send().await {
        Ok(res) => res,
        Err(err) => {
            let root = std::iter::successors(err.source(), |&e| e.source()).last();
            let cause = root.map(|c| format!(": {c}")).unwrap_or_default();
            return fail(1, format!("cannot reach {base}{cause}"));
        }
    };
    let status = res.status().as_u16();
    let body = res.text().await.unwrap_or_default();
    let json: Value = serde_json::from_str(&body).unwrap_or(Value::Null);

    if status != 202 && status != 200 {
        let hint = if status == 401 {
            " (check API_KEY)"
        } else {
            ""
        };
        let (code, msg) = (&json["error"]["code"], &json["error"]["message"]);
        return match (code.as_str(), msg.as_str()) {
            (Some(code), Some(msg)) => fail(1, format!("HTTP {status} {code}: {msg}{hint}")),
            _ => fail(1, format!("HTTP {status}: {}{hint}", body.trim())),
        };
    }
    let Some(published) = json["id"].as_str() else {
        return fail(1, format!("unexpected answer (HTTP {status}): {body}"));
    };
    let (delivered, dropped) = (list(&json["delivered"]), list(&json["dropped"]));
    println!("published id={published} delivered={delivered} dropped={dropped}");
    if dropped != "-" {
        eprintln!("dropped: no subscriber on {dropped}");
    }
    if delivered == "-" {
        return ExitCode::from(3);
    }
    ExitCode::SUCCESS
}
