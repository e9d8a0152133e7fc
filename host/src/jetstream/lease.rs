//! The tick lease: one central replica at a time ticks a tenant's scheduled
//! SLOs and sends its notifications.
//!
//! nats-server 2.9 has no per-key TTL, so the lease is a value in the KV
//! bucket [`BUCKET`], key `<tenant>.ticks`: the holder's replica name and the
//! time its hold ends. A replica takes the key with `create` when it is
//! absent, and renews it, or takes it over once its time has passed, with
//! `update` on the revision it read: of two replicas that try at once, one
//! wins. The holder renews every third of the lease and stops ticking as
//! soon as it cannot renew before its hold ends. Replicas compare the stored
//! time with their own clocks, which must agree to well within a tenth of
//! the lease; two replicas ticking at once still record each tick once, as
//! a tick's key is its SLO's and time's alone.

use super::JetStreamError;
use async_nats::jetstream::{self, kv};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The bucket of leases.
pub const BUCKET: &str = "dataslo-leases";

/// The key of `tenant`'s tick lease.
pub fn tick_key(tenant: &str) -> String {
    format!("{tenant}.ticks")
}

/// The value of a lease.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hold {
    /// The replica holding it.
    pub holder: String,
    /// When the hold ends unless renewed.
    pub expires: jiff::Timestamp,
}

/// What a replica does next, given what the bucket holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// No lease: take it with `create`.
    Create,
    /// Its own lease: renew it, on the revision read.
    Renew(u64),
    /// Another's lease whose time has passed (or a value no replica
    /// wrote): take it over, on the revision read.
    TakeOver(u64),
    /// Another replica holds it until `until`.
    Wait {
        /// The holder.
        holder: String,
        /// The end of its hold.
        until: jiff::Timestamp,
    },
}

/// The step of replica `me` at `now`, given the stored value and its
/// revision (`None`: no key, or a deleted one).
pub fn decide(me: &str, stored: Option<(&[u8], u64)>, now: jiff::Timestamp) -> Step {
    let Some((value, revision)) = stored else {
        return Step::Create;
    };
    match serde_json::from_slice::<Hold>(value) {
        Ok(hold) if hold.holder == me => Step::Renew(revision),
        Ok(hold) if hold.expires > now => Step::Wait {
            holder: hold.holder,
            until: hold.expires,
        },
        _ => Step::TakeOver(revision),
    }
}

/// Where a replica stands after one try.
#[derive(Debug, Clone, PartialEq)]
pub enum Standing {
    /// It holds the lease, for the lease's length from when it tried.
    Holds,
    /// Another replica holds it.
    Lost(String),
}

/// Who holds a tenant's lease, and for how long.
#[derive(Debug, Clone)]
pub struct LeaseSettings {
    /// The tenant.
    pub tenant: String,
    /// This replica's name.
    pub replica: String,
    /// How long a hold lasts unless renewed (`[central] tick_lease`).
    pub lease: Duration,
}

/// The bucket of leases, made if absent (history 1, file storage).
pub async fn bucket(js: &jetstream::Context) -> Result<kv::Store, JetStreamError> {
    super::kv_bucket::kv_bucket(js, BUCKET, 1).await
}

/// One try at holding the lease at `now`.
pub async fn try_hold(
    store: &kv::Store,
    settings: &LeaseSettings,
    now: jiff::Timestamp,
) -> Result<Standing, JetStreamError> {
    let key = tick_key(&settings.tenant);
    let failed = |error: String| JetStreamError::Stream {
        what: format!("lease {key} in bucket {BUCKET}"),
        error,
    };
    let entry = store.entry(&key).await.map_err(|e| failed(e.to_string()))?;
    let stored = entry
        .as_ref()
        .filter(|e| e.operation == kv::Operation::Put)
        .map(|e| (e.value.as_ref(), e.revision));
    let step = decide(&settings.replica, stored, now);
    let lease = jiff::SignedDuration::try_from(settings.lease).unwrap_or(jiff::SignedDuration::MAX);
    let hold = Hold {
        holder: settings.replica.clone(),
        expires: now.checked_add(lease).unwrap_or(jiff::Timestamp::MAX),
    };
    let value: bytes::Bytes = serde_json::to_vec(&hold)
        .map_err(|e| failed(e.to_string()))?
        .into();
    let written = match step {
        Step::Wait { holder, .. } => return Ok(Standing::Lost(holder)),
        Step::Create => match entry {
            // A deleted key is taken on its revision.
            Some(deleted) => store
                .update(&key, value, deleted.revision)
                .await
                .map_err(|e| {
                    (
                        e.kind() == kv::UpdateErrorKind::WrongLastRevision,
                        e.to_string(),
                    )
                }),
            None => store.create(&key, value).await.map_err(|e| {
                (
                    e.kind() == kv::CreateErrorKind::AlreadyExists,
                    e.to_string(),
                )
            }),
        },
        Step::Renew(revision) | Step::TakeOver(revision) => {
            store.update(&key, value, revision).await.map_err(|e| {
                (
                    e.kind() == kv::UpdateErrorKind::WrongLastRevision,
                    e.to_string(),
                )
            })
        }
    };
    match written {
        Ok(_) => Ok(Standing::Holds),
        // Another replica wrote first: it holds the lease now.
        Err((true, _)) => Ok(Standing::Lost("another replica".into())),
        Err((false, error)) => Err(failed(error)),
    }
}

