//! Where alert transitions go. A new kind of notifier is one more variant
//! here, and the compiler then names every place that must handle it.
//!
//! The outbox stores a notifier as one string: a webhook as its URL, any
//! other kind as its URL behind `KIND+` (`alertmanager+http://...`), so
//! entries written before a kind existed still read as webhooks. This file's
//! `Display` and `FromStr` are the only writer and reader of that form.

use serde::{Deserialize, Serialize};
use std::convert::Infallible;
use std::fmt;
use std::str::FromStr;

/// A notifier: where transitions are sent and how.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", from = "String")]
pub enum Notifier {
    /// A URL that takes each firing or resolved transition as a JSON POST.
    Webhook(String),
    /// A Prometheus Alertmanager's base URL, e.g. `http://127.0.0.1:9093`.
    Alertmanager(String),
}

/// The stored form's mark of an Alertmanager.
const ALERTMANAGER: &str = "alertmanager+";

impl fmt::Display for Notifier {
    /// The stored form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Notifier::Webhook(url) => f.write_str(url),
            Notifier::Alertmanager(url) => write!(f, "{ALERTMANAGER}{url}"),
        }
    }
}

impl FromStr for Notifier {
    type Err = Infallible;

    /// Reads the stored form; anything without a known mark is a webhook.
    fn from_str(s: &str) -> Result<Self, Infallible> {
        Ok(match s.strip_prefix(ALERTMANAGER) {
            Some(url) => Notifier::Alertmanager(url.to_string()),
            None => Notifier::Webhook(s.to_string()),
        })
    }
}

impl From<String> for Notifier {
    fn from(stored: String) -> Self {
        match stored.parse() {
            Ok(notifier) => notifier,
            Err(never) => match never {},
        }
    }
}

impl From<Notifier> for String {
    fn from(notifier: Notifier) -> String {
        notifier.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_webhook_is_stored_as_its_url_and_an_alertmanager_behind_its_mark() {
        let cases = [
            (
                Notifier::Webhook("https://hooks.example/dataslo".into()),
                "https://hooks.example/dataslo",
            ),
            (
                Notifier::Alertmanager("http://127.0.0.1:9093/".into()),
                "alertmanager+http://127.0.0.1:9093/",
            ),
        ];
        for (notifier, stored) in cases {
            assert_eq!(notifier.to_string(), stored);
            assert_eq!(stored.parse(), Ok(notifier.clone()));
            let json = serde_json::to_string(&notifier).unwrap();
            assert_eq!(json, serde_json::to_string(stored).unwrap());
            assert_eq!(serde_json::from_str::<Notifier>(&json).unwrap(), notifier);
        }
    }

    #[test]
    fn a_target_stored_before_notifier_kinds_existed_reads_as_a_webhook() {
        let old: Notifier = serde_json::from_str("\"http://127.0.0.1:8080/hook\"").unwrap();
        assert_eq!(old, Notifier::Webhook("http://127.0.0.1:8080/hook".into()));
    }
}
