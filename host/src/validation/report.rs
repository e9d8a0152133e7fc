//! What `slo validate` found, as printed and as `--format json`: field names
//! are stable (docs/slo-validate.md lists them).

use crate::model::{DatasetRef, PolicyRef};
use crate::slo::{DocumentRef, NotEvaluable, SloError, SloWarning};
use serde::Serialize;
use std::fmt;

/// Everything found in a set of SLO files.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    /// Whether no SLO is invalid: the exit code's verdict.
    pub valid: bool,
    /// The files read, as given.
    pub files: Vec<String>,
    /// The SLOs dataslo evaluates, each checked against its policy.
    pub slos: Vec<SloReport>,
    /// Valid documents dataslo does not evaluate, with the reason.
    pub skipped: Vec<Skipped>,
    /// What `run` would refuse.
    pub errors: Vec<Finding>,
    /// What `run` reads past, or what could not be checked here.
    pub warnings: Vec<Finding>,
}

/// Whether an SLO passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Its policy loads, accepts its config and declares its SLI.
    Ok,
    /// An error names it.
    Invalid,
    /// Its policy is an upload, which only the server holds: a warning says so.
    Unchecked,
}

/// One SLO whose indicator reads a `dataslo` source.
#[derive(Debug, Clone, Serialize)]
pub struct SloReport {
    /// The file.
    pub file: String,
    /// The document's position in the file, from 1.
    pub document: usize,
    /// `metadata.name`.
    pub name: String,
    /// The dataset watched.
    pub dataset: DatasetRef,
    /// The policy, as written.
    pub policy: PolicyRef,
    /// The loaded component's sha256, when it loaded.
    pub sha256: Option<String>,
    /// The SLI read.
    pub sli: String,
    /// `observation`, or `every 5m`.
    pub trigger: String,
    /// How many objectives.
    pub objectives: usize,
    /// Ok, invalid or unchecked.
    pub verdict: Verdict,
}

/// A valid document not evaluated.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    /// The file.
    pub file: String,
    /// The document's position, from 1.
    pub document: usize,
    /// Its `metadata.name`.
    pub name: Option<String>,
    /// Its `kind` (with the apiVersion, when not openslo/v1).
    pub kind: String,
    /// Why it is not evaluated.
    pub reason: String,
}

/// An error or a warning: the file, the document, the field and what is wrong.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The file.
    pub file: String,
    /// The document's position, from 1 (0: the whole file).
    pub document: usize,
    /// The document's `metadata.name`, when it has one.
    pub name: Option<String>,
    /// The field, as a dotted path (empty for the whole document).
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// The closest valid name, when a name looks misspelt.
    pub suggestion: Option<String>,
}

impl Finding {
    /// A finding at `field` of `document`.
    pub fn at(document: &DocumentRef, field: String, message: String) -> Self {
        Finding {
            file: document.file.clone(),
            document: document.index,
            name: document.name.clone(),
            field,
            message,
            suggestion: None,
        }
    }

    /// With the closest valid name.
    pub fn suggesting(mut self, suggestion: Option<&str>) -> Self {
        self.suggestion = suggestion.map(str::to_string);
        self
    }

    fn document_ref(&self) -> DocumentRef {
        DocumentRef {
            file: self.file.clone(),
            index: self.document,
            name: self.name.clone(),
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.document_ref())?;
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        write!(f, "{}", self.message)?;
        if let Some(s) = &self.suggestion {
            write!(f, "; did you mean `{s}`?")?;
        }
        Ok(())
    }
}

impl From<SloError> for Finding {
    fn from(e: SloError) -> Self {
        let suggestion = super::names::serde_suggestion(&e.message);
        Finding::at(&e.document, e.field, e.message).suggesting(suggestion.as_deref())
    }
}

impl From<SloWarning> for Finding {
    fn from(w: SloWarning) -> Self {
        Finding::at(&w.document, w.field, w.message).suggesting(w.suggestion.as_deref())
    }
}

impl From<NotEvaluable> for Skipped {
    fn from(n: NotEvaluable) -> Self {
        Skipped {
            file: n.source.file,
            document: n.source.index,
            name: n.source.name,
            kind: n.kind,
            reason: n.reason,
        }
    }
}
