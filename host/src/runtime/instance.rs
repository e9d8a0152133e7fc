//! The contract versions the host loads, behind one interface. The host
//! speaks `dataslo:policy@0.2.0`; a 0.1.0 component receives the observation
//! without 0.2.0's fields and no `now` (it reads the WASI wall clock, which
//! shows the same instant), and its answers are converted up.

use super::bindings::{self, v0_1, v0_2};
use super::convert;
use super::sandbox::Sandbox;
use crate::model;
use std::sync::atomic::{AtomicBool, Ordering};
use wasmtime::Store;
use wasmtime::component::{Component, ComponentExportIndex, Func, InstancePre, Linker, TypedFunc};

/// A version of `dataslo:policy` the host loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContractVersion {
    /// `wit/v0.1.0/policy.wit`.
    V0_1,
    /// `wit/policy.wit`.
    V0_2,
}

impl ContractVersion {
    /// Every version loaded, newest first.
    pub const ALL: [ContractVersion; 2] = [ContractVersion::V0_2, ContractVersion::V0_1];

    /// The version as WIT writes it, e.g. `0.2.0`.
    pub fn as_str(self) -> &'static str {
        match self {
            ContractVersion::V0_1 => "0.1.0",
            ContractVersion::V0_2 => "0.2.0",
        }
    }

    /// The version written `text`, if the host loads it.
    pub fn parse(text: &str) -> Option<ContractVersion> {
        Self::ALL.into_iter().find(|v| v.as_str() == text)
    }
}

/// Adds the host's side of every version to `linker`.
pub fn add_to_linker(linker: &mut Linker<Sandbox>) -> wasmtime::Result<()> {
    use wasmtime::component::HasSelf;
    v0_2::Policy::add_to_linker::<_, HasSelf<_>>(linker, |state| state)?;
    v0_1::Policy::add_to_linker::<_, HasSelf<_>>(linker, |state| state)
}

/// A component pre-instantiated for its contract version.
pub enum PolicyPre {
    V0_1(v0_1::PolicyPre<Sandbox>),
    V0_2(Pre0_2),
}

/// A 0.2.0 policy, called through its export indices rather than bindgen's
/// `PolicyPre`, whose every instantiation type-checks the three exports
/// again (walking the observation's record type: 5 % of a fresh
/// evaluation). Here the first instance checks them; the component's types
/// cannot change after.
pub struct Pre0_2 {
    pre: InstancePre<Sandbox>,
    exports: Exports0_2,
    /// An instance's exports have passed wasmtime's type check.
    checked: AtomicBool,
}

/// Where `dataslo:policy/check@0.2.0`'s functions are in the component.
#[derive(Clone, Copy)]
pub struct Exports0_2 {
    describe: ComponentExportIndex,
    validate_config: ComponentExportIndex,
    evaluate: ComponentExportIndex,
}

type DescribeFn = TypedFunc<(), (bindings::PolicyInfo,)>;
type ValidateFn<'a> = TypedFunc<(&'a str,), (Result<(), bindings::PolicyError>,)>;
type EvaluateFn<'a> = TypedFunc<
    (&'a str, &'a bindings::Observation, i64),
    (Result<Vec<bindings::Measurement>, bindings::PolicyError>,),
>;

impl Exports0_2 {
    const INTERFACE: &str = "dataslo:policy/check@0.2.0";

    fn find(component: &Component) -> wasmtime::Result<Self> {
        let missing = |name: &str| {
            wasmtime::Error::msg(format!(
                "the component does not export `{name}` of `{}`",
                Self::INTERFACE
            ))
        };
        let (_, interface) = component
            .get_export(None, Self::INTERFACE)
            .ok_or_else(|| missing("the interface"))?;
        let func = |name: &str| {
            component
                .get_export_index(Some(&interface), name)
                .ok_or_else(|| missing(name))
        };
        Ok(Exports0_2 {
            describe: func("describe")?,
            validate_config: func("validate-config")?,
            evaluate: func("evaluate")?,
        })
    }
}

