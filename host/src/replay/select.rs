//! Which SLO is replayed: its definition from the SLO files given, or from
//! those the ledger saved last; read only, nothing is saved back.

use super::ReplayError;
use crate::ledger::Ledger;
use crate::slo::{Slo, closest, load_files, parse_texts};
use std::path::PathBuf;

/// The SLOs of `files`, or, when none is given, those `ledger` saved.
pub fn definitions(ledger: &Ledger, files: &[PathBuf]) -> Result<Vec<Slo>, ReplayError> {
    let catalog = if files.is_empty() {
        parse_texts(&ledger.slo_sources()?)
    } else {
        load_files(files)
    };
    if !catalog.errors.is_empty() {
        return Err(ReplayError::InvalidSlos {
            errors: catalog.errors.iter().map(ToString::to_string).collect(),
        });
    }
    if catalog.slos.is_empty() {
        return Err(ReplayError::NoSlos);
    }
    Ok(catalog.slos)
}

/// The SLO named `name`, or an error naming the closest.
pub fn find<'a>(slos: &'a [Slo], name: &str) -> Result<&'a Slo, ReplayError> {
    if let Some(slo) = slos.iter().find(|s| s.name == name) {
        return Ok(slo);
    }
    let mut known: Vec<String> = slos.iter().map(|s| s.name.clone()).collect();
    known.sort();
    Err(ReplayError::UnknownSlo {
        name: name.to_string(),
        closest: closest(name, known.iter().map(String::as_str)).map(String::from),
        known,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_name_is_answered_with_the_closest() {
        let slo = |name: &str| {
            format!(
                "apiVersion: openslo/v1\nkind: SLO\nmetadata: {{ name: {name} }}\nspec:\n  indicator:\n    metadata: {{ name: i }}\n    spec:\n      ratioMetric:\n        total: {{ metricSource: {{ type: dataslo, spec: {{ dataset: {{ namespace: n, name: d }}, policy: \"builtin:freshness\", config: {{ max_age: 2h }}, sli: freshness, trigger: observation }} }} }}\n  timeWindow: [{{ duration: 1d, isRolling: true }}]\n  budgetingMethod: Occurrences\n  objectives: [{{ target: 0.9 }}]\n"
            )
        };
        let text = format!(
            "{}---\n{}",
            slo("orders-fresh"),
            slo("customers-email-nulls")
        );
        let catalog = crate::slo::parse_text(&text, "slos.yaml");
        assert!(catalog.errors.is_empty(), "{:?}", catalog.errors);
        let err = find(&catalog.slos, "orders-frsh").unwrap_err();
        assert!(
            err.to_string()
                .contains("no SLO named \"orders-frsh\"; did you mean \"orders-fresh\"?"),
            "{err}"
        );
        let err = find(&catalog.slos, "zzz").unwrap_err().to_string();
        assert!(err.contains("known: customers-email-nulls, "), "{err}");
    }
}
