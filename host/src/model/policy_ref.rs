//! A policy reference, as SLOs and `--policy` name a policy: `builtin:NAME`,
//! `uploaded:NAME`, `oci://…` or a component file. Parsed here and nowhere else.

use super::oci_ref::{OCI_SCHEME, OciRef, OciRefError};
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

const BUILTIN: &str = "builtin:";
const UPLOADED: &str = "uploaded:";

/// Which policy an SLO or a command runs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PolicyRef {
    /// `builtin:NAME`: one embedded in the binary.
    Builtin(String),
    /// `uploaded:NAME`: one a tenant uploaded through the API.
    Uploaded(String),
    /// `oci://host[:port]/repo:tag` or `…@sha256:HEX`: one in an OCI registry.
    Oci(Box<OciRef>),
    /// Any other text: a component file.
    File(PathBuf),
}

/// Text that names no policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyRefError {
    /// Nothing at all.
    #[error("the policy is empty; use `builtin:NAME`, `uploaded:NAME`, `oci://…` or a file")]
    Empty,
    /// `builtin:` or `uploaded:` with nothing after it.
    #[error("policy {text:?}: no name after `{prefix}`")]
    NoName {
        /// The text given.
        text: String,
        /// `builtin:` or `uploaded:`.
        prefix: &'static str,
    },
    /// A name that is not a plain name.
    #[error(
        "policy {text:?}: {name:?} is not a policy name; use letters, digits, `-`, `_` \
         or `.`, starting with a letter or digit"
    )]
    BadName {
        /// The text given.
        text: String,
        /// The name after the prefix.
        name: String,
    },
    /// `oci://` text that is not an OCI reference.
    #[error(transparent)]
    Oci(#[from] OciRefError),
}

impl PolicyRef {
    /// Whether `name` may follow `builtin:` or `uploaded:`: no separators,
    /// spaces or leading dots, so a name never reads as a path.
    pub fn is_plain_name(name: &str) -> bool {
        name.bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    }
}

impl FromStr for PolicyRef {
    type Err = PolicyRefError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let named = |prefix: &'static str, name: &str| {
            if name.is_empty() {
                Err(PolicyRefError::NoName {
                    text: text.to_string(),
                    prefix,
                })
            } else if !Self::is_plain_name(name) {
                Err(PolicyRefError::BadName {
                    text: text.to_string(),
                    name: name.to_string(),
                })
            } else {
                Ok(name.to_string())
            }
        };
        if let Some(name) = text.strip_prefix(BUILTIN) {
            named(BUILTIN, name).map(PolicyRef::Builtin)
        } else if let Some(name) = text.strip_prefix(UPLOADED) {
            named(UPLOADED, name).map(PolicyRef::Uploaded)
        } else if text.starts_with(OCI_SCHEME) {
            Ok(PolicyRef::Oci(Box::new(text.parse()?)))
        } else if text.is_empty() {
            Err(PolicyRefError::Empty)
        } else {
            Ok(PolicyRef::File(PathBuf::from(text)))
        }
    }
}

impl fmt::Display for PolicyRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyRef::Builtin(name) => write!(f, "{BUILTIN}{name}"),
            PolicyRef::Uploaded(name) => write!(f, "{UPLOADED}{name}"),
            PolicyRef::Oci(r) => write!(f, "{r}"),
            PolicyRef::File(path) => write!(f, "{}", path.display()),
        }
    }
}

impl serde::Serialize for PolicyRef {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for PolicyRef {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<PolicyRef, PolicyRefError> {
        text.parse()
    }

    #[test]
    fn each_kind_reads_back_what_it_prints() {
        for r in [
            PolicyRef::Builtin("freshness".into()),
            PolicyRef::Uploaded("my-policy".into()),
            PolicyRef::Uploaded("v2.schema_drift".into()),
            PolicyRef::File("policies/min_rows.wasm".into()),
            PolicyRef::File("/abs/path with space.wasm".into()),
            PolicyRef::Oci(Box::new(
                "oci://localhost:5000/policies/volume:v1".parse().unwrap(),
            )),
        ] {
            assert_eq!(parse(&r.to_string()), Ok(r.clone()), "{r}");
        }
        assert_eq!(
            PolicyRef::Builtin("freshness".into()).to_string(),
            "builtin:freshness"
        );
        assert_eq!(
            PolicyRef::Uploaded("my-policy".into()).to_string(),
            "uploaded:my-policy"
        );
    }

    #[test]
    fn text_without_a_known_prefix_is_a_file() {
        for text in [
            "min_rows.wasm",
            "./builtin:x",
            "s3:bucket/p.wasm",
            "uploaded",
        ] {
            assert_eq!(parse(text), Ok(PolicyRef::File(text.into())), "{text}");
        }
    }

    #[test]
    fn a_prefix_without_a_name_is_refused_naming_the_text() {
        let e = parse("builtin:").unwrap_err();
        assert_eq!(
            e,
            PolicyRefError::NoName {
                text: "builtin:".into(),
                prefix: "builtin:"
            }
        );
        assert!(e.to_string().contains("\"builtin:\""), "{e}");
        assert!(matches!(
            parse("uploaded:"),
            Err(PolicyRefError::NoName {
                prefix: "uploaded:",
                ..
            })
        ));
    }

    #[test]
    fn a_name_that_could_read_as_a_path_is_refused() {
        for text in [
            "builtin:../x",
            "uploaded:a/b",
            "uploaded:.hidden",
            "builtin: freshness",
            "uploaded:a:b",
        ] {
            let e = parse(text).unwrap_err();
            assert!(matches!(e, PolicyRefError::BadName { .. }), "{text}: {e:?}");
            assert!(e.to_string().contains(&format!("{text:?}")), "{e}");
        }
    }

    #[test]
    fn oci_text_must_be_a_whole_reference() {
        let e = parse("oci://localhost:5000/policies").unwrap_err();
        assert!(matches!(e, PolicyRefError::Oci(_)), "{e:?}");
        assert!(e.to_string().contains("no tag or digest"), "{e}");
    }

    #[test]
    fn empty_text_is_refused() {
        assert_eq!(parse(""), Err(PolicyRefError::Empty));
    }

    #[test]
    fn it_serializes_as_its_text() {
        let r = PolicyRef::Uploaded("min-rows".into());
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(json, "\"uploaded:min-rows\"");
        assert_eq!(serde_json::from_str::<PolicyRef>(&json).unwrap(), r);
        assert!(serde_json::from_str::<PolicyRef>("\"builtin:\"").is_err());
    }

    #[test]
    fn it_orders_and_hashes_so_it_can_key_maps() {
        let mut map = std::collections::BTreeMap::new();
        map.insert(PolicyRef::Builtin("volume".into()), 1);
        map.insert(PolicyRef::Builtin("volume".into()), 2);
        let set: std::collections::HashSet<_> = map.keys().cloned().collect();
        assert_eq!((map.len(), set.len()), (1, 1));
    }
}
