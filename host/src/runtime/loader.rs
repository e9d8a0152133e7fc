//! Loading: bytes to a checked, compiled, pre-instantiated [`Policy`].

use super::cache::Lookup;
use super::engine::Runtime;
use super::error::{LoadError, LoadErrorKind};
use super::footprint::pool_refusal;
use super::instance::{ContractVersion, PolicyPre};
use super::{WIT_PACKAGE, WIT_VERSIONS};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use wasmtime::Engine;
use wasmtime::component::Component;

/// A loaded policy: compiled once, checked against the contract, and ready to
/// instantiate cheaply for each call.
pub struct Policy {
    pub(super) label: String,
    pub(super) sha256: [u8; 32],
    pub(super) pre: PolicyPre,
    /// Its code, shared with the policies loaded from the same bytes.
    _code: Arc<Component>,
    pub(super) info: PolicyInfo,
    pub(super) interface: InterfaceInfo,
    pub(super) manifest: Option<String>,
    /// Whether it imports any WASI interface: only then can it read the
    /// per-call random seed (or write stdio), so only then is it derived.
    pub(super) imports_wasi: bool,
}

impl Policy {
    /// The name the policy was loaded under (a path or `builtin:NAME`).
    pub fn label(&self) -> &str {
        &self.label
    }
    /// The sha256 of the component's bytes, in hex.
    pub fn sha256_hex(&self) -> String {
        hex::encode(self.sha256)
    }
    /// The sha256 of the component's bytes.
    pub fn sha256(&self) -> [u8; 32] {
        self.sha256
    }
    /// What `describe()` answered at load time.
    pub fn info(&self) -> &PolicyInfo {
        &self.info
    }
    /// The component's world, version, imports and exports.
    pub fn interface(&self) -> &InterfaceInfo {
        &self.interface
    }
    /// The OCI manifest digest (hex) it was pulled as, for an `oci://` policy.
    pub fn manifest_digest(&self) -> Option<&str> {
        self.manifest.as_deref()
    }
    /// Records the OCI manifest digest (hex) the component was pulled as.
    pub fn set_manifest_digest(&mut self, hex: String) {
        self.manifest = Some(hex);
    }
    /// The version of `dataslo:policy` it was built against, e.g. `0.2.0`.
    pub fn contract_version(&self) -> &'static str {
        self.pre.version().as_str()
    }
}

/// What a policy says about itself.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyInfo {
    /// Short name.
    pub name: String,
    /// The policy's own version.
    pub version: String,
    /// For humans.
    pub description: String,
    /// SLI names it may emit.
    pub slis: Vec<String>,
    /// A JSON Schema of its config.
    pub config_schema: serde_json::Value,
}

/// What a component imports and exports, read without running it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InterfaceInfo {
    /// The WIT package of its `check` export, e.g. `dataslo:policy`, if any.
    pub package: Option<String>,
    /// That package's version, e.g. `0.1.0`.
    pub version: Option<String>,
    /// Import names.
    pub imports: Vec<String>,
    /// Export names.
    pub exports: Vec<String>,
}

/// `ns:pkg/interface@version` split into (`ns:pkg`, `interface`, `version`).
fn split_name(name: &str) -> Option<(&str, &str, Option<&str>)> {
    let (path, version) = match name.split_once('@') {
        Some((p, v)) => (p, Some(v)),
        None => (name, None),
    };
    let (package, interface) = path.split_once('/')?;
    Some((package, interface, version))
}

/// Reads a compiled component's imports and exports.
pub fn interface_of(engine: &Engine, component: &Component) -> InterfaceInfo {
    let ty = component.component_type();
    let imports: Vec<String> = ty
        .imports(engine)
        .map(|(name, _)| name.to_string())
        .collect();
    let exports: Vec<String> = ty
        .exports(engine)
        .map(|(name, _)| name.to_string())
        .collect();
    let check = exports
        .iter()
        .filter_map(|e| split_name(e))
        .find(|(_, iface, _)| *iface == "check")
        .or_else(|| exports.iter().filter_map(|e| split_name(e)).next());
    InterfaceInfo {
        package: check.map(|(p, _, _)| p.to_string()),
        version: check.and_then(|(_, _, v)| v.map(str::to_string)),
        imports,
        exports,
    }
}

