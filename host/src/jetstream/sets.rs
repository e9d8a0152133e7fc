//! A tenant's SLO set on the bus: central publishes it, its agents follow it.
//!
//! - The set (its OpenSLO texts and the policies they need, by sha256) is
//!   the value of key [`SET_KEY`] in the tenant's KV bucket
//!   `dataslo-slo-sets-<tenant>` ([`sets_bucket_name`]), as JSON
//!   ([`SloSet::encode`]). Its [`SloSet::version`] is the sha256 of its
//!   content, so the same set always has the same version.
//! - Each policy's bytes are the object named by their sha256 in the
//!   tenant's Object Store `dataslo-policies-<tenant>`
//!   ([`policies_bucket_name`]): content-addressed, checked against the name
//!   when fetched.
//!
//! One bucket and one store per tenant, so that NATS permissions (on
//! subjects) can keep each tenant's agents to their own. Central makes them
//! ([`create_sets_bucket`], [`create_policies_store`]); agents only open them.

use super::JetStreamError;
use super::kv_bucket::{kv_bucket, open_kv_bucket, stream_exists};
use async_nats::jetstream::{self, kv, object_store};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

/// The key of the set in its tenant's bucket.
pub const SET_KEY: &str = "set";

/// The KV bucket of `tenant`'s SLO set.
pub fn sets_bucket_name(tenant: &str) -> String {
    format!("dataslo-slo-sets-{tenant}")
}

/// The Object Store of `tenant`'s policies, one object per sha256.
pub fn policies_bucket_name(tenant: &str) -> String {
    format!("dataslo-policies-{tenant}")
}

/// The format of [`SloSet`] this build writes and reads.
pub const SET_FORMAT: u32 = 1;

/// One tenant's SLOs, as central runs them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SloSet {
    /// [`SET_FORMAT`].
    pub format: u32,
    /// The tenant.
    pub tenant: String,
    /// The sha256 (hex) of `documents` and `policies` (see [`SloSet::new`]).
    pub version: String,
    /// Its OpenSLO texts: the tenant's config files, then what was sent to
    /// `PUT /v1/slos`.
    pub documents: Vec<SetDocument>,
    /// Every policy its SLOs name other than `builtin:` ones, by reference.
    pub policies: Vec<SetPolicy>,
}

/// One OpenSLO text of a set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetDocument {
    /// Where central read it (a file, or `PUT /v1/slos`); errors name it.
    pub source: String,
    /// The YAML.
    pub text: String,
}

/// A policy a set needs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SetPolicy {
    /// As the SLOs name it: `uploaded:NAME` or a file path.
    pub reference: String,
    /// The sha256 of its bytes, hex: the name of its object.
    pub sha256: String,
    /// Its size.
    pub bytes: u64,
    /// The signatures central holds of it, for agents with `trusted_keys`
    /// (absent when none, so sets without signatures keep their version).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signatures: Vec<crate::trust::Signature>,
}

/// A set's content, in the order its version hashes it.
#[derive(Serialize)]
struct Content<'a> {
    format: u32,
    documents: &'a [SetDocument],
    policies: &'a [SetPolicy],
}

impl SloSet {
    /// The set of `tenant`, its policies in reference order and its version
    /// computed: the sha256 of its format, documents and policies as JSON.
    pub fn new(tenant: &str, documents: Vec<SetDocument>, mut policies: Vec<SetPolicy>) -> Self {
        policies.sort();
        policies.dedup();
        let version = version_of(&documents, &policies);
        SloSet {
            format: SET_FORMAT,
            tenant: tenant.to_string(),
            version,
            documents,
            policies,
        }
    }

    /// Its published form.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Reads back what [`SloSet::encode`] wrote, refusing another format or
    /// a version that does not match the content.
    pub fn decode(bytes: &[u8]) -> Result<Self, SetError> {
        let set: SloSet =
            serde_json::from_slice(bytes).map_err(|e| SetError::Unreadable(e.to_string()))?;
        if set.format != SET_FORMAT {
            return Err(SetError::Format(set.format));
        }
        let found = version_of(&set.documents, &set.policies);
        if found != set.version {
            return Err(SetError::Version {
                claimed: set.version,
                found,
            });
        }
        Ok(set)
    }
}

fn version_of(documents: &[SetDocument], policies: &[SetPolicy]) -> String {
    let content = Content {
        format: SET_FORMAT,
        documents,
        policies,
    };
    hex::encode(Sha256::digest(
        serde_json::to_vec(&content).unwrap_or_default(),
    ))
}

