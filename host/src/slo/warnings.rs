//! Names dataslo reads past without refusing the document: an apiVersion,
//! kind or metric source type it does not know. Each is a warning, with the
//! closest name it knows when the name looks like a typo of it.

use super::catalog::DocumentRef;
use super::closest::closest;
use super::openslo::{SliDoc, SourceHolder};
use std::fmt;

/// The one apiVersion dataslo reads.
const API_VERSION: &str = "openslo/v1";
/// The metric source type dataslo evaluates.
const SOURCE_TYPE: &str = "dataslo";
/// The kinds of OpenSLO v1; dataslo reads `SLO` and `SLI` and skips the rest.
const OPENSLO_KINDS: [&str; 7] = [
    "SLO",
    "SLI",
    "DataSource",
    "Service",
    "AlertPolicy",
    "AlertCondition",
    "AlertNotificationTarget",
];

/// A name dataslo does not know, where it is, and the closest it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SloWarning {
    /// Where it is.
    pub document: DocumentRef,
    /// The field, as a dotted path.
    pub field: String,
    /// What dataslo does with it.
    pub message: String,
    /// The closest name dataslo knows, when the name looks like its typo.
    pub suggestion: Option<String>,
}

impl fmt::Display for SloWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.document, self.field, self.message)?;
        if let Some(s) = &self.suggestion {
            write!(f, "; did you mean `{s}`?")?;
        }
        Ok(())
    }
}

/// A document of another apiVersion.
pub(super) fn api_version(document: DocumentRef, found: &str) -> SloWarning {
    SloWarning {
        document,
        field: "apiVersion".into(),
        message: format!("`{found}` is not read (dataslo reads {API_VERSION}); document skipped"),
        suggestion: closest(found, [API_VERSION]).map(str::to_string),
    }
}

/// An openslo/v1 document whose kind OpenSLO does not define; none for the
/// kinds it defines (dataslo skips those it does not evaluate, and says so).
pub(super) fn kind(document: DocumentRef, found: &str) -> Option<SloWarning> {
    if OPENSLO_KINDS.contains(&found) {
        return None;
    }
    Some(SloWarning {
        document,
        field: "kind".into(),
        message: format!(
            "`{found}` is not an OpenSLO v1 kind (dataslo evaluates SLO and the SLIs they use); document skipped"
        ),
        suggestion: closest(found, OPENSLO_KINDS).map(str::to_string),
    })
}

/// Every metric source of `sli` (at `at`, e.g. `spec.indicator.spec`) whose
/// type is not `dataslo`.
pub(super) fn source_types(document: &DocumentRef, sli: &SliDoc, at: &str) -> Vec<SloWarning> {
    let spec = &sli.spec;
    let ratio = spec.ratio_metric.as_ref();
    let sources: [(&str, Option<&SourceHolder>); 4] = [
        ("thresholdMetric", spec.threshold_metric.as_ref()),
        ("ratioMetric.total", ratio.and_then(|r| r.total.as_ref())),
        ("ratioMetric.good", ratio.and_then(|r| r.good.as_ref())),
        ("ratioMetric.bad", ratio.and_then(|r| r.bad.as_ref())),
    ];
    sources
        .into_iter()
        .filter_map(|(name, holder)| holder.map(|h| (name, &h.metric_source.source_type)))
        .filter(|(_, found)| found.as_str() != SOURCE_TYPE)
        .map(|(name, found)| SloWarning {
            document: document.clone(),
            field: format!("{at}.{name}.metricSource.type"),
            message: format!(
                "`{found}` is not evaluated here (dataslo evaluates type `{SOURCE_TYPE}`)"
            ),
            suggestion: closest(found, [SOURCE_TYPE]).map(str::to_string),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::slo::parse_text;

    const SLI: &str = "apiVersion: openslo/v1\nkind: SLI\nmetadata: { name: s }\nspec:\n  ratioMetric:\n    total: { metricSource: { type: Prometheus } }\n    good: { metricSource: { type: Dataslo } }\n";

    #[test]
    fn each_foreign_metric_source_of_an_sli_document_is_a_warning() {
        let catalog = parse_text(SLI, "s.yaml");
        assert!(catalog.errors.is_empty(), "{:?}", catalog.errors);
        let found: Vec<_> = catalog
            .warnings
            .iter()
            .map(|w| (w.field.as_str(), w.suggestion.as_deref()))
            .collect();
        assert_eq!(
            found,
            [
                ("spec.ratioMetric.total.metricSource.type", None),
                ("spec.ratioMetric.good.metricSource.type", Some("dataslo")),
            ]
        );
    }

    #[test]
    fn openslo_kinds_dataslo_skips_are_listed_not_warned_about() {
        let text = "apiVersion: openslo/v1\nkind: Service\nmetadata: { name: s }\n---\napiVersion: openslo/v1\nkind: Servce\nmetadata: { name: t }\n";
        let catalog = parse_text(text, "s.yaml");
        assert_eq!(catalog.not_evaluable.len(), 2);
        let [warning] = catalog.warnings.as_slice() else {
            panic!("{:?}", catalog.warnings);
        };
        assert_eq!(warning.document.index, 2);
        assert_eq!(warning.suggestion.as_deref(), Some("Service"));
    }
}