/// The versions loaded, e.g. `dataslo:policy@0.2.0 or @0.1.0 (world ...)`.
fn expected() -> String {
    let versions: Vec<String> = WIT_VERSIONS.iter().map(|v| format!("@{v}")).collect();
    format!(
        "{WIT_PACKAGE}{} (world `policy`, export `{WIT_PACKAGE}/check@VERSION`)",
        versions.join(" or ")
    )
}

/// Checks names before linking, so a mismatch says which versions differ,
/// and tells which contract version the component was built against.
fn check_interface(info: &InterfaceInfo) -> Result<ContractVersion, LoadErrorKind> {
    let mismatch = |found: String| LoadErrorKind::InterfaceMismatch {
        expected: expected(),
        found,
    };
    fn ours(name: &str) -> Option<(&str, &str, Option<&str>)> {
        split_name(name).filter(|(p, _, _)| *p == WIT_PACKAGE)
    }
    for name in info.imports.iter().chain(&info.exports) {
        if let Some((_, _, version)) = ours(name)
            && version.and_then(ContractVersion::parse).is_none()
        {
            return Err(mismatch(format!(
                "{WIT_PACKAGE}@{} (in `{name}`)",
                version.unwrap_or("unversioned")
            )));
        }
    }
    let exported = ContractVersion::ALL.into_iter().find(|v| {
        info.exports
            .contains(&format!("{WIT_PACKAGE}/check@{}", v.as_str()))
    });
    let Some(version) = exported else {
        let found = if info.exports.is_empty() {
            "a component with no exports".to_string()
        } else {
            format!("a component exporting {}", info.exports.join(", "))
        };
        return Err(mismatch(found));
    };
    // One component, one contract: 0.1.0's imports with 0.2.0's export do not link.
    if let Some(other) = info
        .imports
        .iter()
        .chain(&info.exports)
        .find(|name| ours(name).is_some_and(|(_, _, v)| v != Some(version.as_str())))
    {
        return Err(mismatch(format!(
            "{WIT_PACKAGE}@{} (in `{other}`) beside an export of @{}",
            ours(other).and_then(|(_, _, v)| v).unwrap_or("unversioned"),
            version.as_str()
        )));
    }
    if let Some(foreign) = info
        .imports
        .iter()
        .find(|i| !i.starts_with("wasi:") && ours(i).is_none())
    {
        return Err(mismatch(format!(
            "an import of `{foreign}`, which dataslo does not provide"
        )));
    }
    Ok(version)
}

/// Where bytes come from: the built-ins are ours, compiled in-process and
/// unmeasured; everything else is compiled within the compile limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Trust {
    Builtin,
    Untrusted,
}

/// Classifies bytes that wasmtime refused, or that are plainly not a component.
fn check_bytes(bytes: &[u8]) -> Result<(), LoadErrorKind> {
    if wasmparser::Parser::is_component(bytes) {
        return Ok(());
    }
    if wasmparser::Parser::is_core_wasm(bytes) {
        return Err(LoadErrorKind::NotAComponent);
    }
    if bytes.starts_with(b"\0asm") {
        return Err(LoadErrorKind::Corrupt(
            "unsupported WebAssembly version or layer in the header".into(),
        ));
    }
    let head: Vec<String> = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
    Err(LoadErrorKind::Corrupt(if bytes.is_empty() {
        "the file is empty".into()
    } else {
        format!("not WebAssembly (starts with {})", head.join(" "))
    }))
}

impl Runtime {
    /// Compiles `bytes` within the compile limits, checks them against the
    /// contract, pre-instantiates them and calls `describe()`. `label` names
    /// the policy in errors.
    pub fn load(&self, label: &str, bytes: &[u8]) -> Result<Policy, LoadError> {
        self.load_as(label, bytes, Trust::Untrusted)
    }

