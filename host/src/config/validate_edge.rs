//! The checks of `[nats]` and `[agent]`, part of [`Config::validate`].

use super::validate::{Checked, sha256_hex, tenant_name_ok};
use super::{Config, ValidationError};

impl Config {
    /// `[nats]`: a URL NATS takes, and at most one kind of credential, whole.
    pub(super) fn check_nats(&self) -> Checked {
        let nats = &self.nats;
        let credentials = nats.user.is_some()
            || nats.password.is_some()
            || nats.token.is_some()
            || nats.creds_file.is_some();
        let Some(url) = &nats.url else {
            return match credentials {
                true => Err(ValidationError::new(
                    "nats.url",
                    "credentials are set, but no url to use them with",
                )),
                false => Ok(()),
            };
        };
        let scheme_ok =
            ["nats://", "tls://"].iter().any(|s| url.starts_with(s)) && url.len() > "nats://".len();
        if !scheme_ok || url.contains(char::is_whitespace) {
            return Err(ValidationError::new(
                "nats.url",
                format!("{url:?} is not a NATS URL: nats://host:port or tls://host:port"),
            ));
        }
        match (&nats.user, &nats.password) {
            (Some(_), None) => {
                return Err(ValidationError::new(
                    "nats.password",
                    "nats.user is set without it",
                ));
            }
            (None, Some(_)) => {
                return Err(ValidationError::new(
                    "nats.user",
                    "nats.password is set without it",
                ));
            }
            _ => {}
        }
        if let Some(prefix) = &nats.inbox_prefix {
            let token_ok = |t: &str| {
                !t.is_empty()
                    && t.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            };
            if !prefix.split('.').all(token_ok) {
                return Err(ValidationError::new(
                    "nats.inbox_prefix",
                    format!(
                        "{prefix:?} is not a subject prefix: tokens of letters, digits, _ and -, \
                         joined by dots, e.g. \"_INBOX_acme\""
                    ),
                ));
            }
        }
        let kinds = [
            ("nats.user", nats.user.is_some()),
            ("nats.token", nats.token.is_some()),
            ("nats.creds_file", nats.creds_file.is_some()),
        ];
        let set: Vec<&str> = kinds.iter().filter(|(_, s)| *s).map(|(k, _)| *k).collect();
        if set.len() > 1 {
            return Err(ValidationError::new(
                set[1],
                format!("{} is set too: give one kind of credential", set[0]),
            ));
        }
        Ok(())
    }

