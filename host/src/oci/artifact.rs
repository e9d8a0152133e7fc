//! The CNCF Wasm OCI artifact layout (tag-runtime's wasm-oci-artifact): a
//! config `application/vnd.wasm.config.v0+json` and one layer
//! `application/wasm` holding the component.

use serde::{Deserialize, Serialize};

/// The config blob's media type.
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.wasm.config.v0+json";
/// The one layer's media type.
pub const LAYER_MEDIA_TYPE: &str = "application/wasm";

/// The config blob: what the artifact is, for tools that list it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WasmConfig {
    /// When it was pushed (RFC 3339).
    pub created: String,
    /// Always `wasm`.
    pub architecture: String,
    /// `wasip2`: a component.
    pub os: String,
    /// The layers' digests, in manifest order, so each config is unique.
    pub layer_digests: Vec<String>,
    /// The component's imports and exports.
    pub component: ComponentInfo,
}

/// What the component imports and exports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComponentInfo {
    /// Export names, e.g. `dataslo:policy/check@0.2.0`.
    pub exports: Vec<String>,
    /// Import names.
    pub imports: Vec<String>,
}

impl WasmConfig {
    /// The config of a component with layer digest `layer` (`sha256:…`).
    pub fn new(layer: String, exports: Vec<String>, imports: Vec<String>) -> Self {
        WasmConfig {
            created: jiff::Timestamp::now().to_string(),
            architecture: "wasm".into(),
            os: "wasip2".into(),
            layer_digests: vec![layer],
            component: ComponentInfo { exports, imports },
        }
    }
}
