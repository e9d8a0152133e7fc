//! The tick lease: one central replica at a time ticks a tenant's scheduled
//! SLOs and sends its notifications.
//!
//! nats-server 2.9 has no per-key TTL, so the lease is a value in the KV
//! bucket [`BUCKET`], key `<tenant>.ticks`, only ever written by
//! compare-and-set: `create` when the key is absent, otherwise `update` on
//! the revision read; of two replicas that write at once, one wins. The
//! value names the holder and the time of its last renewal by its clock,
//! for people reading the bucket. A replica that takes the lease over sends
//! what it recorded after its last read of the lease before that renewal,
//! by its own clock (see [`TickHold`]).
//!
//! No replica compares a stored time with its own clock to decide, so
//! clocks that disagree on the time of day cannot make two replicas hold at
//! once. Each measures on its own monotonic clock: the holder renews every
//! third of the lease and holds until the instant it sent its last renewal
//! that succeeded, plus the lease, less a tenth (for clocks that run at
//! slightly different rates); another replica takes the lease over only
//! once its revision has stayed the same for a whole lease since it first
//! saw that revision. A tick made twice anyway is one record everywhere, as
//! a tick's key is its SLO's and time's alone.

use super::JetStreamError;
use super::tick_hold::TickHold;
use async_nats::jetstream::{self, kv};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The bucket of leases.
pub const BUCKET: &str = "dataslo-leases";

/// The key of `tenant`'s tick lease.
pub fn tick_key(tenant: &str) -> String {
    format!("{tenant}.ticks")
}

/// The value of a lease.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeaseValue {
    /// The replica holding it.
    pub holder: String,
    /// When it last renewed, by its own clock.
    pub renewed_at: jiff::Timestamp,
}

/// What a replica does next, given what the bucket holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// No lease: take it with `create`.
    Create,
    /// Its own lease: renew it, on the revision read.
    Renew(u64),
    /// Another's lease (or a value no replica wrote) whose revision has not
    /// changed for a whole lease: take it over, on that revision.
    TakeOver(u64),
    /// Another replica holds it.
    Wait {
        /// The holder.
        holder: String,
        /// How long until it may be taken over, if its revision stays.
        left: Duration,
    },
}

/// One replica's view of another's lease: the revision it last saw and
/// when, on its own monotonic clock, it first saw it; and, on its own wall
/// clock, its read before that, when the revision did not exist yet: a
/// takeover sends what this replica recorded since, never reading another
/// replica's clock.
#[derive(Debug, Clone)]
pub struct Watch {
    lease: Duration,
    seen: Option<(u64, Instant)>,
    /// When it last read the lease (at first, when it was made).
    read_at: jiff::Timestamp,
    /// The read before it first saw the revision in `seen`.
    seen_after: Option<jiff::Timestamp>,
}

impl Watch {
    /// A replica that has seen no revision yet, for a lease of `lease`.
    pub fn new(lease: Duration) -> Self {
        Watch {
            lease,
            seen: None,
            read_at: jiff::Timestamp::now(),
            seen_after: None,
        }
    }

    /// The step of replica `me` at `now`, given the stored value and its
    /// revision (`None`: no key, or a deleted one).
    pub fn decide(&mut self, me: &str, stored: Option<(&[u8], u64)>, now: Instant) -> Step {
        let read_before = std::mem::replace(&mut self.read_at, jiff::Timestamp::now());
        let Some((value, revision)) = stored else {
            self.seen = None;
            return Step::Create;
        };
        let holder = match serde_json::from_slice::<LeaseValue>(value) {
            Ok(v) if v.holder == me => {
                self.seen = None;
                return Step::Renew(revision);
            }
            Ok(v) => v.holder,
            Err(_) => "(a value no replica wrote)".into(),
        };
        let since = match self.seen {
            Some((seen, since)) if seen == revision => since,
            _ => {
                self.seen = Some((revision, now));
                self.seen_after = Some(read_before);
                now
            }
        };
        let unchanged = now.saturating_duration_since(since);
        match unchanged >= self.lease {
            true => Step::TakeOver(revision),
            false => Step::Wait {
                holder,
                left: self.lease - unchanged,
            },
        }
    }
}