/// A published set or policy that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetError {
    /// Not the JSON of a set.
    #[error("the published SLO set is not readable: {0}")]
    Unreadable(String),
    /// Written by another build.
    #[error("the published SLO set has format {0}; this agent reads format {SET_FORMAT}")]
    Format(u32),
    /// The version is not the content's.
    #[error("the SLO set claims version {claimed}, but its content is version {found}")]
    Version {
        /// What it says.
        claimed: String,
        /// What its content hashes to.
        found: String,
    },
    /// A policy's bytes are not the ones the set names.
    #[error("policy {reference}: its bytes have sha256 {found}, not {sha256}")]
    Mismatch {
        /// The policy.
        reference: String,
        /// The sha256 the set names.
        sha256: String,
        /// What the object holds.
        found: String,
    },
    /// A policy's object could not be read.
    #[error("policy {reference}: object {sha256} in Object Store {store}: {error}")]
    Fetch {
        /// The policy.
        reference: String,
        /// The Object Store.
        store: String,
        /// Its object.
        sha256: String,
        /// Why.
        error: String,
    },
}

fn bucket_error(what: &str, error: impl std::fmt::Display) -> JetStreamError {
    JetStreamError::Stream {
        what: what.to_string(),
        error: error.to_string(),
    }
}

/// `tenant`'s SLO-set bucket, made if absent (central).
pub async fn create_sets_bucket(
    js: &jetstream::Context,
    tenant: &str,
) -> Result<kv::Store, JetStreamError> {
    kv_bucket(js, &sets_bucket_name(tenant), 5).await
}

/// `tenant`'s SLO-set bucket as central made it (an agent);
/// [`JetStreamError::Absent`] until then.
pub async fn open_sets_bucket(
    js: &jetstream::Context,
    tenant: &str,
) -> Result<kv::Store, JetStreamError> {
    open_kv_bucket(js, &sets_bucket_name(tenant)).await
}

/// `tenant`'s Object Store of policies, made if absent (central).
pub async fn create_policies_store(
    js: &jetstream::Context,
    tenant: &str,
) -> Result<Policies, JetStreamError> {
    let bucket = policies_bucket_name(tenant);
    let store = match js.get_object_store(&bucket).await {
        Ok(store) => store,
        Err(_) => js
            .create_object_store(object_store::Config {
                bucket: bucket.clone(),
                ..Default::default()
            })
            .await
            .map_err(|e| bucket_error(&format!("Object Store {bucket}"), e))?,
    };
    Ok(Policies { store, bucket })
}

/// `tenant`'s Object Store of policies as central made it (an agent);
/// [`JetStreamError::Absent`] until then.
pub async fn open_policies_store(
    js: &jetstream::Context,
    tenant: &str,
) -> Result<Policies, JetStreamError> {
    let bucket = policies_bucket_name(tenant);
    let what = format!("Object Store {bucket}");
    stream_exists(js, &format!("OBJ_{bucket}"), &what).await?;
    let store = js
        .get_object_store(&bucket)
        .await
        .map_err(|e| bucket_error(&what, e))?;
    Ok(Policies { store, bucket })
}

/// A tenant's Object Store of policies, and its name for errors.
pub struct Policies {
    store: object_store::ObjectStore,
    bucket: String,
}

/// The version of the set published in `sets`, if there is one.
pub async fn published_version(sets: &kv::Store) -> Result<Option<String>, JetStreamError> {
    let value = sets
        .get(SET_KEY)
        .await
        .map_err(|e| bucket_error(&format!("KV {} key {SET_KEY}", sets.name), e))?;
    Ok(value.and_then(|bytes| SloSet::decode(&bytes).ok().map(|s| s.version)))
}

/// Publishes `set`: first each policy not in the store yet (`bytes_of` gives
/// its bytes by sha256), then the set; returns the set's revision.
pub async fn publish_set<F>(
    sets: &kv::Store,
    policies: &Policies,
    set: &SloSet,
    bytes_of: impl Fn(&SetPolicy) -> F,
) -> Result<u64, JetStreamError>
where
    F: std::future::Future<Output = Result<Vec<u8>, String>>,
{
    for policy in &set.policies {
        if policies.store.info(&policy.sha256).await.is_ok() {
            continue;
        }
        let bytes = bytes_of(policy)
            .await
            .map_err(|e| bucket_error(&format!("policy {}", policy.reference), e))?;
        policies
            .store
            .put(policy.sha256.as_str(), &mut bytes.as_slice())
            .await
            .map_err(|e| {
                bucket_error(
                    &format!(
                        "object {} in Object Store {}",
                        policy.sha256, policies.bucket
                    ),
                    e,
                )
            })?;
    }
    sets.put(SET_KEY, set.encode().into())
        .await
        .map_err(|e| JetStreamError::Publish {
            subject: format!("KV {} key {SET_KEY}", sets.name),
            error: e.to_string(),
        })
}

