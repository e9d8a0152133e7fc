//! E3 helpers: where the Extism plugin is, and the JSON it is called with.
//! The measurements are in `benches/peer.rs`; run them with `./run.sh`.

use dataslo::model::Observation;
use serde::Serialize;
use std::path::PathBuf;

/// The plugin `run.sh` builds (`plugin/`, release, wasm32-unknown-unknown).
pub fn plugin_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("plugin/target/wasm32-unknown-unknown/release/freshness_extism.wasm")
}

/// One call's input to the plugin: what dataslo passes to a policy, as JSON.
#[derive(Serialize)]
pub struct Input<'a> {
    /// The SLO's config, as JSON text.
    pub config: &'a str,
    /// The evaluation's now, in nanoseconds since the epoch.
    pub now: i64,
    /// The observation, in the host's own JSON form.
    pub observation: &'a Observation,
}

/// `input` serialised, as an Extism host sends it.
pub fn input_json(input: &Input<'_>) -> Vec<u8> {
    serde_json::to_vec(input).expect("an observation serialises")
}
