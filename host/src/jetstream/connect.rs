//! A NATS client from `[nats]`.

use super::JetStreamError;
use crate::config::NatsConfig;
use std::time::Duration;

/// A client of `[nats] url`, with the config's credentials, named `name` in
/// the server's monitoring. It returns at once: a server that is down is
/// connected to when it comes up, and reconnects never give up.
pub async fn connect(nats: &NatsConfig, name: &str) -> Result<async_nats::Client, JetStreamError> {
    let url = nats.url.clone().unwrap_or_default();
    let mut options = async_nats::ConnectOptions::new()
        .name(name)
        .retry_on_initial_connect()
        .max_reconnects(None)
        .connection_timeout(Duration::from_secs(5))
        // A refused publish (a user's permissions) comes back this way only.
        .event_callback(|event| async move {
            if let async_nats::Event::ServerError(error) = event {
                tracing::warn!(%error, "the NATS server refused a request");
            }
        })
        // A server back after an outage is found within a second.
        .reconnect_delay_callback(|attempts| {
            Duration::from_millis((100 * attempts as u64).min(1000))
        });
    if let (Some(user), Some(password)) = (&nats.user, &nats.password) {
        options = options.user_and_password(user.clone(), password.clone());
    }
    if let Some(prefix) = &nats.inbox_prefix {
        options = options.custom_inbox_prefix(prefix);
    }
    if let Some(token) = &nats.token {
        options = options.token(token.clone());
    }
    if let Some(file) = &nats.creds_file {
        options = options
            .credentials_file(file)
            .await
            .map_err(|error| JetStreamError::Creds {
                file: file.display().to_string(),
                error,
            })?;
    }
    options
        .connect(url.as_str())
        .await
        .map_err(|e| JetStreamError::Connect {
            url,
            error: e.to_string(),
        })
}
