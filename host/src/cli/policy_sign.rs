//! `dataslo policy keygen`, `sign` and `verify`: ed25519 signatures of a
//! component's sha256, beside a file (`<file>.sig`) or in an OCI registry
//! (the tag `sha256-<manifest hex>.sig`).

use super::args::Format;
use super::{Failure, input};
use crate::model::{OciRef, PolicyRef};
use crate::oci::{Oci, signature_tag};
use crate::scheduler::{builtin_digests, file_signatures, signature_file};
use crate::trust::{SecretKey, Signatures, Trust, TrustError};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

fn trust_failed(e: TrustError) -> Failure {
    Failure::Policy {
        code: e.code(),
        message: e.to_string(),
    }
}

fn oci_failed(e: crate::oci::OciError) -> Failure {
    Failure::Policy {
        code: e.code(),
        message: e.to_string(),
    }
}

fn client(r: &OciRef, insecure: bool) -> Oci {
    Oci::new(
        None,
        if insecure {
            vec![r.registry.clone()]
        } else {
            Vec::new()
        },
    )
}

/// `policy keygen`: a new key, its private half in a new 0600 file.
pub fn keygen(output: &Path, format: Format) -> Result<(), Failure> {
    let key = SecretKey::generate().map_err(trust_failed)?;
    let fail =
        |e: std::io::Error| Failure::Input(format!("cannot write {}: {e}", output.display()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(output).map_err(fail)?;
    file.write_all(key.to_file_text().as_bytes())
        .map_err(fail)?;
    file.sync_all().map_err(fail)?;
    let public = key.public().to_string();
    match format {
        Format::Json => println!(
            "{}",
            serde_json::json!({"public_key": public, "private_key_file": output.display().to_string()})
        ),
        Format::Table => {
            eprintln!(
                "wrote the private key to {} (keep it secret); the public key, for trusted_keys:",
                output.display()
            );
            println!("{public}");
        }
    }
    Ok(())
}

fn read_key(path: &Path) -> Result<SecretKey, Failure> {
    let text = input::read_text(&path.display().to_string())?;
    SecretKey::from_file_text(&path.display().to_string(), &text).map_err(trust_failed)
}

/// A policy named on the command line: a file, or an `oci://` reference.
enum Target {
    File(PathBuf),
    Oci(OciRef),
}

fn target(text: &str) -> Result<Target, Failure> {
    match text.parse::<PolicyRef>() {
        Ok(PolicyRef::File(path)) => Ok(Target::File(path)),
        Ok(PolicyRef::Oci(r)) => Ok(Target::Oci(*r)),
        Ok(other) => Err(Failure::Input(format!(
            "sign and verify take a component file or an oci:// reference, not {other} \
             (built-ins are trusted by digest)"
        ))),
        Err(e) => Err(Failure::Input(e.to_string())),
    }
}

fn sha256_of(path: &Path) -> Result<String, Failure> {
    Ok(hex::encode(Sha256::digest(input::read_bytes(path)?)))
}

/// `policy sign`: adds `key`'s signature of the component's sha256.
pub fn sign(text: &str, key: &Path, insecure: bool, format: Format) -> Result<(), Failure> {
    let key = read_key(key)?;
    let (sha256, stored, signature) = match target(text)? {
        Target::File(path) => {
            let sha256 = sha256_of(&path)?;
            let sig = signature_file(&path);
            let mut all = Signatures {
                signatures: file_signatures(text, &path).map_err(|e| Failure::Policy {
                    code: e.code(),
                    message: e.to_string(),
                })?,
            };
            let signature = key.sign(&sha256);
            all.add(signature.clone());
            std::fs::write(&sig, all.encode())
                .map_err(|e| Failure::Input(format!("cannot write {}: {e}", sig.display())))?;
            (sha256, sig.display().to_string(), signature)
        }
        Target::Oci(r) => {
            let (resolved, signature) = client(&r, insecure).sign(&r, &key).map_err(oci_failed)?;
            let tag = signature_tag(&r, &resolved.manifest).to_string();
            (resolved.component, tag, signature)
        }
    };
    match format {
        Format::Json => println!(
            "{}",
            serde_json::json!({
                "policy": text,
                "sha256": sha256,
                "key": signature.key.to_string(),
                "signature": signature.signature,
                "stored": stored,
            })
        ),
        Format::Table => println!(
            "signed {text}\n  sha256: {sha256}\n  key: {}\n  stored in: {stored}",
            signature.key
        ),
    }
    Ok(())
}

/// `policy verify`: whether a key of `trusted` (none of `revoked`) signed it.
pub fn verify(
    text: &str,
    trusted: &[String],
    revoked: &[String],
    insecure: bool,
    format: Format,
) -> Result<(), Failure> {
    let trust = Trust::from_config(trusted, revoked)
        .map_err(trust_failed)?
        .ok_or_else(|| Failure::Input("give the keys to trust: --trust PUBLIC_KEY".into()))?;
    let (sha256, signatures) = match target(text)? {
        Target::File(path) => {
            let sigs = file_signatures(text, &path).map_err(|e| Failure::Policy {
                code: e.code(),
                message: e.to_string(),
            })?;
            (sha256_of(&path)?, sigs)
        }
        Target::Oci(r) => {
            let oci = client(&r, insecure);
            let resolved = oci.resolve(&r).map_err(oci_failed)?;
            let sigs = oci.signatures(&r, &resolved.manifest).map_err(oci_failed)?;
            (resolved.component, sigs.signatures)
        }
    };
    let key = if builtin_digests().contains(&sha256) {
        None
    } else {
        Some(
            trust
                .check(text, &sha256, &signatures)
                .map_err(trust_failed)?,
        )
    };
    let by = key.map_or_else(
        || "a built-in (trusted by digest)".to_string(),
        |k| k.to_string(),
    );
    match format {
        Format::Json => println!(
            "{}",
            serde_json::json!({"policy": text, "sha256": sha256, "verified": true, "key": key.map(|k| k.to_string())})
        ),
        Format::Table => println!("verified {text}\n  sha256: {sha256}\n  signed by: {by}"),
    }
    Ok(())
}