/// Where a replica stands after one try.
#[derive(Debug, Clone, PartialEq)]
pub enum Standing {
    /// It wrote the lease: it holds it, for the lease's length from when it
    /// tried (less the margin).
    Holds {
        /// When it took another's lease over: its read of the lease before
        /// it first saw the revision it replaced, by its own clock.
        after: Option<jiff::Timestamp>,
    },
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

/// One try at holding the lease, `now` being when this replica tried.
pub async fn try_hold(
    store: &kv::Store,
    settings: &LeaseSettings,
    watch: &mut Watch,
    now: Instant,
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
    let step = watch.decide(&settings.replica, stored, now);
    // The holder's last renewal came after this replica's read before it
    // saw it: what this replica recorded since is its to send.
    let after = match step {
        Step::TakeOver(_) => watch.seen_after,
        _ => None,
    };
    let value = LeaseValue {
        holder: settings.replica.clone(),
        renewed_at: jiff::Timestamp::now(),
    };
    let value: bytes::Bytes = serde_json::to_vec(&value)
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
        Ok(_) => Ok(Standing::Holds { after }),
        // Another replica wrote first: it holds the lease now.
        Err((true, _)) => Ok(Standing::Lost("another replica".into())),
        Err((false, error)) => Err(failed(error)),
    }
}

/// One replica's hold on one tenant's tick lease: it tries once at start
/// ([`LeaseKeeper::try_once`]), then for ever ([`LeaseKeeper::keep`]).
pub struct LeaseKeeper {
    settings: LeaseSettings,
    watch: Watch,
    store: Option<kv::Store>,
    hold: Arc<TickHold>,
    holder: String,
    said: Option<bool>,
}

impl LeaseKeeper {
    /// A keeper writing what it holds into `hold`.
    pub fn new(settings: LeaseSettings, hold: Arc<TickHold>) -> Self {
        LeaseKeeper {
            watch: Watch::new(settings.lease),
            settings,
            store: None,
            hold,
            holder: String::new(),
            said: None,
        }
    }

    /// Before the hold ends, a tenth of the lease is left to the others:
    /// their clocks may run a little faster.
    fn hold_for(&self) -> Duration {
        self.settings.lease - self.settings.lease / 10
    }

    /// One try, given at most a third of the lease; whether it holds after.
    pub async fn try_once(&mut self, js: &jetstream::Context) -> bool {
        let tenant = &self.settings.tenant;
        let started = Instant::now();
        let (store, watch, settings) = (&mut self.store, &mut self.watch, &self.settings);
        let tried = tokio::time::timeout(settings.lease / 3, async {
            let kv = match store {
                Some(kv) => kv,
                None => store.insert(bucket(js).await?),
            };
            try_hold(kv, settings, watch, started).await
        })
        .await;
        match tried {
            Ok(Ok(Standing::Holds { after })) => {
                self.hold.held(started, started + self.hold_for(), after)
            }
            Ok(Ok(Standing::Lost(by))) => {
                self.hold.lost();
                self.holder = by;
            }
            // The hold, if any, still ends at its deadline.
            Ok(Err(error)) => {
                tracing::warn!(%tenant, %error, "cannot renew or take the tick lease");
            }
            Err(_) => tracing::warn!(%tenant, "the tick lease's bucket did not answer in time"),
        }
        let holds = self.hold.holds();
        if self.said != Some(holds) {
            let replica = &self.settings.replica;
            match holds {
                true => {
                    tracing::info!(%tenant, %replica, "holding the tick lease: this replica ticks")
                }
                false => {
                    let holder = &self.holder;
                    tracing::info!(%tenant, %replica, %holder, "not holding the tick lease: this replica does not tick")
                }
            }
            self.said = Some(holds);
        }
        holds
    }