impl PolicyPre {
    /// Links `component` as a policy of `version`.
    pub fn new(
        linker: &Linker<Sandbox>,
        component: &Component,
        version: ContractVersion,
    ) -> wasmtime::Result<Self> {
        let pre = linker.instantiate_pre(component)?;
        Ok(match version {
            ContractVersion::V0_1 => PolicyPre::V0_1(v0_1::PolicyPre::new(pre)?),
            ContractVersion::V0_2 => {
                // bindgen's check that the world's exports are there.
                v0_2::PolicyPre::new(pre.clone())?;
                PolicyPre::V0_2(Pre0_2 {
                    exports: Exports0_2::find(component)?,
                    pre,
                    checked: AtomicBool::new(false),
                })
            }
        })
    }

    /// The contract version it was linked as.
    pub fn version(&self) -> ContractVersion {
        match self {
            PolicyPre::V0_1(_) => ContractVersion::V0_1,
            PolicyPre::V0_2(_) => ContractVersion::V0_2,
        }
    }

    /// A fresh instance in `store`.
    pub fn instantiate(&self, store: &mut Store<Sandbox>) -> wasmtime::Result<Instance> {
        Ok(match self {
            PolicyPre::V0_1(pre) => Instance::V0_1(pre.instantiate(store)?),
            PolicyPre::V0_2(pre) => {
                let instance = pre.pre.instantiate(&mut *store)?;
                let exports = pre.exports;
                if !pre.checked.load(Ordering::Relaxed) {
                    // The same types the calls below assume, checked.
                    let _: DescribeFn = instance.get_typed_func(&mut *store, exports.describe)?;
                    let _: ValidateFn<'_> =
                        instance.get_typed_func(&mut *store, exports.validate_config)?;
                    let _: EvaluateFn<'_> =
                        instance.get_typed_func(&mut *store, exports.evaluate)?;
                    pre.checked.store(true, Ordering::Relaxed);
                }
                Instance::V0_2 { instance, exports }
            }
        })
    }
}

/// An instance of a policy of either version.
pub enum Instance {
    V0_1(v0_1::Policy),
    V0_2 {
        instance: wasmtime::component::Instance,
        exports: Exports0_2,
    },
}

/// An observation as one contract version carries it, converted before a call.
pub enum WitObservation {
    V0_1(v0_1::dataslo::policy::types::Observation),
    V0_2(bindings::Observation),
}

/// Records holding more than this (list entries and string bytes, by
/// capacity) are dropped, not kept for the next call: a thread keeps at most
/// one, and one huge observation must not stay resident on every worker.
const SPARE_BYTES: usize = 64 << 10;

thread_local! {
    /// The last call's 0.2.0 record on this thread, refilled by the next
    /// (see [`convert::observation_into`]) instead of allocated anew.
    static SPARE: std::cell::Cell<Option<bindings::Observation>> =
        const { std::cell::Cell::new(None) };
}

impl WitObservation {
    pub fn new(obs: &model::Observation, version: ContractVersion) -> Self {
        match version {
            ContractVersion::V0_1 => WitObservation::V0_1(convert::observation_v0_1(obs)),
            ContractVersion::V0_2 => {
                let mut record = SPARE.take().unwrap_or_else(convert::empty_observation);
                convert::observation_into(obs, &mut record);
                WitObservation::V0_2(record)
            }
        }
    }
}

impl Drop for WitObservation {
    fn drop(&mut self) {
        if let WitObservation::V0_2(record) = self
            && retained_bytes(record) <= SPARE_BYTES
        {
            let record = std::mem::replace(record, convert::empty_observation());
            // `try_with`: during a thread's exit the slot may be gone already.
            let _ = SPARE.try_with(|spare| spare.set(Some(record)));
        }
    }
}

/// The heap a kept record holds: its lists' and strings' capacities.
fn retained_bytes(record: &bindings::Observation) -> usize {
    let list = |capacity: usize, item: usize| capacity * item;
    let mut bytes = record.dataset.namespace.capacity()
        + record.dataset.name.capacity()
        + record.partition.as_ref().map_or(0, String::capacity);
    if let Some(schema) = &record.schema {
        bytes += list(schema.capacity(), size_of::<bindings::SchemaField>());
        bytes += schema
            .iter()
            .map(|f| f.name.capacity() + f.data_type.capacity())
            .sum::<usize>();
    }
    bytes += list(
        record.columns.capacity(),
        size_of::<bindings::ColumnMetrics>(),
    );
    for c in &record.columns {
        bytes +=
            c.column.capacity() + list(c.quantiles.capacity(), size_of::<bindings::Quantile>());
    }
    bytes += list(record.attributes.capacity(), size_of::<(String, String)>());
    bytes += record
        .attributes
        .iter()
        .map(|(k, v)| k.capacity() + v.capacity())
        .sum::<usize>();
    bytes += list(
        record.assertions.capacity(),
        size_of::<bindings::Assertion>(),
    );
    bytes += record
        .assertions
        .iter()
        .map(|a| a.name.capacity() + a.column.as_ref().map_or(0, String::capacity))
        .sum::<usize>();
    bytes
}

