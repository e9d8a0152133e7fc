//! `serve` with `[nats] url`, per tenant: its consumer (this replica's view
//! of the stream), its own records published as site `central`, and the
//! tick lease that lets one replica at a time tick and notify.

use super::Failure;
use super::run::storage;
use crate::jetstream::lease::{LeaseSettings, hold_ticks};
use crate::jetstream::stream::CENTRAL;
use crate::jetstream::{ConsumeSettings, PublishSettings, consume_records, publish_feed};
use crate::service::Service;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Starts every tenant's consumer, publisher and tick lease; their tasks.
/// Call it before the clock starts: no tenant ticks until its lease is held.
pub(super) async fn start(
    config: &crate::config::Config,
    service: &Arc<Service>,
) -> Result<Vec<tokio::task::JoinHandle<()>>, Failure> {
    for tenant in &service.tenants {
        tenant.ticking().store(false, Ordering::SeqCst);
    }
    let replica = config.central.replica.clone();
    let client = crate::jetstream::connect(
        &config.nats,
        &format!("dataslo-serve-{}", replica.as_deref().unwrap_or(CENTRAL)),
    )
    .await
    .map_err(|e| Failure::Input(e.to_string()))?;
    let js = async_nats::jetstream::new(client);
    let mut tasks = Vec::new();
    for tenant in &service.tenants {
        let ledger = tenant.scheduler.ledger().clone();
        ledger.start_feed().map_err(storage)?;
        tasks.push(tokio::spawn(consume_records(
            js.clone(),
            tenant.name.clone(),
            ledger.clone(),
            ConsumeSettings {
                replica: replica.clone(),
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
        tasks.push(tokio::spawn(hold_ticks(
            js.clone(),
            LeaseSettings {
                tenant: tenant.name.clone(),
                replica: replica.clone().unwrap_or_else(|| CENTRAL.into()),
                lease: config.central.tick_lease,
            },
            tenant.ticking(),
        )));
    }
    tracing::info!(
        replica = replica.as_deref().unwrap_or("(unnamed)"),
        "central replica: consuming, publishing and asking for the tick lease"
    );
    Ok(tasks)
}
