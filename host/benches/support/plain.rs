//! Plain wasmtime, for the floors of `benches/floor.rs`: the policy world
//! bound by wasmtime's own `bindgen!`, a host whose imports do nothing, and
//! the observation as a WIT record. No dataslo runtime code runs in a call.

use ::dataslo::model;
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Engine, Store};

mod world {
    wasmtime::component::bindgen!({ path: "../wit", world: "policy" });
}

use world::dataslo::policy::{host, types as wit};
use world::{Policy, PolicyPre};

/// The store's state: the imports answer nothing and keep nothing.
pub struct Host;

impl wit::Host for Host {}

impl host::Host for Host {
    fn history(&mut self, _: u32) -> Vec<wit::Observation> {
        Vec::new()
    }
    fn log(&mut self, _: wit::Level, _: String) {}
    fn panic_bytes(&mut self, _: u64, _: u8) {}
}

/// A component pre-instantiated for plain wasmtime.
pub struct Plain {
    pub engine: Engine,
    pub pre: PolicyPre<Host>,
}

impl Plain {
    /// `bytes` compiled and linked on `engine`.
    pub fn new(engine: &Engine, bytes: &[u8]) -> Self {
        let engine = engine.clone();
        let component = Component::new(&engine, bytes).expect("component");
        let mut linker = Linker::<Host>::new(&engine);
        Policy::add_to_linker::<_, HasSelf<_>>(&mut linker, |h| h).expect("links");
        let pre =
            PolicyPre::new(linker.instantiate_pre(&component).expect("pre")).expect("a policy");
        Plain { engine, pre }
    }

    /// A store with a deadline far away (the engine interrupts by epoch).
    pub fn store(&self) -> Store<Host> {
        let mut store = Store::new(&self.engine, Host);
        store.set_epoch_deadline(1 << 40);
        store
    }
}

impl Plain {
    /// One `evaluate` in a fresh store and instance, dropped after.
    pub fn fresh(&self, config: &str, obs: &wit::Observation, now: i64) -> Vec<wit::Measurement> {
        let mut store = self.store();
        let instance = self.pre.instantiate(&mut store).expect("instantiates");
        evaluate(&mut store, &instance, config, obs, now)
    }
}

/// One `evaluate` call; panics unless it answers with measurements.
pub fn evaluate(
    store: &mut Store<Host>,
    policy: &Policy,
    config: &str,
    obs: &wit::Observation,
    now: i64,
) -> Vec<wit::Measurement> {
    policy
        .dataslo_policy_check()
        .call_evaluate(store, config, obs, now)
        .expect("calls")
        .expect("measures")
}

fn nanos(ts: jiff::Timestamp) -> i64 {
    ts.as_nanosecond() as i64
}

/// The observation as the WIT record (what dataslo's `convert` builds).
pub fn observation(obs: &model::Observation) -> wit::Observation {
    wit::Observation {
        dataset: wit::DatasetId {
            namespace: obs.dataset.namespace.clone(),
            name: obs.dataset.name.clone(),
        },
        observed_at: nanos(obs.observed_at),
        last_modified: obs.last_modified.map(nanos),
        row_count: obs.row_count,
        byte_size: obs.byte_size,
        schema: obs.schema.as_ref().map(|fields| {
            fields
                .iter()
                .map(|f| wit::SchemaField {
                    name: f.name.clone(),
                    data_type: f.data_type.clone(),
                    nullable: f.nullable,
                })
                .collect()
        }),
        columns: obs
            .columns
            .iter()
            .map(|(name, c)| wit::ColumnMetrics {
                column: name.clone(),
                null_count: c.null_count,
                distinct_count: c.distinct_count,
                sum: c.sum,
                count: c.count,
                min: c.min,
                max: c.max,
                quantiles: (c.quantiles.0.iter())
                    .map(|&(q, value)| wit::Quantile { q, value })
                    .collect(),
            })
            .collect(),
        partition: obs.partition.clone(),
        attributes: (obs.attributes.iter())
            .map(|(k, v)| (k.clone(), v.to_string()))
            .collect(),
        assertions: (obs.assertions.iter())
            .map(|a| wit::Assertion {
                name: a.name.clone(),
                column: a.column.clone(),
                success: a.success,
            })
            .collect(),
        // examples/orders.json has none; the floor needs no mapping.
        run_state: None,
    }
}