    /// [`Runtime::load`], for bytes of `trust`.
    pub(super) fn load_as(
        &self,
        label: &str,
        bytes: &[u8],
        trust: Trust,
    ) -> Result<Policy, LoadError> {
        let fail = |kind| LoadError {
            policy: label.to_string(),
            kind,
        };
        let sha256: [u8; 32] = Sha256::digest(bytes).into();
        self.fit_pool(bytes).map_err(fail)?;
        let component = self
            .code
            .get_or_compile(&sha256, || self.compile_cached(bytes, &sha256, trust))
            .map_err(fail)?;
        self.load_component(label, sha256, component)
    }

    /// Checks a compiled component against the contract, pre-instantiates
    /// it and calls `describe()`.
    fn load_component(
        &self,
        label: &str,
        sha256: [u8; 32],
        component: Arc<Component>,
    ) -> Result<Policy, LoadError> {
        let fail = |kind| LoadError {
            policy: label.to_string(),
            kind,
        };
        let interface = interface_of(&self.engine, &component);
        let version = check_interface(&interface).map_err(fail)?;
        let pre = PolicyPre::new(&self.linker, &component, version).map_err(|e| {
            fail(LoadErrorKind::InterfaceMismatch {
                expected: expected(),
                found: format!("{e:#}"),
            })
        })?;
        let imports_wasi = interface.imports.iter().any(|i| i.starts_with("wasi:"));
        let mut policy = Policy {
            label: label.to_string(),
            sha256,
            pre,
            imports_wasi,
            info: PolicyInfo {
                name: String::new(),
                version: String::new(),
                description: String::new(),
                slis: Vec::new(),
                config_schema: serde_json::Value::Null,
            },
            interface,
            manifest: None,
            _code: component,
        };
        policy.info = self
            .describe(&policy)
            .map_err(|e| fail(LoadErrorKind::Describe(e.kind)))?;
        Ok(policy)
    }

    /// Compiles a component within the compile limits, classifying bad bytes.
    pub fn compile(&self, bytes: &[u8]) -> Result<Component, LoadErrorKind> {
        self.compile_as(bytes, Trust::Untrusted)
    }

    fn compile_as(&self, bytes: &[u8], trust: Trust) -> Result<Component, LoadErrorKind> {
        check_bytes(bytes)?;
        let compiled = match trust {
            Trust::Untrusted => self.compile_untrusted(bytes),
            Trust::Builtin => Component::new(&self.engine, bytes)
                .map_err(|e| LoadErrorKind::Corrupt(format!("{e:#}"))),
        };
        // wasmtime's own pool refusals read as corrupt bytes: name the setting.
        let component = compiled.map_err(|kind| match kind {
            LoadErrorKind::Corrupt(text) => {
                pool_refusal(&text).unwrap_or(LoadErrorKind::Corrupt(text))
            }
            other => other,
        })?;
        self.counters.compiled();
        Ok(component)
    }

    /// The compiled component of `bytes` (hashing to `sha256`): from the disk
    /// cache when a trusted entry exists, else compiled and cached.
    fn compile_cached(
        &self,
        bytes: &[u8],
        sha256: &[u8; 32],
        trust: Trust,
    ) -> Result<Component, LoadErrorKind> {
        let Some(cache) = &self.cache else {
            return self.compile_as(bytes, trust);
        };
        match cache.get(&self.engine, sha256) {
            Lookup::Hit(component) => {
                self.counters.hit();
                return Ok(component);
            }
            Lookup::Miss => {}
            Lookup::Discarded(reason) => {
                self.counters.discarded();
                tracing::warn!(%reason, "compile cache entry not trusted, recompiling");
            }
        }
        let component = self.compile_as(bytes, trust)?;
        if let Err(e) = cache.put(sha256, &component) {
            tracing::warn!(dir = %cache.dir().display(), error = %e, "cannot write to the compile cache");
            return Ok(component);
        }
        // Run from the entry just written, as a hit would: its code is then
        // a mapping of the file (shared with the page cache, resident only
        // where touched) instead of anonymous memory, ~0.6 MB a policy. The
        // entry goes through every check of a hit.
        match cache.get(&self.engine, sha256) {
            Lookup::Hit(mapped) => Ok(mapped),
            Lookup::Miss | Lookup::Discarded(_) => {
                tracing::warn!(dir = %cache.dir().display(), "compile cache entry unreadable after writing it; running the compiled code");
                Ok(component)
            }
        }
    }

