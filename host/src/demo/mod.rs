//! `dataslo demo`: thirty days of a small warehouse in virtual time, through
//! the real scheduler, policies, ledger and alerts. Five datasets load hourly,
//! with five incidents: a late load, a stalled pipeline, a volume drop, a null
//! spike and a schema change.
//!
//! Depends on config (the default observation retention), service, ledger,
//! runtime, slo and model; only the CLI depends on it.

use crate::ledger::{DEFAULT_TENANT, Ledger, LedgerError, Transition};
use crate::model::{ColumnMetrics, DatasetRef, Observation, SchemaField};
use crate::runtime::Known;
use crate::runtime::{EngineOptions, Limits, Runtime};
use crate::service::{ClockPass, ClockSettings, SchedulerSettings, assemble};
use crate::slo::{Slo, parse_text};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::path::Path;
use std::sync::Arc;

/// The demo's SLO file, as written to the ledger.
pub const SLOS: &str = include_str!("slos.yaml");

/// What the simulation did.
#[derive(Debug)]
pub struct DemoReport {
    /// The SLOs simulated.
    pub slos: Vec<Slo>,
    /// First and last virtual instants.
    pub start: jiff::Timestamp,
    /// The end; status is reported at this time.
    pub end: jiff::Timestamp,
    /// Observations ingested.
    pub observations: usize,
    /// Evaluations recorded.
    pub evaluations: usize,
    /// Alert transitions (pending ones included).
    pub transitions: Vec<Transition>,
}

/// A demo failure.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The ledger failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The demo's own setup failed (a bug, not bad input).
    #[error("demo setup: {0}")]
    Setup(String),
}

const HOUR: i64 = 3600;

fn dataset(namespace: &str, name: &str) -> DatasetRef {
    DatasetRef {
        namespace: namespace.into(),
        name: name.into(),
    }
}