type Answer<T> = wasmtime::Result<Result<T, bindings::PolicyError>>;

/// The function at `index` in `instance`.
fn export(
    instance: &wasmtime::component::Instance,
    store: &mut Store<Sandbox>,
    index: ComponentExportIndex,
) -> wasmtime::Result<Func> {
    instance
        .get_func(store, index)
        .ok_or_else(|| wasmtime::Error::msg("a checked export is missing from its instance"))
}

impl Instance {
    /// `describe()`.
    pub fn describe(&self, store: &mut Store<Sandbox>) -> wasmtime::Result<bindings::PolicyInfo> {
        match self {
            Instance::V0_1(i) => i
                .dataslo_policy_check()
                .call_describe(store)
                .map(convert::info_v0_1),
            Instance::V0_2 { instance, exports } => {
                let func = export(instance, store, exports.describe)?;
                // SAFETY: `Pre0_2::instantiate` checked this export's type
                // on an instance of the same component.
                let typed: DescribeFn = unsafe { TypedFunc::new_unchecked(func) };
                Ok(typed.call(store, ())?.0)
            }
        }
    }

    /// `validate-config(config)`.
    pub fn validate_config(&self, store: &mut Store<Sandbox>, config: &str) -> Answer<()> {
        match self {
            Instance::V0_1(i) => i
                .dataslo_policy_check()
                .call_validate_config(store, config)
                .map(|answer| answer.map_err(convert::error_v0_1)),
            Instance::V0_2 { instance, exports } => {
                let func = export(instance, store, exports.validate_config)?;
                // SAFETY: as in `describe`.
                let typed: ValidateFn<'_> = unsafe { TypedFunc::new_unchecked(func) };
                Ok(typed.call(store, (config,))?.0)
            }
        }
    }

    /// `evaluate(config, observation, now)`; 0.1.0 has no `now` parameter.
    pub fn evaluate(
        &self,
        store: &mut Store<Sandbox>,
        config: &str,
        observation: &WitObservation,
        now: i64,
    ) -> Answer<Vec<bindings::Measurement>> {
        match (self, observation) {
            (Instance::V0_1(i), WitObservation::V0_1(obs)) => i
                .dataslo_policy_check()
                .call_evaluate(store, config, obs)
                .map(|answer| {
                    answer
                        .map(|list| list.into_iter().map(convert::measurement_v0_1).collect())
                        .map_err(convert::error_v0_1)
                }),
            (Instance::V0_2 { instance, exports }, WitObservation::V0_2(obs)) => {
                let func = export(instance, store, exports.evaluate)?;
                // SAFETY: as in `describe`.
                let typed: EvaluateFn<'_> = unsafe { TypedFunc::new_unchecked(func) };
                Ok(typed.call(store, (config, obs, now))?.0)
            }
            // The host converts by the policy's own version: a bug if not.
            _ => Err(wasmtime::Error::msg(
                "the host converted the observation for another contract version",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_versions_named_are_the_versions_loaded() {
        let named: Vec<&str> = ContractVersion::ALL.iter().map(|v| v.as_str()).collect();
        assert_eq!(named, super::super::WIT_VERSIONS);
        assert_eq!(named[0], super::super::WIT_VERSION);
    }

    #[test]
    fn a_thread_keeps_the_record_of_a_small_observation_and_drops_a_huge_ones() {
        let obs = |value: &str| {
            let text = format!(
                r#"{{"dataset":{{"namespace":"s3://b","name":"t"}},"observed_at":"2026-11-26T08:00:00Z","attributes":{{"k":"{value}"}}}}"#
            );
            model::parse_observation(&text, "t.json").expect("parses")
        };
        let kept = |o: &model::Observation| {
            SPARE.take();
            drop(WitObservation::new(o, ContractVersion::V0_2));
            SPARE.take().is_some()
        };
        assert!(kept(&obs("small")));
        assert!(
            !kept(&obs(&"x".repeat(SPARE_BYTES))),
            "a 64 KiB string stays resident"
        );
    }
}