    /// Tries for ever (abort the task to stop it): every third of the lease
    /// while it holds, every tenth while it waits to take the lease over.
    pub async fn keep(mut self, js: jetstream::Context) {
        loop {
            let started = Instant::now();
            let holds = self.try_once(&js).await;
            let every = match holds {
                true => self.settings.lease / 3,
                false => self.settings.lease / 10,
            };
            let next = (started + every).saturating_duration_since(Instant::now());
            tokio::time::sleep(next.max(Duration::from_millis(10))).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEASE: Duration = Duration::from_secs(10);

    fn value(holder: &str, renewed_at: &str) -> Vec<u8> {
        serde_json::to_vec(&LeaseValue {
            holder: holder.into(),
            renewed_at: renewed_at.parse().unwrap(),
        })
        .unwrap()
    }

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    #[test]
    fn an_absent_lease_is_created() {
        let mut watch = Watch::new(LEASE);
        assert_eq!(watch.decide("r1", None, Instant::now()), Step::Create);
    }

    #[test]
    fn the_holder_renews_on_the_revision_it_read_whatever_its_stored_time() {
        let t0 = Instant::now();
        let mut watch = Watch::new(LEASE);
        let old = value("r1", "2001-01-01T00:00:00Z");
        assert_eq!(watch.decide("r1", Some((&old, 7)), t0), Step::Renew(7));
    }

    #[test]
    fn another_takes_over_only_after_a_whole_lease_of_one_revision_on_its_own_clock() {
        let t0 = Instant::now();
        let mut watch = Watch::new(LEASE);
        // The holder's clock runs a day ahead, or a day behind: no matter.
        for stored in ["2026-12-03T00:00:00Z", "2026-12-01T00:00:00Z"] {
            let held = value("r1", stored);
            let mut watch = Watch::new(LEASE);
            assert!(matches!(
                watch.decide("r2", Some((&held, 7)), t0),
                Step::Wait { left, .. } if left == LEASE
            ));
            assert!(matches!(
                watch.decide("r2", Some((&held, 7)), t0 + secs(9.999)),
                Step::Wait { .. }
            ));
            assert_eq!(
                watch.decide("r2", Some((&held, 7)), t0 + LEASE),
                Step::TakeOver(7)
            );
        }
        // A renewal (a new revision) starts the count again.
        let held = value("r1", "2026-12-02T00:00:00Z");
        assert!(matches!(
            watch.decide("r2", Some((&held, 7)), t0),
            Step::Wait { .. }
        ));
        assert_eq!(
            watch.decide("r2", Some((&held, 8)), t0 + secs(9.0)),
            Step::Wait {
                holder: "r1".into(),
                left: LEASE
            }
        );
        assert!(matches!(
            watch.decide("r2", Some((&held, 8)), t0 + secs(18.9)),
            Step::Wait { .. }
        ));
        assert_eq!(
            watch.decide("r2", Some((&held, 8)), t0 + secs(19.0)),
            Step::TakeOver(8)
        );
    }

    #[test]
    fn a_value_no_replica_wrote_is_taken_over_once_it_has_stood_for_a_lease() {
        let t0 = Instant::now();
        let mut watch = Watch::new(LEASE);
        assert!(matches!(
            watch.decide("r2", Some((b"garbage", 3)), t0),
            Step::Wait { .. }
        ));
        assert_eq!(
            watch.decide("r2", Some((b"garbage", 3)), t0 + LEASE),
            Step::TakeOver(3)
        );
    }

    #[test]
    fn a_replica_that_saw_the_key_vanish_counts_afresh() {
        let t0 = Instant::now();
        let mut watch = Watch::new(LEASE);
        let held = value("r1", "2026-12-02T00:00:00Z");
        watch.decide("r2", Some((&held, 7)), t0);
        assert_eq!(watch.decide("r2", None, t0 + secs(5.0)), Step::Create);
        assert!(matches!(
            watch.decide("r2", Some((&held, 7)), t0 + LEASE),
            Step::Wait { .. }
        ));
    }

    #[test]
    fn the_lease_key_names_the_tenant() {
        assert_eq!(tick_key("acme"), "acme.ticks");
    }
}