fn ts(second: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_second(second).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

fn base(d: &DatasetRef, at: i64) -> Observation {
    Observation {
        dataset: d.clone(),
        observed_at: ts(at),
        last_modified: Some(ts(at - 300)),
        row_count: None,
        byte_size: None,
        schema: None,
        columns: Default::default(),
        partition: None,
        attributes: Default::default(),
        assertions: Vec::new(),
        run_state: None,
    }
}

/// The observations of hour `h` (from `start`), incidents included.
fn hour_of_data(start: i64, h: i64, rng: &mut StdRng) -> Vec<Observation> {
    let day = h / 24;
    let hour = h % 24;
    let at = |minute: i64| start + h * HOUR + minute * 60;
    let mut out = Vec::new();

    // Orders: late load on day 8, nothing from 02:00 to 08:59.
    if !(day == 8 && (2..9).contains(&hour)) {
        let mut o = base(
            &dataset("postgres://warehouse:5432", "analytics.orders"),
            at(10),
        );
        o.row_count = Some(1_150_000 + rng.random_range(0..100_000));
        out.push(o);
    }
    // Inventory: the pipeline stalls from day 15 06:00 to day 16 12:00.
    let stalled = (15 * 24 + 6..16 * 24 + 12).contains(&h);
    if !stalled {
        out.push(base(&dataset("mysql://erp:3306", "erp.inventory"), at(20)));
    }
    // Events: volume drops to a tenth on day 20 from 09:00 to 16:59.
    let mut e = base(&dataset("s3://lake", "clickstream.events"), at(30));
    let normal = 50_000 + rng.random_range(0..5_000) - 2_500;
    e.row_count = Some(if day == 20 && (9..17).contains(&hour) {
        normal / 10
    } else {
        normal
    });
    out.push(e);
    // Customers: email nulls spike to 40 % on day 24 from 13:00 to 18:59.
    let mut c = base(
        &dataset("postgres://warehouse:5432", "crm.customers"),
        at(40),
    );
    let rows = 100_000 + rng.random_range(0..1_000);
    let spike = day == 24 && (13..19).contains(&hour);
    let nulls = if spike {
        rows * 40 / 100
    } else {
        rng.random_range(200..600)
    };
    c.row_count = Some(rows);
    c.columns.insert(
        "email".into(),
        ColumnMetrics {
            null_count: Some(nulls),
            ..Default::default()
        },
    );
    out.push(c);
    // Payments: `amount` becomes TEXT on day 27 at 10:00, fixed a day later.
    let mut p = base(
        &dataset("postgres://warehouse:5432", "finance.payments"),
        at(50),
    );
    let broken = (27 * 24 + 10..28 * 24 + 10).contains(&h);
    let amount = if broken { "TEXT" } else { "NUMERIC(12,2)" };
    p.schema = Some(
        [
            ("payment_id", "BIGINT"),
            ("order_id", "BIGINT"),
            ("amount", amount),
            ("paid_at", "TIMESTAMPTZ"),
        ]
        .iter()
        .map(|(n, t)| SchemaField {
            name: (*n).into(),
            data_type: (*t).into(),
            nullable: Some(false),
        })
        .collect(),
    );
    out.push(p);
    out
}

/// Simulates `days` days ending at the start of `today` (UTC) into a new
/// ledger in `data_dir`, evaluating alerts every 30 virtual minutes.
pub fn simulate(
    data_dir: &Path,
    days: i64,
    today: jiff::Timestamp,
) -> Result<DemoReport, DemoError> {
    simulate_with_progress(data_dir, days, today, &mut |_, _| {})
}

/// [`simulate`], calling `on_day(day, days)` as each virtual day starts
/// (from 1 to `days`), for a progress line.
pub fn simulate_with_progress(
    data_dir: &Path,
    days: i64,
    today: jiff::Timestamp,
    on_day: &mut dyn FnMut(i64, i64),
) -> Result<DemoReport, DemoError> {
    let catalog = parse_text(SLOS, "demo-slos.yaml");
    if let Some(e) = catalog.errors.first() {
        return Err(DemoError::Setup(e.to_string()));
    }
    // Every observation of the month stays for `dataslo replay`.
    let ledger = Ledger::open(&data_dir.join("ledger"), DEFAULT_TENANT, 100)?
        .with_observation_retention(crate::config::OBSERVATION_RETENTION);
    ledger.save_slo_sources(&[("demo-slos.yaml".into(), SLOS.into())])?;
    let engine = EngineOptions {
        cache_dir: Some(data_dir.join("cache")),
        ..EngineOptions::default()
    };
    let runtime = Runtime::with_engine(Limits::default(), engine)
        .map_err(|e| DemoError::Setup(e.to_string()))?;
    let settings = SchedulerSettings {
        history_depth: 100,
        durable: false,
        ..SchedulerSettings::default()
    };
    let scheduler = assemble(
        &Arc::new(runtime),
        ledger,
        catalog.slos.clone(),
        Known::new(),
        Some(Path::new(".")),
        settings,
    )
    .map_err(|errors| {
        DemoError::Setup(
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
        )
    })?;
    // One tick per 5 virtual minutes, alerts every 30; nothing to notify or prune.
    let mut clock = ClockPass::new(ClockSettings {
        notifiers: Vec::new(),
        retention: None,
        catch_up: 1,
        alerts_every: std::time::Duration::from_secs(1800),
        notify_timeout: std::time::Duration::from_secs(5),
        // The simulation files each hour before judging it: nothing is late.
        lateness: std::time::Duration::ZERO,
    });

    let end = today.as_second().div_euclid(86_400) * 86_400;
    let start = end - days * 86_400;
    let mut rng = StdRng::seed_from_u64(2026);
    let mut observations = 0;
    let mut evaluations = 0;
    let mut transitions = Vec::new();
    for h in 0..days * 24 {
        if h % 24 == 0 {
            on_day(h / 24 + 1, days);
        }
        let mut data = hour_of_data(start, h, &mut rng);
        data.sort_by_key(|o| o.observed_at);
        for step in 0..12 {
            let now = start + h * HOUR + step * 300;
            let due: Vec<Observation> = data
                .iter()
                .filter(|o| {
                    o.observed_at.as_second() < now + 300 && o.observed_at.as_second() >= now
                })
                .cloned()
                .collect();
            let (_, pass) = scheduler.ingest(&due)?;
            observations += due.len();
            evaluations += pass.recorded;
            // The first hour is warm-up: data starts arriving before the clock
            // is watched, as when dataslo is switched on beside a live pipeline.
            if h == 0 {
                continue;
            }
            let pass = clock.run_alone(&scheduler, ts(now))?;
            evaluations += pass.ticked.recorded;
            transitions.extend(pass.transitions);
        }
        if h % 24 == 23 {
            scheduler.ledger().flush()?;
        }
    }
    scheduler.ledger().flush()?;
    Ok(DemoReport {
        slos: catalog.slos,
        start: ts(start),
        end: ts(end),
        observations,
        evaluations,
        transitions,
    })
}
