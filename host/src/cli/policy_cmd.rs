//! `dataslo policy push` and `dataslo policy pull`: policies to and from OCI
//! registries; `keygen`, `sign` and `verify` (in `policy_sign`).

use super::args::Format;
use super::{Failure, input};
use crate::model::{OciRef, PolicyRef};
use crate::oci::{Oci, OciError};
use crate::runtime::builtin_bytes;
use std::io::Write;
use std::path::{Path, PathBuf};

/// `dataslo policy ...`.
#[derive(Debug, clap::Subcommand)]
pub enum PolicyCommand {
    /// Check that a component is a policy this dataslo runs, then push it to
    /// an OCI registry as a CNCF Wasm artifact (config
    /// `application/vnd.wasm.config.v0+json`, one `application/wasm` layer).
    /// Prints the manifest digest to pin.
    #[command(after_help = "Examples:\n  \
        dataslo policy push my_policy.wasm oci://registry.example.com/policies/my-policy:1.0.0\n  \
        dataslo policy push builtin:freshness oci://localhost:5000/policies/freshness:v1\n  \
        dataslo policy push p.wasm oci://10.0.0.5:5000/p:dev --insecure --format json")]
    Push {
        /// A component file, or `builtin:NAME`.
        source: String,
        /// Where: `oci://HOST[:PORT]/REPO:TAG`.
        reference: String,
        #[command(flatten)]
        #[allow(missing_docs)]
        common: Common,
    },
    /// Pull a policy from an OCI registry and write its component to a file,
    /// checked against the layer digest (and the manifest digest, when the
    /// reference names one).
    #[command(after_help = "Examples:\n  \
        dataslo policy pull oci://registry.example.com/policies/my-policy:1.0.0 -o my-policy.wasm\n  \
        dataslo policy pull oci://localhost:5000/policies/freshness@sha256:<hex> -o f.wasm")]
    Pull {
        /// `oci://HOST[:PORT]/REPO:TAG` or `oci://HOST[:PORT]/REPO@sha256:HEX`.
        reference: String,
        /// The file to write. Default: the repository's last part, `.wasm`.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        #[command(flatten)]
        #[allow(missing_docs)]
        common: Common,
    },
    /// Make a new ed25519 key pair for signing policies: the private key goes
    /// to a new file readable by you alone (0600), the public key (base64,
    /// for `trusted_keys`) to stdout.
    #[command(after_help = "Examples:\n  \
        dataslo policy keygen -o team.key\n  \
        dataslo policy keygen -o team.key --format json")]
    Keygen {
        /// The private key file to create (never overwritten).
        #[arg(short, long, value_name = "FILE", default_value = "dataslo-policy.key")]
        output: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Sign a policy: an ed25519 signature of its component's sha256, added
    /// to `FILE.sig` beside a file, or to the tag `sha256-<manifest hex>.sig`
    /// beside an OCI reference (other keys' signatures are kept).
    #[command(after_help = "Examples:\n  \
        dataslo policy sign my_policy.wasm --key team.key\n  \
        dataslo policy sign oci://registry.example.com/policies/my-policy:1.0.0 --key team.key")]
    Sign {
        /// A component file, or `oci://HOST[:PORT]/REPO:TAG|@sha256:HEX`.
        policy: String,
        /// The private key file `dataslo policy keygen` wrote.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        #[command(flatten)]
        #[allow(missing_docs)]
        common: Common,
    },
    /// Check that a policy is signed by a trusted key (and by no revoked key
    /// alone): exit 0 naming the key, or 1 naming why not.
    #[command(after_help = "Examples:\n  \
        dataslo policy verify my_policy.wasm --trust 11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n  \
        dataslo policy verify oci://localhost:5000/policies/p:v1 --trust NEW_KEY --revoked OLD_KEY --format json")]
    Verify {
        /// A component file, or an `oci://` reference.
        policy: String,
        /// A public key (base64) to trust; repeat for several.
        #[arg(long = "trust", value_name = "PUBLIC_KEY", required = true)]
        trust: Vec<String>,
        /// A revoked public key: its signatures never count.
        #[arg(long = "revoked", value_name = "PUBLIC_KEY")]
        revoked: Vec<String>,
        #[command(flatten)]
        #[allow(missing_docs)]
        common: Common,
    },
}

/// What push and pull share.
#[derive(Debug, clap::Args)]
pub struct Common {
    /// Speak plain HTTP to this registry (loopback registries always are).
    #[arg(long)]
    pub insecure: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

impl PolicyCommand {
    /// The output format it was given.
    pub fn format(&self) -> Format {
        match self {
            PolicyCommand::Push { common, .. }
            | PolicyCommand::Pull { common, .. }
            | PolicyCommand::Sign { common, .. }
            | PolicyCommand::Verify { common, .. } => common.format,
            PolicyCommand::Keygen { format, .. } => *format,
        }
    }
}

fn reference(text: &str) -> Result<OciRef, Failure> {
    text.parse()
        .map_err(|e: crate::model::OciRefError| Failure::Input(e.to_string()))
}

fn client(r: &OciRef, common: &Common) -> Oci {
    let insecure = if common.insecure {
        vec![r.registry.clone()]
    } else {
        Vec::new()
    };
    Oci::new(None, insecure)
}

fn failed(e: OciError) -> Failure {
    Failure::Policy {
        code: e.code(),
        message: e.to_string(),
    }
}

pub fn run(command: PolicyCommand) -> Result<(), Failure> {
    match command {
        PolicyCommand::Keygen { output, format } => super::policy_sign::keygen(&output, format),
        PolicyCommand::Sign {
            policy,
            key,
            common,
        } => super::policy_sign::sign(&policy, &key, common.insecure, common.format),
        PolicyCommand::Verify {
            policy,
            trust,
            revoked,
            common,
        } => super::policy_sign::verify(&policy, &trust, &revoked, common.insecure, common.format),
        PolicyCommand::Push {
            source,
            reference: text,
            common,
        } => {
            let r = reference(&text)?;
            let bytes = match source.parse::<PolicyRef>() {
                Ok(PolicyRef::Builtin(name)) => builtin_bytes(&name)
                    .map(<[u8]>::to_vec)
                    .ok_or_else(|| Failure::Input(format!("no built-in policy named {name:?}")))?,
                Ok(PolicyRef::File(path)) => input::read_bytes(&path)?,
                Ok(other) => {
                    return Err(Failure::Input(format!(
                        "push takes a component file or `builtin:NAME`, not {other}"
                    )));
                }
                Err(e) => return Err(Failure::Input(e.to_string())),
            };
            let runtime = input::runtime()?;
            let pushed = client(&r, &common)
                .push(&runtime, &bytes, &r)
                .map_err(failed)?;
            let pinned = r.at_digest(&pushed.manifest);
            match common.format {
                Format::Json => println!(
                    "{}",
                    serde_json::json!({
                        "reference": r.to_string(),
                        "pinned": pinned.to_string(),
                        "manifest": format!("sha256:{}", pushed.manifest),
                        "sha256": pushed.component,
                    })
                ),
                Format::Table => println!(
                    "pushed {r}\n  pinned: {pinned}\n  component sha256: {}",
                    pushed.component
                ),
            }
            Ok(())
        }
        PolicyCommand::Pull {
            reference: text,
            output,
            common,
        } => {
            let r = reference(&text)?;
            let pulled = client(&r, &common).resolve(&r).map_err(failed)?;
            let file = output.unwrap_or_else(|| {
                let last = r.repository.rsplit('/').next().unwrap_or("policy");
                PathBuf::from(format!("{last}.wasm"))
            });
            write_whole(&file, &pulled.bytes)?;
            match common.format {
                Format::Json => println!(
                    "{}",
                    serde_json::json!({
                        "reference": r.to_string(),
                        "pinned": pulled.pinned.to_string(),
                        "manifest": format!("sha256:{}", pulled.manifest),
                        "sha256": pulled.component,
                        "file": file.display().to_string(),
                    })
                ),
                Format::Table => println!(
                    "pulled {r} to {}\n  pinned: {}\n  component sha256: {}",
                    file.display(),
                    pulled.pinned,
                    pulled.component
                ),
            }
            Ok(())
        }
    }
}

/// Writes a temporary file beside `path`, then renames it over `path`.
fn write_whole(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    let fail = |e: std::io::Error| Failure::Input(format!("cannot write {}: {e}", path.display()));
    let tmp = path.with_extension("wasm.part");
    let mut file = std::fs::File::create(&tmp).map_err(fail)?;
    file.write_all(bytes).map_err(fail)?;
    file.sync_all().map_err(fail)?;
    std::fs::rename(&tmp, path).map_err(fail)
}
