//! OpenLineage events to observations, as producers send them: one event, a
//! JSON array of events, or NDJSON (one event per line, errors naming the
//! line).
//!
//! # Which datasets become observations
//!
//! An observation is made only where an event says something about the data
//! itself, so that an SLO triggered by observations is not fed snapshots
//! without the metadata it reads:
//!
//! | dataset | becomes an observation |
//! | --- | --- |
//! | an output of a `COMPLETE` RunEvent | always, with `last_modified` = `eventTime` (the run wrote it) |
//! | an output of a `FAIL` RunEvent, an input of a `COMPLETE` or `FAIL` one | only when it carries a quality or statistics facet: `dataQualityMetrics`, `dataQualityAssertions`, `inputStatistics` or `outputStatistics` (in `facets`, `inputFacets` or `outputFacets`) |
//! | the dataset of a DatasetEvent | always (a producer's statement about the dataset), without `last_modified` |
//! | any dataset of a `START`, `RUNNING`, `ABORT` or `OTHER` event, or of a RunEvent without `eventType` | never |
//! | any dataset of a JobEvent (an event with neither `run` nor `eventType`) | never: it declares lineage, nothing ran |
//!
//! The others are acknowledged and counted as [`Lineage::ignored`]. Every
//! dataset is still checked (names, counts), whether observed or not: a
//! malformed event is refused whole.
//!
//! # What is read
//!
//! Dataset facets: `schema` (nested fields flattened with dots),
//! `dataQualityMetrics` (as a dataset facet or the deprecated input facet),
//! `outputStatistics`, `inputStatistics`, `dataQualityAssertions` (the
//! observation's `assertions`, entries with a name and a boolean `success`,
//! and attributes), and as attributes `dataSource`, `symlinks`, `version`,
//! `lifecycleStateChange`, `ownership` and `storage`. The event's
//! `eventType` is the observation's `run_state`. Run facets:
//! `nominalTime` (attributes, and the observation's `partition`) and
//! `errorMessage`. The attribute names are listed in
//! `docs/observation-format.md`. Unknown facets are ignored, never an error;
//! a count that is not a whole number ≥ 0 refuses the event, naming the field.
//!
//! # Bounded cost
//!
//! Names (dataset and job namespace and name, `runId`) are at most
//! [`MAX_NAME_BYTES`]; the error message kept is cut at
//! [`MAX_ERROR_MESSAGE_BYTES`]. What the datasets of one event share (job,
//! run, event type, error, nominal time) is read once, and each observation
//! carries a copy of at most about 5 KiB of it (the model's attributes are
//! plain strings): an event of many datasets costs a bounded multiple of its
//! size, where a 200,000-byte job name over 5,000 outputs once cost 2.4 GB.
//!
//! Depends on `model` only.

mod event;
mod facets;
mod stream;

use crate::model::Observation;

pub use stream::read_events;

/// The longest namespace, name, job name or run id accepted, in bytes.
pub const MAX_NAME_BYTES: usize = 1024;

/// The longest `errorMessage.message` kept, in bytes; longer ones are cut.
pub const MAX_ERROR_MESSAGE_BYTES: usize = 1024;

/// An event that cannot be read, naming where and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{source_name}: {}{reason}", if field.is_empty() { String::new() } else { format!("{field}: ") })]
pub struct OpenLineageError {
    /// The file or request, with the event's index for arrays and its line
    /// for NDJSON (`body[2]`, `body:3`).
    pub source_name: String,
    /// The field inside the event, as a path (`outputs[0].name`).
    pub field: String,
    /// What is wrong.
    pub reason: String,
}

/// What a body of events gives.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Lineage {
    /// The observations, in the order of the events and their datasets.
    pub observations: Vec<Observation>,
    /// Datasets the events named that did not become observations (see the
    /// module doc for which).
    pub ignored: usize,
}

/// The observations of one event or a JSON array of events (or NDJSON); the
/// datasets that become none are only counted, in [`read_events`].
pub fn observations_from(
    text: &str,
    source_name: &str,
) -> Result<Vec<Observation>, OpenLineageError> {
    read_events(text, source_name).map(|l| l.observations)
}