/// The bytes of `policy` from the store, checked against its sha256.
pub async fn fetch_policy(policies: &Policies, policy: &SetPolicy) -> Result<Vec<u8>, SetError> {
    let fetch = |error: String| SetError::Fetch {
        reference: policy.reference.clone(),
        store: policies.bucket.clone(),
        sha256: policy.sha256.clone(),
        error,
    };
    let object = policies
        .store
        .get(&policy.sha256)
        .await
        .map_err(|e| fetch(e.to_string()))?;
    let mut bytes = Vec::new();
    // One byte more than the set says, to see a larger object as different.
    Box::pin(object)
        .take(policy.bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .await
        .map_err(|e| fetch(e.to_string()))?;
    check_policy(policy, &bytes)?;
    Ok(bytes)
}

/// Whether `bytes` are the policy the set names.
pub fn check_policy(policy: &SetPolicy, bytes: &[u8]) -> Result<(), SetError> {
    let found = hex::encode(Sha256::digest(bytes));
    if found.eq_ignore_ascii_case(&policy.sha256) {
        Ok(())
    } else {
        Err(SetError::Mismatch {
            reference: policy.reference.clone(),
            sha256: policy.sha256.clone(),
            found,
        })
    }
}

/// A watch of a tenant's set: its current value first, then every change.
pub struct SetWatch {
    watch: kv::Watch,
    bucket: String,
}

impl SetWatch {
    /// Starts watching the set in `sets`.
    pub async fn start(sets: &kv::Store) -> Result<Self, JetStreamError> {
        let bucket = sets.name.clone();
        sets.watch_with_history(SET_KEY)
            .await
            .map(|watch| SetWatch {
                watch,
                bucket: bucket.clone(),
            })
            .map_err(|e| bucket_error(&format!("watch of KV {bucket} key {SET_KEY}"), e))
    }

    /// The next value put (its revision and bytes); `None` when the watch
    /// ended, an error when it failed: start another.
    pub async fn next(&mut self) -> Option<Result<(u64, Vec<u8>), JetStreamError>> {
        loop {
            match self.watch.next().await? {
                Ok(entry) if entry.operation == kv::Operation::Put => {
                    return Some(Ok((entry.revision, entry.value.to_vec())));
                }
                // A delete or purge leaves the set running as it is.
                Ok(_) => {}
                Err(e) => {
                    let what = format!("watch of KV {}", self.bucket);
                    return Some(Err(bucket_error(&what, e)));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(source: &str, text: &str) -> SetDocument {
        SetDocument {
            source: source.into(),
            text: text.into(),
        }
    }

    fn policy(reference: &str, bytes: &[u8]) -> SetPolicy {
        SetPolicy {
            reference: reference.into(),
            sha256: hex::encode(Sha256::digest(bytes)),
            bytes: bytes.len() as u64,
            signatures: Vec::new(),
        }
    }

    #[test]
    fn the_same_content_has_the_same_version_whatever_the_order_of_its_policies() {
        let a = policy("uploaded:a", b"aaa");
        let b = policy("uploaded:b", b"bbb");
        let one = SloSet::new(
            "acme",
            vec![doc("slo.yaml", "x")],
            vec![a.clone(), b.clone()],
        );
        let two = SloSet::new("acme", vec![doc("slo.yaml", "x")], vec![b, a]);
        assert_eq!(one.version, two.version);
        assert_eq!(one, two);
        assert_eq!(one.version.len(), 64);
    }

    #[test]
    fn any_change_of_text_source_or_policy_bytes_is_another_version() {
        let base = SloSet::new(
            "acme",
            vec![doc("slo.yaml", "x")],
            vec![policy("p.wasm", b"1")],
        );
        let others = [
            SloSet::new(
                "acme",
                vec![doc("slo.yaml", "y")],
                vec![policy("p.wasm", b"1")],
            ),
            SloSet::new(
                "acme",
                vec![doc("other.yaml", "x")],
                vec![policy("p.wasm", b"1")],
            ),
            SloSet::new(
                "acme",
                vec![doc("slo.yaml", "x")],
                vec![policy("p.wasm", b"2")],
            ),
            SloSet::new("acme", vec![doc("slo.yaml", "x")], vec![]),
        ];
        for other in others {
            assert_ne!(other.version, base.version, "{other:?}");
        }
    }

    #[test]
    fn a_set_reads_back_as_written_and_a_tampered_one_is_refused() {
        let set = SloSet::new(
            "acme",
            vec![doc("PUT /v1/slos", "apiVersion: openslo/v1\n")],
            vec![policy("uploaded:p", b"wasm")],
        );
        assert_eq!(SloSet::decode(&set.encode()), Ok(set.clone()));

        let mut tampered = set.clone();
        tampered.documents[0].text.push_str("# more\n");
        assert!(matches!(
            SloSet::decode(&tampered.encode()),
            Err(SetError::Version { .. })
        ));
        let mut future = set.clone();
        future.format = 2;
        assert_eq!(SloSet::decode(&future.encode()), Err(SetError::Format(2)));
        assert!(matches!(
            SloSet::decode(b"not json"),
            Err(SetError::Unreadable(_))
        ));
    }

    #[test]
    fn policy_bytes_are_checked_against_the_sha256_the_set_names() {
        let p = policy("uploaded:p", b"right");
        assert_eq!(check_policy(&p, b"right"), Ok(()));
        assert!(matches!(
            check_policy(&p, b"wrong"),
            Err(SetError::Mismatch { .. })
        ));
    }
}
