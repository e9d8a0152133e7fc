//! `dataslo new NAME`: a policy project, and what to run next.

use super::Failure;
use super::args::{Format, Lang, NewArgs};
use crate::scaffold::{self, create};

pub fn run(args: NewArgs) -> Result<(), Failure> {
    let lang = match args.lang {
        Lang::Rust => scaffold::Lang::Rust,
        Lang::Javascript => scaffold::Lang::Javascript,
        Lang::Python => scaffold::Lang::Python,
    };
    let created = create(
        std::path::Path::new("."),
        &args.name,
        lang,
        args.sdk_path.as_deref(),
    )
    .map_err(|e| Failure::Input(e.to_string()))?;
    let dir = created.dir.display().to_string();
    if args.format == Format::Json {
        let value = serde_json::json!({
            "dir": dir,
            "lang": lang.as_str(),
            "files": created.files,
            "install": created.install,
        });
        println!("{value}");
        return Ok(());
    }
    println!("created the {} policy project {dir}", lang.as_str());
    println!("\nnext:");
    println!("  cd {dir}");
    if let Some(install) = &created.install {
        println!("  {install}    # once: the toolchain that builds the component");
    }
    println!("  dataslo test    # builds the policy, runs tests/cases.yaml in the sandbox");
    Ok(())
}
