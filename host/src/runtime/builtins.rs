//! The built-in policies, compiled from `policies/*` by the build script and
//! embedded in the binary, so `builtin:NAME` needs no file on disk.

include!(concat!(env!("OUT_DIR"), "/builtins.rs"));

/// The built-ins' names, e.g. `freshness`.
pub fn builtin_names() -> impl Iterator<Item = &'static str> {
    BUILTINS.iter().map(|(name, _)| *name)
}

/// The component bytes of built-in `name`.
pub fn builtin_bytes(name: &str) -> Option<&'static [u8]> {
    BUILTINS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, bytes)| *bytes)
}
