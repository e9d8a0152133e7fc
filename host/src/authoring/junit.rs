//! The report as JUnit XML, which CI systems show as test results: one
//! `testsuite` per case file, one `testcase` per case.

use super::TestReport;
use std::fmt::Write;

/// The report as a JUnit XML document.
pub fn junit_xml(report: &TestReport) -> String {
    let mut files: Vec<&str> = Vec::new();
    for case in &report.cases {
        if !files.contains(&case.file.as_str()) {
            files.push(&case.file);
        }
    }
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"dataslo test {}\" tests=\"{}\" failures=\"{}\">",
        xml(&report.policy),
        report.cases.len(),
        report.failed
    );
    for file in files {
        let cases: Vec<_> = report.cases.iter().filter(|c| c.file == file).collect();
        let failures = cases.iter().filter(|c| !c.passed).count();
        let seconds: u128 = cases.iter().map(|c| c.duration_us).sum();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" time=\"{}\">",
            xml(file),
            cases.len(),
            seconds_of(seconds)
        );
        for case in cases {
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{}\"",
                xml(file),
                xml(&case.case),
                seconds_of(case.duration_us)
            );
            if case.passed {
                out.push_str("/>\n");
            } else {
                let _ = writeln!(
                    out,
                    ">\n      <failure message=\"{0}\">{0}</failure>\n    </testcase>",
                    xml(&case.detail)
                );
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

fn seconds_of(micros: u128) -> String {
    format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000)
}

/// Text for an attribute or element: markup escaped, and the characters
/// XML 1.0 cannot hold at all (most control characters) replaced.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || matches!(c, '\u{FFFE}' | '\u{FFFF}') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authoring::CaseOutcome;

    #[test]
    fn a_failed_case_becomes_a_failure_with_its_detail_escaped() {
        let report = TestReport {
            policy: "p.wasm".into(),
            sha256: String::new(),
            passed: 1,
            failed: 1,
            cases: vec![
                CaseOutcome {
                    file: "tests/a.yaml".into(),
                    case: "ok".into(),
                    passed: true,
                    detail: String::new(),
                    duration_us: 1500,
                },
                CaseOutcome {
                    file: "tests/a.yaml".into(),
                    case: "late <\"x\">".into(),
                    passed: false,
                    detail: "value 3 & more\u{1}".into(),
                    duration_us: 2,
                },
            ],
        };
        let xml = junit_xml(&report);
        assert!(xml.contains("tests=\"2\" failures=\"1\""), "{xml}");
        assert!(xml.contains("name=\"late &lt;&quot;x&quot;&gt;\""), "{xml}");
        assert!(
            xml.contains("<failure message=\"value 3 &amp; more\u{FFFD}\">"),
            "{xml}"
        );
        assert!(xml.contains("time=\"0.001500\""), "{xml}");
    }
}
