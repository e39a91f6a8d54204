//! Prints a subscriber token for the gateway's private topics: a JWT signed with HS256 by
//! `jsonwebtoken`, granting the topics in `TOPICS` until `TTL_SECONDS` from now. A backend does
//! the same when a user asks for a stream.
//!
//! `TOKEN_SECRET=… TOPICS='user:42:*,audit' [TTL_SECONDS=3600] [SUBJECT=user-42] cargo run --release --bin mint-token`

use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{encode, EncodingKey, Header};
use serde_json::json;

fn main() -> ExitCode {
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let secret = var("TOKEN_SECRET");
    let topics: Vec<String> = var("TOPICS")
        .split(',')
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect();
    let ttl = match var("TTL_SECONDS").as_str() {
        "" => Some(3600),
        s => s.parse::<u64>().ok().filter(|&n| n > 0),
    };
    let Some(ttl) = ttl.filter(|_| !secret.is_empty() && !topics.is_empty()) else {
        eprintln!(
            "usage: TOKEN_SECRET=… TOPICS=a,prefix*,… [TTL_SECONDS=3600] [SUBJECT=…] mint-token"
        );
        return ExitCode::from(2);
    };

    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("a clock after 1970");
    // topics: the grants (exact names, `prefix*` or `*`); exp: seconds since the epoch.
    let mut claims = json!({ "topics": topics, "exp": now.as_secs() + ttl });
    let subject = var("SUBJECT");
    if !subject.is_empty() {
        claims["sub"] = json!(subject);
    }
    match encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    ) {
        Ok(token) => {
            println!("{token}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
