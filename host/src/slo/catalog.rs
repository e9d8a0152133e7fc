//! Reading SLO files: every document parsed, sorted into evaluable SLOs, valid
//! documents dataslo does not evaluate (with the reason), and errors.

use super::definition::{self, Slo};
use super::duration::Shorthand;
use super::openslo::{SliDoc, SloDoc};
use super::warnings::{self, SloWarning};
use super::yaml_limits::{YamlError, check_size, check_yaml};
use super::yaml_value::{Duplicate, document_value};
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::Path;

/// A document in a file: its position (from 1) and, when it has one, its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentRef {
    /// The file, as given.
    pub file: String,
    /// The document's position in the file, from 1.
    pub index: usize,
    /// `metadata.name`, when present.
    pub name: Option<String>,
}

impl fmt::Display for DocumentRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{} (document {}, `{name}`)", self.file, self.index),
            None => write!(f, "{} (document {})", self.file, self.index),
        }
    }
}

/// A valid document that dataslo does not evaluate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotEvaluable {
    /// Where it is.
    pub source: DocumentRef,
    /// Its `kind`.
    pub kind: String,
    /// Why dataslo does not evaluate it.
    pub reason: String,
}

/// An invalid document: where, which field, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{document}: {}{message}", if field.is_empty() { String::new() } else { format!("{field}: ") })]
pub struct SloError {
    /// Where it is (document 0: the whole file).
    pub document: DocumentRef,
    /// The field, as a dotted path (empty for the whole document).
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// The YAML limit passed, or the duplicate key, when that is what is wrong.
    pub yaml: Option<YamlError>,
}

impl SloError {
    fn new(document: DocumentRef, field: impl Into<String>, message: impl Into<String>) -> Self {
        SloError {
            document,
            field: field.into(),
            message: message.into(),
            yaml: None,
        }
    }

    fn yaml(document: DocumentRef, field: String, error: YamlError) -> Self {
        SloError {
            document,
            field,
            message: error.to_string(),
            yaml: Some(error),
        }
    }
}

/// The whole of `file`, for errors that are not one document's.
fn whole(file: &str) -> DocumentRef {
    DocumentRef {
        file: file.to_string(),
        index: 0,
        name: None,
    }
}

/// What a set of SLO files holds.
#[derive(Debug, Default)]
pub struct Catalog {
    /// SLOs dataslo evaluates.
    pub slos: Vec<Slo>,
    /// Valid documents it does not evaluate.
    pub not_evaluable: Vec<NotEvaluable>,
    /// Invalid documents.
    pub errors: Vec<SloError>,
    /// Names read past: an apiVersion, kind or metric source type dataslo
    /// does not know.
    pub warnings: Vec<SloWarning>,
}

struct RawDoc {
    source: DocumentRef,
    kind: String,
    api_version: String,
    /// `None` for documents of an apiVersion dataslo does not read.
    body: Option<serde_json::Value>,
}

/// Reads and checks `paths`. An unreadable file is an error in the catalog.
pub fn load_files(paths: &[impl AsRef<Path>]) -> Catalog {
    let mut docs = Vec::new();
    let mut catalog = Catalog::default();
    for path in paths {
        let file = path.as_ref().display().to_string();
        // A file over the limit is refused before it is read.
        let size = std::fs::metadata(path.as_ref()).map(|m| check_size(m.len()));
        match (size, std::fs::read_to_string(path.as_ref())) {
            (Ok(Err(e)), _) => catalog
                .errors
                .push(SloError::yaml(whole(&file), String::new(), e)),
            (_, Ok(text)) => split(&text, &file, &mut docs, &mut catalog.errors),
            (_, Err(e)) => {
                let message = format!("cannot read: {e}");
                catalog
                    .errors
                    .push(SloError::new(whole(&file), "", message));
            }
        }
    }
    check(docs, &mut catalog);
    catalog
}

