//! A central replica: `serve` with `[nats] url`. Per tenant, its consumer
//! (this replica's view of the stream), its own records published as site
//! `central`, and the tick lease that lets one replica at a time tick and
//! notify. Each replica has a name of its own, from `[central] replica` or
//! else generated once and kept in `<data_dir>/replica-id`: it names the
//! replica's durable consumer and the lease's holder, which two replicas
//! must never share.

use super::error::ServiceError;
use super::tenants::Service;
use crate::config::{Config, edge_name_ok};
use crate::jetstream::lease::{LeaseKeeper, LeaseSettings};
use crate::jetstream::stream::CENTRAL;
use crate::jetstream::{ConsumeSettings, PublishSettings, consume_records, publish_feed};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// The file holding a replica's generated name, in its data directory.
pub const REPLICA_ID_FILE: &str = "replica-id";

/// Starts every tenant's consumer, publisher and tick lease; their tasks.
/// Call it before the clock starts: a free lease is taken here, so the first
/// clock pass ticks, and no tenant ticks while another replica holds it.
pub async fn start_replica(
    config: &Config,
    service: &Arc<Service>,
) -> Result<Vec<JoinHandle<()>>, ServiceError> {
    let named = config.clone();
    let (replica, generated) = tokio::task::spawn_blocking(move || replica_name(&named))
        .await
        .map_err(|e| ServiceError::ReplicaId {
            file: config.data_dir.join(REPLICA_ID_FILE).display().to_string(),
            reason: e.to_string(),
        })??;
    for tenant in &service.tenants {
        tenant.tick_hold().leave_to_lease();
    }
    let client = crate::jetstream::connect(&config.nats, &format!("dataslo-serve-{replica}"))
        .await
        .map_err(ServiceError::JetStream)?;
    let js = async_nats::jetstream::new(client);
    let mut tasks = Vec::new();
    for tenant in &service.tenants {
        let ledger = tenant.scheduler.ledger().clone();
        // The first start of a feed reads every record the ledger holds.
        let starting = ledger.clone();
        tokio::task::spawn_blocking(move || starting.start_feed())
            .await
            .map_err(|e| ServiceError::Io {
                what: format!("starting the feed of tenant {}", tenant.name),
                error: std::io::Error::other(e.to_string()),
            })??;
        tasks.push(tokio::spawn(consume_records(
            js.clone(),
            tenant.name.clone(),
            ledger.clone(),
            ConsumeSettings {
                replica: Some(replica.clone()),
                ..Default::default()
            },
        )));
        tasks.push(tokio::spawn(publish_feed(
            ledger,
            js.clone(),
            PublishSettings {
                tenant: tenant.name.clone(),
                site: CENTRAL.into(),
                idle: config.poll_interval.min(Duration::from_millis(200)),
                retry: Duration::from_secs(1),
            },
        )));
        let mut lease = LeaseKeeper::new(
            LeaseSettings {
                tenant: tenant.name.clone(),
                replica: replica.clone(),
                lease: config.central.tick_lease,
            },
            tenant.tick_hold(),
        );
        lease.try_once(&js).await;
        tasks.push(tokio::spawn(lease.keep(js.clone())));
    }
    let named = match generated {
        Some(file) => format!("generated, kept in {}", file.display()),
        None => "[central] replica".into(),
    };
    tracing::info!(
        %replica, named, "central replica: consuming, publishing and asking for the tick lease"
    );
    Ok(tasks)
}

/// This replica's name: `[central] replica`, or else the one kept in
/// `<data_dir>/replica-id`, generated at its first start (then, the file).
pub fn replica_name(config: &Config) -> Result<(String, Option<PathBuf>), ServiceError> {
    if let Some(name) = &config.central.replica {
        return Ok((name.clone(), None));
    }
    let file = config.data_dir.join(REPLICA_ID_FILE);
    let name = read_or_make(&file)?;
    Ok((name, Some(file)))
}

fn read_or_make(file: &Path) -> Result<String, ServiceError> {
    let failed = |reason: String| ServiceError::ReplicaId {
        file: file.display().to_string(),
        reason,
    };
    match std::fs::read_to_string(file) {
        Ok(text) => {
            let name = text.trim();
            match edge_name_ok(name) {
                true => Ok(name.to_string()),
                false => Err(failed(format!(
                    "{name:?} is not a replica name (1 to 64 lowercase letters, digits, dashes \
                     and underscores); fix it, or delete the file for a new one"
                ))),
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            use rand::Rng;
            let mut rng: rand::rngs::StdRng = rand::make_rng();
            let name = format!("r-{:016x}", rng.next_u64());
            // Written whole or not at all: a half-written name would be another.
            let partial = file.with_extension("partial");
            std::fs::write(&partial, format!("{name}\n"))
                .and_then(|()| std::fs::rename(&partial, file))
                .map_err(|e| failed(format!("cannot write it: {e}")))?;
            Ok(name)
        }
        Err(e) => Err(failed(format!("cannot read it: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_replica_name_is_kept_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(REPLICA_ID_FILE);
        let first = read_or_make(&file).unwrap();
        assert!(edge_name_ok(&first), "{first}");
        assert_eq!(read_or_make(&file).unwrap(), first);
        let other = read_or_make(&dir.path().join("other")).unwrap();
        assert_ne!(other, first);
    }

    #[test]
    fn a_replica_id_file_that_holds_no_name_is_refused_by_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(REPLICA_ID_FILE);
        std::fs::write(&file, "Not A Name\n").unwrap();
        let error = read_or_make(&file).unwrap_err().to_string();
        assert!(error.contains(&file.display().to_string()), "{error}");
        assert!(error.contains("not a replica name"), "{error}");
    }
}