/// Holds `settings.tenant`'s tick lease for ever (abort the task to stop
/// it), turning `ticking` on while this replica holds it and off as soon as
/// it cannot renew before its hold ends.
pub async fn hold_ticks(js: jetstream::Context, settings: LeaseSettings, ticking: Arc<AtomicBool>) {
    let tenant = settings.tenant.clone();
    let third = settings.lease / 3;
    // Stop a little before the hold ends: the others' clocks may run ahead.
    let margin = settings.lease / 10;
    let mut store = None;
    let mut held_until: Option<Instant> = None;
    let mut holder = String::new();
    let mut said: Option<bool> = None;
    loop {
        let started = Instant::now();
        let budget = match held_until {
            Some(until) => until.saturating_duration_since(started + margin).min(third),
            None => third,
        };
        let tried = tokio::time::timeout(budget, async {
            let kv = match &store {
                Some(kv) => kv,
                None => store.insert(bucket(&js).await?),
            };
            try_hold(kv, &settings, jiff::Timestamp::now()).await
        })
        .await;
        match tried {
            Ok(Ok(Standing::Holds)) => held_until = Some(started + settings.lease),
            Ok(Ok(Standing::Lost(by))) => {
                held_until = None;
                holder = by;
            }
            Ok(Err(error)) => {
                tracing::warn!(%tenant, %error, "cannot renew or take the tick lease");
            }
            Err(_) => tracing::warn!(%tenant, "the tick lease's bucket did not answer in time"),
        }
        let now = Instant::now();
        let holds = held_until.is_some_and(|until| now + margin < until);
        if !holds {
            held_until = None;
        }
        ticking.store(holds, Ordering::SeqCst);
        if said != Some(holds) {
            let replica = &settings.replica;
            match holds {
                true => {
                    tracing::info!(%tenant, %replica, "holding the tick lease: this replica ticks")
                }
                false => {
                    tracing::info!(%tenant, %replica, %holder, "not holding the tick lease: this replica does not tick")
                }
            }
            said = Some(holds);
        }
        let next = match held_until {
            Some(until) => until.saturating_duration_since(now + margin).min(third),
            None => third,
        };
        tokio::time::sleep(next.max(Duration::from_millis(10))).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> jiff::Timestamp {
        text.parse().unwrap()
    }

    fn held(holder: &str, expires: &str) -> Vec<u8> {
        serde_json::to_vec(&Hold {
            holder: holder.into(),
            expires: ts(expires),
        })
        .unwrap()
    }

    #[test]
    fn an_absent_lease_is_created() {
        assert_eq!(decide("r1", None, ts("2026-12-02T00:00:00Z")), Step::Create);
    }

    #[test]
    fn the_holder_renews_on_the_revision_it_read() {
        let value = held("r1", "2026-12-02T00:00:10Z");
        let now = ts("2026-12-02T00:00:03Z");
        assert_eq!(decide("r1", Some((&value, 7)), now), Step::Renew(7));
        // Even past its time: the revision decides whether another took it meanwhile.
        let late = ts("2026-12-02T00:00:11Z");
        assert_eq!(decide("r1", Some((&value, 7)), late), Step::Renew(7));
    }

    #[test]
    fn another_waits_until_the_holders_time_has_passed_then_takes_over() {
        let value = held("r1", "2026-12-02T00:00:10Z");
        assert_eq!(
            decide("r2", Some((&value, 7)), ts("2026-12-02T00:00:09.999Z")),
            Step::Wait {
                holder: "r1".into(),
                until: ts("2026-12-02T00:00:10Z")
            }
        );
        assert_eq!(
            decide("r2", Some((&value, 7)), ts("2026-12-02T00:00:10Z")),
            Step::TakeOver(7)
        );
    }

    #[test]
    fn a_value_no_replica_wrote_is_taken_over() {
        assert_eq!(
            decide("r2", Some((b"garbage", 3)), ts("2026-12-02T00:00:00Z")),
            Step::TakeOver(3)
        );
    }

    #[test]
    fn the_lease_key_names_the_tenant() {
        assert_eq!(tick_key("acme"), "acme.ticks");
    }
}
