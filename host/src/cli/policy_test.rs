//! `dataslo test [PATH]`: a policy's cases through the sandbox.

use super::args::{Format, TestArgs};
use super::{Failure, input, table};
use crate::authoring::{
    Origin, TestError, TestReport, find_component, junit_xml, read_case_dir, run_cases,
};
use crate::model::{escape_control, to_json_pretty};

pub fn run(args: TestArgs) -> Result<(), Failure> {
    let bad = |e: TestError| Failure::Input(e.to_string());
    let cases = read_case_dir(&args.path.join("tests")).map_err(bad)?;
    let component = find_component(&args.path).map_err(bad)?;
    if component.origin == Origin::Built {
        eprintln!("built {}", component.path.display());
    }
    let runtime = match &args.engine_config {
        Some(path) => input::runtime_from(Some(path))?,
        None => input::runtime_caching(component.cache_dir)?,
    };
    let label = component.path.display().to_string();
    let bytes = input::read_bytes(&component.path)?;
    let policy = runtime
        .load(&label, &bytes)
        .map_err(|f| input::naming_engine_config(f.into(), args.engine_config.as_deref()))?;
    let report = run_cases(&runtime, &policy, &args.path, &cases);
    if let Some(path) = &args.junit {
        std::fs::write(path, junit_xml(&report))
            .map_err(|e| Failure::Input(format!("cannot write {}: {e}", path.display())))?;
    }
    print!("{}", render(&report, args.format));
    if report.all_passed() {
        Ok(())
    } else {
        Err(Failure::Reported {
            code: "case_failed",
            message: format!("{} of {} case(s) failed", report.failed, report.cases.len()),
        })
    }
}

fn render(report: &TestReport, format: Format) -> String {
    match format {
        Format::Json => {
            let mut text = to_json_pretty(report).unwrap_or_default();
            text.push('\n');
            text
        }
        Format::Table => {
            let rows: Vec<Vec<String>> = report
                .cases
                .iter()
                .map(|c| {
                    vec![
                        c.file.clone(),
                        c.case.clone(),
                        if c.passed { "pass" } else { "FAIL" }.into(),
                        c.detail.clone(),
                    ]
                })
                .collect();
            let mut text = table::render(&["FILE", "CASE", "RESULT", "DETAIL"], &rows, &[]);
            text.push_str(&format!(
                "\n{} passed, {} failed ({}, sha256 {})\n",
                report.passed,
                report.failed,
                escape_control(&report.policy),
                &report.sha256[..16.min(report.sha256.len())]
            ));
            text
        }
    }
}
