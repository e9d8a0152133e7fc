//! `manifest.json`: which relation a `unique_id` names, and what a test
//! checks. Only `nodes` and `sources` are read; a manifest without
//! `metadata` (as some tools trim it) is read all the same.

use super::doc::{Doc, join, keyed, kind};
use super::{Artifact, DbtError};
use serde_json::Value;

/// The node types that are relations, besides sources.
const RELATIONS: [&str; 3] = ["model", "seed", "snapshot"];

/// A read manifest.
pub(super) struct Manifest<'a> {
    doc: Doc<'a>,
}

/// What a `unique_id` of `nodes` is.
pub(super) enum Node {
    /// A model, seed or snapshot: its dataset name.
    Relation(String),
    /// A data test.
    Test(Test),
    /// Anything else (an operation, an analysis): its `resource_type`.
    Other(String),
}

/// A data test of the manifest.
pub(super) struct Test {
    /// The assertion's name: the generic test's (`not_null`), or a singular
    /// test's own.
    pub name: String,
    /// The column it tests, if one.
    pub column: Option<String>,
    /// The `unique_id` of the node it tests, if the manifest says.
    pub tested: Option<String>,
}

impl<'a> Manifest<'a> {
    /// Reads `artifact`; `nodes` must be an object, `sources` too if present.
    pub fn read(artifact: Artifact<'a>) -> Result<Manifest<'a>, DbtError> {
        let doc = Doc::parse(artifact, "manifest")?;
        for (key, required) in [("nodes", true), ("sources", false)] {
            match doc.root.get(key) {
                Some(Value::Object(_)) => {}
                None if !required => {}
                None => return Err(doc.error(key, "missing: is this a manifest.json?")),
                Some(other) => {
                    return Err(
                        doc.error(key, format!("expected an object, found {}", kind(other)))
                    );
                }
            }
        }
        Ok(Manifest { doc })
    }

    /// The manifest's file.
    pub fn file(&self) -> &str {
        self.doc.file
    }

    /// The dataset name of the source `id`, if the manifest has it.
    pub fn source(&self, id: &str) -> Result<Option<String>, DbtError> {
        let Some(source) = self.doc.root.get("sources").and_then(|s| s.get(id)) else {
            return Ok(None);
        };
        self.relation_name(source, &keyed("sources", id)).map(Some)
    }

    /// What `id` is: a source or a node of the manifest, if either.
    pub fn node(&self, id: &str) -> Result<Option<Node>, DbtError> {
        if let Some(name) = self.source(id)? {
            return Ok(Some(Node::Relation(name)));
        }
        let Some(node) = self.doc.root.get("nodes").and_then(|n| n.get(id)) else {
            return Ok(None);
        };
        let path = keyed("nodes", id);
        let resource_type = self.doc.str_member(node, "resource_type", &path)?;
        Ok(Some(if RELATIONS.contains(&resource_type) {
            Node::Relation(self.relation_name(node, &path)?)
        } else if resource_type == "test" {
            Node::Test(self.test(node, &path)?)
        } else {
            Node::Other(resource_type.to_string())
        }))
    }

    /// `database.schema.name`, leaving out a null or empty part, as
    /// OpenLineage's dbt integration does.
    fn relation_name(&self, node: &Value, path: &str) -> Result<String, DbtError> {
        let mut parts = Vec::with_capacity(3);
        for key in ["database", "schema"] {
            match node.get(key) {
                None | Some(Value::Null) => {}
                Some(value) => parts.push(self.doc.str(value, &join(path, key))?),
            }
        }
        parts.push(self.doc.str_member(node, "name", path)?);
        Ok(parts
            .into_iter()
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join("."))
    }

    fn test(&self, node: &Value, path: &str) -> Result<Test, DbtError> {
        let doc = &self.doc;
        let optional_str =
            |value: Option<&Value>, at: String| -> Result<Option<String>, DbtError> {
                match value {
                    None | Some(Value::Null) => Ok(None),
                    Some(v) => doc.str(v, &at).map(|s| Some(s.to_string())),
                }
            };
        let metadata = node.get("test_metadata").filter(|m| !m.is_null());
        let metadata_path = join(path, "test_metadata");
        let name = match metadata {
            Some(m) => doc.str_member(m, "name", &metadata_path)?,
            None => doc.str_member(node, "name", path)?,
        }
        .to_string();
        let column = match optional_str(node.get("column_name"), join(path, "column_name"))? {
            Some(column) => Some(column),
            None => optional_str(
                metadata
                    .and_then(|m| m.get("kwargs"))
                    .and_then(|k| k.get("column_name")),
                join(&metadata_path, "kwargs.column_name"),
            )?,
        };
        let tested = match optional_str(node.get("attached_node"), join(path, "attached_node"))? {
            Some(id) => Some(id),
            None => self.tested_by_dependency(node, path)?,
        };
        Ok(Test {
            name,
            column,
            tested,
        })
    }

    /// Without `attached_node` (manifests before v10), the last relation
    /// among `depends_on.nodes`, as OpenLineage's dbt integration takes it
    /// (a `relationships` test depends on both models, the tested one last).
    fn tested_by_dependency(&self, node: &Value, path: &str) -> Result<Option<String>, DbtError> {
        let Some(nodes) = node.get("depends_on").and_then(|d| d.get("nodes")) else {
            return Ok(None);
        };
        let at = join(path, "depends_on.nodes");
        let Value::Array(ids) = nodes else {
            return Err(self
                .doc
                .error(&at, format!("expected an array, found {}", kind(nodes))));
        };
        let mut tested = None;
        for (i, id) in ids.iter().enumerate() {
            let id = self.doc.str(id, &format!("{at}[{i}]"))?;
            let resource = id.split('.').next().unwrap_or_default();
            if resource == "source" || RELATIONS.contains(&resource) {
                tested = Some(id.to_string());
            }
        }
        Ok(tested)
    }
}