    /// Compiles `bytes` and reads their imports and exports, running nothing.
    pub fn inspect(&self, bytes: &[u8]) -> Result<InterfaceInfo, LoadErrorKind> {
        self.fit_pool(bytes)?;
        self.compile(bytes).map(|c| interface_of(&self.engine, &c))
    }

    /// Compiles `bytes` once (within the compile limits), reads their
    /// imports and exports, then loads them as [`Runtime::load`] does: the
    /// interface, and the policy or why it does not load. Only a compile
    /// that fails is an error.
    pub fn inspect_and_load(
        &self,
        label: &str,
        bytes: &[u8],
    ) -> Result<(InterfaceInfo, Result<Policy, LoadError>), LoadError> {
        let fail = |kind| LoadError {
            policy: label.to_string(),
            kind,
        };
        self.fit_pool(bytes).map_err(fail)?;
        let sha256: [u8; 32] = Sha256::digest(bytes).into();
        let component = self
            .code
            .get_or_compile(&sha256, || self.compile(bytes))
            .map_err(fail)?;
        let interface = interface_of(&self.engine, &component);
        Ok((interface, self.load_component(label, sha256, component)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(imports: &[&str], exports: &[&str]) -> InterfaceInfo {
        InterfaceInfo {
            package: None,
            version: None,
            imports: imports.iter().map(|s| s.to_string()).collect(),
            exports: exports.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn both_contract_versions_pass_and_are_told_apart() {
        for version in ["0.1.0", "0.2.0"] {
            let ok = info(
                &[
                    "wasi:cli/environment@0.2.6",
                    &format!("dataslo:policy/host@{version}"),
                ],
                &[&format!("dataslo:policy/check@{version}")],
            );
            assert_eq!(
                check_interface(&ok).map(ContractVersion::as_str),
                Ok(version)
            );
        }
    }

    #[test]
    fn another_version_names_the_versions_supported_and_the_one_found() {
        let err = check_interface(&info(&[], &["dataslo:policy/check@0.3.0"]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("expected dataslo:policy@0.2.0 or @0.1.0")
                && err.contains("found dataslo:policy@0.3.0"),
            "{err}"
        );
    }

    #[test]
    fn versions_are_not_mixed_in_one_component() {
        let err = check_interface(&info(
            &["dataslo:policy/host@0.1.0"],
            &["dataslo:policy/check@0.2.0"],
        ))
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("found dataslo:policy@0.1.0 (in `dataslo:policy/host@0.1.0`) beside an export of @0.2.0"),
            "{err}"
        );
    }

    #[test]
    fn a_foreign_world_is_named() {
        let err = check_interface(&info(&[], &["acme:thing/run@1.0.0"]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("acme:thing/run@1.0.0"), "{err}");
        let err = check_interface(&info(&["acme:db/query"], &["dataslo:policy/check@0.1.0"]))
            .unwrap_err();
        assert!(err.to_string().contains("acme:db/query"), "{err}");
    }

    #[test]
    fn bytes_are_classified_before_compiling() {
        assert_eq!(
            check_bytes(b"\0asm\x01\0\0\0"),
            Err(LoadErrorKind::NotAComponent)
        );
        assert!(
            matches!(check_bytes(b"hello"), Err(LoadErrorKind::Corrupt(m)) if m.contains("68 65 6c"))
        );
        assert!(matches!(check_bytes(b""), Err(LoadErrorKind::Corrupt(m)) if m.contains("empty")));
    }
}