    /// `[agent]`: a site name that fits a subject token, a tenant name, and a
    /// NATS server to publish to.
    pub(super) fn check_agent(&self) -> Checked {
        let Some(agent) = &self.agent else {
            return Ok(());
        };
        let site_ok = (1..=64).contains(&agent.site.len())
            && agent
                .site
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !site_ok {
            return Err(ValidationError::new(
                "agent.site",
                format!(
                    "a site is 1 to 64 lowercase letters, digits, dashes and underscores, not {:?}",
                    agent.site
                ),
            ));
        }
        if agent.max_unpublished == 0 {
            return Err(ValidationError::new(
                "agent.max_unpublished",
                "must be at least 1: the agent keeps records until the stream takes them",
            ));
        }
        if !tenant_name_ok(&agent.tenant) {
            return Err(ValidationError::new(
                "agent.tenant",
                format!(
                    "a tenant name is 1 to 64 lowercase letters, digits and dashes, not {:?}",
                    agent.tenant
                ),
            ));
        }
        if self.nats.url.is_none() {
            return Err(ValidationError::new(
                "nats.url",
                "an agent publishes its records to NATS: set [nats] url",
            ));
        }
        for (j, hash) in agent.token_sha256.iter().enumerate() {
            sha256_hex(format!("agent.token_sha256[{j}]"), hash)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The field `text` is refused for, and the whole message.
    fn refused(text: &str) -> (String, String) {
        let config: Config = toml::from_str(text).unwrap();
        let err = config.validate().expect_err("refused");
        (err.field.clone(), err.to_string())
    }

    const AGENT: &str = "[agent]\nsite = \"plant-7\"\ntenant = \"acme\"\n";
    const NATS: &str = "[nats]\nurl = \"nats://127.0.0.1:4222\"\n";

    #[test]
    fn an_agent_with_a_site_a_tenant_and_a_nats_url_is_accepted() {
        let config: Config = toml::from_str(&format!("{AGENT}{NATS}")).unwrap();
        assert_eq!(config.validate(), Ok(()));
        let agent = config.agent.unwrap();
        assert_eq!(
            (agent.site.as_str(), agent.tenant.as_str()),
            ("plant-7", "acme")
        );
        assert_eq!(config.nats.url.as_deref(), Some("nats://127.0.0.1:4222"));
    }

    #[test]
    fn a_site_outside_its_alphabet_or_length_is_refused_by_name() {
        let long = "s".repeat(65);
        for site in ["", "Plant-7", "plant.7", "plant 7", "plant>", long.as_str()] {
            let (field, message) = refused(&format!(
                "[agent]\nsite = \"{site}\"\ntenant = \"acme\"\n{NATS}"
            ));
            assert_eq!(field, "agent.site", "{site:?}");
            assert!(message.contains("1 to 64 lowercase"), "{message}");
        }
        let longest = "s".repeat(64);
        let config: Config = toml::from_str(
            &format!("[agent]\nsite = \"{longest}_a-1\"\ntenant = \"acme\"\n{NATS}")
                .replace(&format!("{longest}_a-1"), &longest),
        )
        .unwrap();
        assert_eq!(config.validate(), Ok(()));
    }

    #[test]
    fn an_agent_needs_a_tenant_name_and_a_nats_url() {
        let (field, _) = refused(&format!("[agent]\nsite = \"p\"\ntenant = \"a.b\"\n{NATS}"));
        assert_eq!(field, "agent.tenant");
        let (field, message) = refused(AGENT);
        assert_eq!(field, "nats.url");
        assert!(message.contains("set [nats] url"), "{message}");
    }

    #[test]
    fn an_agents_tokens_are_sha256_hashes() {
        let hash = "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b";
        let config: Config =
            toml::from_str(&format!("{AGENT}token_sha256 = [\"{hash}\"]\n{NATS}")).unwrap();
        assert_eq!(config.validate(), Ok(()));
        let (field, _) = refused(&format!(
            "{AGENT}token_sha256 = [\"{hash}\", \"secret\"]\n{NATS}"
        ));
        assert_eq!(field, "agent.token_sha256[1]");
    }

    #[test]
    fn nats_credentials_are_one_kind_and_whole() {
        let (field, _) = refused("[nats]\nurl = \"http://127.0.0.1:4222\"\n");
        assert_eq!(field, "nats.url");
        let (field, _) = refused(&format!("{NATS}user = \"agent\"\n"));
        assert_eq!(field, "nats.password");
        let (field, message) = refused(&format!("{NATS}token = \"t\"\ncreds_file = \"a.creds\"\n"));
        assert_eq!(field, "nats.creds_file");
        assert!(message.contains("nats.token is set too"), "{message}");
        let (field, _) = refused("[nats]\ntoken = \"t\"\n");
        assert_eq!(field, "nats.url");
        for prefix in ["", "_INBOX.>", "a b", "a..b"] {
            let (field, _) = refused(&format!("{NATS}inbox_prefix = \"{prefix}\"\n"));
            assert_eq!(field, "nats.inbox_prefix", "{prefix:?}");
        }
        for creds in [
            "user = \"a\"\npassword = \"p\"\n",
            "token = \"t\"\n",
            "creds_file = \"a.creds\"\n",
            "inbox_prefix = \"_INBOX_acme\"\n",
        ] {
            let config: Config = toml::from_str(&format!("{NATS}{creds}")).unwrap();
            assert_eq!(config.validate(), Ok(()), "{creds}");
        }
    }
}
