//! `[nats]` and `[agent]`: the NATS server that carries evaluation records
//! between machines, and who an agent is.

use serde::Deserialize;
use std::path::PathBuf;

/// `[nats]`: the server, and the credentials NATS supports. At most one kind
/// of credential: user and password, a token, or a creds file.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NatsConfig {
    /// The server, e.g. `nats://127.0.0.1:4222`. Unset: no NATS, an island.
    pub url: Option<String>,
    /// A user name, with `password`.
    pub user: Option<String>,
    /// The user's password.
    pub password: Option<String>,
    /// A token.
    pub token: Option<String>,
    /// A `.creds` file (a user JWT and its nkey seed), relative to the
    /// config file's folder.
    pub creds_file: Option<PathBuf>,
    /// The subject prefix of this client's reply inboxes (default `_INBOX`).
    /// Give each tenant's agents their own (`_INBOX_acme`) and let their
    /// user subscribe only under it, so that no agent reads replies meant
    /// for central or for another tenant.
    pub inbox_prefix: Option<String>,
}

/// `[agent]`: the site an agent runs at and the tenant it evaluates for.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// The site: 1-64 of `a-z 0-9 - _`. It names the agent's subject and is
    /// part of its records' idempotency keys.
    pub site: String,
    /// The tenant whose SLOs this agent evaluates, as central names it.
    pub tenant: String,
    /// Records kept unpublished at most: past it, observations wait in the
    /// spool (nothing is dropped) until the stream takes records again. The
    /// agent warns from 80 % of it. Default 1,000,000.
    #[serde(default = "default_max_unpublished")]
    pub max_unpublished: u64,
    /// sha256 (hex) of the tokens its HTTP endpoints take. With one or more,
    /// the agent also serves `/v1/observations` and `/api/v1/lineage` on
    /// `[server] listen`.
    #[serde(default)]
    pub token_sha256: Vec<String>,
}

fn default_max_unpublished() -> u64 {
    1_000_000
}
