//! What the binary carries for `dataslo new`: the SDK's source and the WIT,
//! listed by `host/build.rs` and included at build time.

include!(concat!(env!("OUT_DIR"), "/scaffold_files.rs"));

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};

    fn workspace() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("host/ is in the workspace")
            .to_path_buf()
    }

    fn files_under(dir: &Path, root: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            if path.is_dir() {
                files_under(&path, root, out);
            } else {
                let relative = path.strip_prefix(root).unwrap().to_string_lossy();
                out.insert(relative.replace('\\', "/"), std::fs::read(&path).unwrap());
            }
        }
    }

    #[test]
    fn the_embedded_wit_is_wit_policy_wit_byte_for_byte() {
        let on_disk = std::fs::read(workspace().join("wit/policy.wit")).unwrap();
        assert!(
            WIT == on_disk.as_slice(),
            "rebuild: the embedded WIT is stale"
        );
    }

    #[test]
    fn the_embedded_sdk_is_guest_sdk_file_for_file() {
        let root = workspace().join("guest-sdk");
        let mut on_disk = BTreeMap::new();
        files_under(&root, &root, &mut on_disk);
        let embedded: BTreeMap<String, Vec<u8>> = SDK_FILES
            .iter()
            .map(|(path, bytes)| (path.to_string(), bytes.to_vec()))
            .collect();
        assert_eq!(
            embedded.keys().collect::<Vec<_>>(),
            on_disk.keys().collect::<Vec<_>>()
        );
        for (path, bytes) in &on_disk {
            assert!(
                &embedded[path] == bytes,
                "{path} differs from the embedded copy"
            );
        }
        assert!(embedded.contains_key("src/lib.rs") && embedded.contains_key("Cargo.toml"));
    }
}