/// Checks the YAML `text` as if it were the file `file`.
pub fn parse_text(text: &str, file: &str) -> Catalog {
    let mut docs = Vec::new();
    let mut catalog = Catalog::default();
    split(text, file, &mut docs, &mut catalog.errors);
    check(docs, &mut catalog);
    catalog
}

/// Checks saved texts, each `(file, text)`, together as `load_files` checks
/// files: the SLO files a ledger saved, read back.
pub fn parse_texts(sources: &[(String, String)]) -> Catalog {
    let mut docs = Vec::new();
    let mut catalog = Catalog::default();
    for (file, text) in sources {
        split(text, file, &mut docs, &mut catalog.errors);
    }
    check(docs, &mut catalog);
    catalog
}

fn split(text: &str, file: &str, docs: &mut Vec<RawDoc>, errors: &mut Vec<SloError>) {
    // Limits first: the full parse of a deep or explosive text is what costs.
    if let Err(e) = check_yaml(text) {
        errors.push(SloError::yaml(whole(file), String::new(), e));
        return;
    }
    for (i, document) in serde_yaml_ng::Deserializer::from_str(text).enumerate() {
        let mut source = DocumentRef {
            file: file.to_string(),
            index: i + 1,
            name: None,
        };
        let duplicate = Duplicate::default();
        let body = match document_value(document, &duplicate) {
            Ok(serde_json::Value::Null) => continue,
            Ok(body) => body,
            Err(e) => {
                if let Some((field, key)) = duplicate.take() {
                    let line = e.location().map(|l| l.line());
                    let error = YamlError::DuplicateKey { key, line };
                    errors.push(SloError::yaml(source, field, error));
                    continue;
                }
                errors.push(SloError::new(source, "", format!("not valid YAML: {e}")));
                // The parser cannot resynchronise after a syntax error.
                break;
            }
        };
        source.name = body
            .pointer("/metadata/name")
            .and_then(|n| n.as_str())
            .map(str::to_string);
        let text_at = |key: &str| body.get(key).and_then(|v| v.as_str()).map(str::to_string);
        let (Some(api_version), Some(kind)) = (text_at("apiVersion"), text_at("kind")) else {
            errors.push(SloError::new(source, "", "needs apiVersion and kind"));
            continue;
        };
        if source.name.is_none() {
            errors.push(SloError::new(source, "metadata.name", "is required"));
            continue;
        }
        let body = (api_version == "openslo/v1").then_some(body);
        let kind = if body.is_some() {
            kind
        } else {
            format!("{kind} ({api_version})")
        };
        docs.push(RawDoc {
            source,
            kind,
            api_version,
            body,
        });
    }
}

fn parse<T: for<'de> Deserialize<'de>>(body: serde_json::Value) -> Result<T, (String, String)> {
    serde_path_to_error::deserialize(body)
        .map_err(|e| (e.path().to_string(), e.inner().to_string()))
}

enum Verdict {
    Evaluable(Box<Slo>),
    /// Valid OpenSLO that reads another metric source: the reason.
    Foreign(String),
}

