//! An OCI reference to a policy: `oci://host[:port]/repo:tag` or
//! `oci://host[:port]/repo@sha256:<hex>`. Parsed here and nowhere else; the
//! registry client gets its parts, never the text.

use std::fmt;
use std::str::FromStr;

/// The scheme every OCI policy reference starts with.
pub const OCI_SCHEME: &str = "oci://";

/// A policy in an OCI registry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OciRef {
    /// `host` or `host:port`.
    pub registry: String,
    /// The repository path, e.g. `team/freshness`.
    pub repository: String,
    /// The tag or the manifest digest.
    pub target: OciTarget,
}

/// What an [`OciRef`] names in its repository.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OciTarget {
    /// A tag: resolved to a digest when an SLO is armed.
    Tag(String),
    /// A manifest digest: the hex of `sha256:<hex>`.
    Digest(String),
}

/// Text that is not an OCI reference, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("OCI reference {text:?}: {problem}")]
pub struct OciRefError {
    /// The text given.
    pub text: String,
    /// What is wrong.
    pub problem: String,
}

impl OciRef {
    /// The same repository at manifest digest `hex`.
    pub fn at_digest(&self, hex: &str) -> OciRef {
        OciRef {
            target: OciTarget::Digest(hex.to_string()),
            ..self.clone()
        }
    }

    /// `host[:port]/repo`, without scheme or target.
    pub fn repository_path(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }
}

fn registry_ok(registry: &str) -> bool {
    let (host, port) = match registry.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (registry, None),
    };
    !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'))
        && !host.starts_with(['.', '-'])
        && port.is_none_or(|p| p.parse::<u16>().is_ok_and(|n| n > 0))
}

/// One path component: lowercase letters and digits, separated by `.`, `_`,
/// `__` or `-` runs (the distribution spec's grammar, loosely).
fn component_ok(part: &str) -> bool {
    let bytes = part.as_bytes();
    !bytes.is_empty()
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && part.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        })
}

fn tag_ok(tag: &str) -> bool {
    (1..=128).contains(&tag.len())
        && (tag.as_bytes()[0].is_ascii_alphanumeric() || tag.starts_with('_'))
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

impl FromStr for OciRef {
    type Err = OciRefError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = |problem: &str| OciRefError {
            text: text.to_string(),
            problem: problem.to_string(),
        };
        let rest = text
            .strip_prefix(OCI_SCHEME)
            .ok_or_else(|| bad("it does not start with `oci://`"))?;
        let (registry, path) = rest.split_once('/').ok_or_else(|| {
            bad("no repository after the registry; use oci://HOST[:PORT]/REPO:TAG")
        })?;
        if !registry_ok(registry) {
            return Err(bad(&format!(
                "{registry:?} is not a registry; use HOST or HOST:PORT"
            )));
        }
        let (repository, target) = if let Some((repo, digest)) = path.split_once('@') {
            let hex = digest.strip_prefix("sha256:").ok_or_else(|| {
                bad("the digest must be `sha256:` followed by 64 lowercase hex digits")
            })?;
            if hex.len() != 64 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
                return Err(bad(
                    "the digest must be `sha256:` followed by 64 lowercase hex digits",
                ));
            }
            let last = repo.rsplit('/').next().unwrap_or(repo);
            if last.contains(':') {
                return Err(bad("give a tag or a digest, not both"));
            }
            (repo, OciTarget::Digest(hex.to_string()))
        } else {
            let last_slash = path.rfind('/').map_or(0, |i| i + 1);
            match path[last_slash..].rfind(':') {
                Some(i) => {
                    let (repo, tag) = (&path[..last_slash + i], &path[last_slash + i + 1..]);
                    if !tag_ok(tag) {
                        return Err(bad(&format!(
                            "{tag:?} is not a tag; use up to 128 letters, digits, `.`, `_` or `-`"
                        )));
                    }
                    (repo, OciTarget::Tag(tag.to_string()))
                }
                None => {
                    return Err(bad(
                        "no tag or digest; add `:TAG` or `@sha256:HEX` (there is no implicit `latest`)",
                    ));
                }
            }
        };
        if repository.is_empty() || !repository.split('/').all(component_ok) {
            return Err(bad(&format!(
                "{repository:?} is not a repository; use lowercase letters, digits, `.`, `_`, `-` and `/`"
            )));
        }
        Ok(OciRef {
            registry: registry.to_string(),
            repository: repository.to_string(),
            target,
        })
    }
}

impl fmt::Display for OciRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{OCI_SCHEME}{}/{}", self.registry, self.repository)?;
        match &self.target {
            OciTarget::Tag(tag) => write!(f, ":{tag}"),
            OciTarget::Digest(hex) => write!(f, "@sha256:{hex}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<OciRef, OciRefError> {
        text.parse()
    }

    #[test]
    fn tags_and_digests_read_back_what_they_print() {
        let digest = format!("oci://127.0.0.1:5000/team/fresh@sha256:{}", "ab".repeat(32));
        for text in [
            "oci://registry.example.com/policies/freshness:v1.2",
            "oci://localhost:5000/a/b/c:latest",
            digest.as_str(),
        ] {
            let r = parse(text).unwrap();
            assert_eq!(r.to_string(), text);
        }
        let r = parse("oci://localhost:5000/a/b:v1").unwrap();
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str()),
            ("localhost:5000", "a/b")
        );
        assert_eq!(r.target, OciTarget::Tag("v1".into()));
    }

    #[test]
    fn bad_references_name_the_text_and_what_is_wrong() {
        for (text, what) in [
            ("oci://host", "no repository"),
            ("oci://host/repo", "no tag or digest"),
            ("oci://host:99999/repo:v1", "not a registry"),
            ("oci://host/Repo:v1", "not a repository"),
            ("oci://host/repo:v@1", "the digest"),
            ("oci://host/repo@sha256:abc", "64 lowercase hex"),
            ("oci://host/repo@md5:abc", "the digest"),
            ("oci://host/repo:-x", "not a tag"),
        ] {
            let e = parse(text).unwrap_err();
            let message = e.to_string();
            assert!(message.contains(&format!("{text:?}")), "{message}");
            assert!(message.contains(what), "{text}: {message}");
        }
        let both = format!("oci://host/repo:v1@sha256:{}", "0".repeat(64));
        assert!(parse(&both).unwrap_err().to_string().contains("not both"));
    }
}