fn check(docs: Vec<RawDoc>, catalog: &mut Catalog) {
    let mut slis: BTreeMap<String, SliDoc> = BTreeMap::new();
    let mut pending = Vec::new();
    for RawDoc {
        source,
        kind,
        api_version,
        body,
    } in docs
    {
        let Some(body) = body else {
            let warning = warnings::api_version(source.clone(), &api_version);
            catalog.warnings.push(warning);
            let reason = format!("{kind} is not read; dataslo reads openslo/v1");
            catalog.not_evaluable.push(NotEvaluable {
                source,
                kind,
                reason,
            });
            continue;
        };
        let parsed = match kind.as_str() {
            "SLO" => parse::<SloDoc>(body).map(|slo| pending.push((source.clone(), slo))),
            "SLI" => parse::<SliDoc>(body).map(|sli| {
                let found = warnings::source_types(&source, &sli, "spec");
                catalog.warnings.extend(found);
                slis.insert(sli.metadata.name.clone(), sli);
                let reason = "an SLI is evaluated through the SLOs that use it".into();
                catalog.not_evaluable.push(NotEvaluable {
                    source: source.clone(),
                    kind: kind.clone(),
                    reason,
                });
            }),
            _ => {
                catalog
                    .warnings
                    .extend(warnings::kind(source.clone(), &kind));
                let reason = format!("kind {kind} is not an SLO");
                catalog.not_evaluable.push(NotEvaluable {
                    source: source.clone(),
                    kind,
                    reason,
                });
                Ok(())
            }
        };
        if let Err((field, message)) = parsed {
            catalog.errors.push(SloError::new(source, field, message));
        }
    }
    let mut names = HashSet::new();
    for (source, slo) in pending {
        // An SLI of its own document was looked at with that document.
        if let Some(sli) = &slo.spec.indicator {
            let found = warnings::source_types(&source, sli, "spec.indicator.spec");
            catalog.warnings.extend(found);
        }
        match check_slo(&slo, source.clone(), &slis) {
            Ok(Verdict::Evaluable(built)) if !names.insert(built.name.clone()) => {
                let message = format!("another SLO is already named `{}`", built.name);
                catalog
                    .errors
                    .push(SloError::new(source, "metadata.name", message));
            }
            Ok(Verdict::Evaluable(built)) => catalog.slos.push(*built),
            Ok(Verdict::Foreign(reason)) => catalog.not_evaluable.push(NotEvaluable {
                source,
                kind: "SLO".into(),
                reason,
            }),
            Err((field, message)) => catalog.errors.push(SloError::new(source, field, message)),
        }
    }
}

fn check_slo(
    slo: &SloDoc,
    source: DocumentRef,
    slis: &BTreeMap<String, SliDoc>,
) -> Result<Verdict, (String, String)> {
    check_common(slo)?;
    let sli = match (&slo.spec.indicator, &slo.spec.indicator_ref) {
        (Some(sli), None) => sli,
        (None, Some(name)) => slis.get(name).ok_or_else(|| {
            (
                "spec.indicatorRef".to_string(),
                format!("no SLI named `{name}` in the files read"),
            )
        })?,
        (Some(_), Some(_)) => {
            return Err((
                "spec".into(),
                "give indicator or indicatorRef, not both".into(),
            ));
        }
        (None, None) => return Err(("spec".into(), "needs indicator or indicatorRef".into())),
    };
    match definition::dataslo_source(sli)? {
        Ok((indicator, spec)) => {
            definition::build(slo, source, indicator, spec).map(|s| Verdict::Evaluable(Box::new(s)))
        }
        Err(reason) => Ok(Verdict::Foreign(reason)),
    }
}

/// Checks every OpenSLO SLO must pass, dataslo's or not.
fn check_common(slo: &SloDoc) -> Result<(), (String, String)> {
    super::names::check_names(slo)?;
    let method = slo.spec.budgeting_method.as_str();
    if !matches!(method, "Occurrences" | "Timeslices" | "RatioTimeslices") {
        return Err((
            "spec.budgetingMethod".into(),
            format!("{method} is not Occurrences, Timeslices or RatioTimeslices"),
        ));
    }
    if slo.spec.time_window.is_empty() {
        return Err(("spec.timeWindow".into(), "needs a window".into()));
    }
    for (i, w) in slo.spec.time_window.iter().enumerate() {
        Shorthand::parse(&w.duration).map_err(|m| (format!("spec.timeWindow[{i}].duration"), m))?;
    }
    if slo.spec.objectives.is_empty() {
        return Err((
            "spec.objectives".into(),
            "needs at least one objective".into(),
        ));
    }
    for (i, o) in slo.spec.objectives.iter().enumerate() {
        definition::target_of(o, &format!("spec.objectives[{i}]"))?;
    }
    Ok(())
}
