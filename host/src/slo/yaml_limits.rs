//! The limits a YAML text is held to before it is parsed into values: its
//! size, its nesting, and what its aliases expand to. libyaml's events are
//! walked once, counting, and the walk stops at the first limit passed, so a
//! deep or explosive document costs little (libyaml's scanner is quadratic
//! in nesting, and aliases repeat whole subtrees).

use super::yaml_events::{Event, Events};
use std::collections::HashMap;

/// The largest SLO text (a file, or a `PUT /v1/slos` body), in bytes.
pub const MAX_YAML_BYTES: usize = 1 << 20;
/// The deepest nesting of sequences and mappings.
pub const MAX_YAML_DEPTH: usize = 64;
/// The most values (scalars, sequences, mappings) in one text, counted with
/// every alias expanded.
pub const MAX_YAML_VALUES: usize = 100_000;
/// The most scalar text in one text, in bytes, counted with every alias
/// expanded.
pub const MAX_YAML_EXPANDED_BYTES: usize = 4 << 20;

/// A YAML text over a limit, or with a duplicate key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum YamlError {
    /// Over [`MAX_YAML_BYTES`].
    #[error("{bytes} bytes is over the limit of {limit} bytes of YAML")]
    TooLarge {
        /// The text's size.
        bytes: u64,
        /// The limit.
        limit: usize,
    },
    /// Over [`MAX_YAML_DEPTH`].
    #[error("line {line}: nested deeper than the limit of {limit} levels")]
    TooDeep {
        /// Where the limit was passed.
        line: usize,
        /// The limit.
        limit: usize,
    },
    /// Over [`MAX_YAML_VALUES`].
    #[error("line {line}: more than the limit of {limit} values, aliases expanded")]
    TooManyValues {
        /// Where the limit was passed.
        line: usize,
        /// The limit.
        limit: usize,
    },
    /// Over [`MAX_YAML_EXPANDED_BYTES`].
    #[error("line {line}: more than the limit of {limit} bytes of text, aliases expanded")]
    TooMuchText {
        /// Where the limit was passed.
        line: usize,
        /// The limit.
        limit: usize,
    },
    /// An alias inside the node its anchor names.
    #[error("line {line}: alias *{anchor} is inside the node it names")]
    RecursiveAlias {
        /// Where the alias is.
        line: usize,
        /// The anchor's name.
        anchor: String,
    },
    /// A mapping with the same key twice.
    #[error("duplicate key `{key}`{}", line.map(|l| format!(" in the mapping at line {l}")).unwrap_or_default())]
    DuplicateKey {
        /// The key.
        key: String,
        /// Where its mapping begins, when known.
        line: Option<usize>,
    },
}

/// Values and text bytes of a node, aliases expanded.
#[derive(Clone, Copy, Default)]
struct Size {
    values: u64,
    bytes: u64,
}

impl Size {
    fn add(&mut self, other: Size) {
        self.values = self.values.saturating_add(other.values);
        self.bytes = self.bytes.saturating_add(other.bytes);
    }
}

struct Open {
    anchor: Option<Vec<u8>>,
    size: Size,
}

/// Checks `text` against the limits, without building any value. Syntax
/// errors are left to the full parse, which names them.
pub fn check_yaml(text: &str) -> Result<(), YamlError> {
    check_size(text.len() as u64)?;
    let Some(events) = Events::new(text.as_bytes()) else {
        return Ok(());
    };
    let mut open: Vec<Open> = Vec::new();
    let mut anchors: HashMap<Vec<u8>, Size> = HashMap::new();
    let mut total = Size::default();
    for event in events {
        // What a completed node adds, and the anchor it is known by.
        let (done, anchor) = match event {
            Event::DocumentStart => {
                anchors.clear();
                continue;
            }
            Event::CollectionStart { anchor, line, .. } => {
                if open.len() >= MAX_YAML_DEPTH {
                    return Err(YamlError::TooDeep {
                        line,
                        limit: MAX_YAML_DEPTH,
                    });
                }
                let one = Size {
                    values: 1,
                    bytes: 0,
                };
                total.add(one);
                within(total, line)?;
                open.push(Open { anchor, size: one });
                continue;
            }
            Event::CollectionEnd => match open.pop() {
                Some(node) => (node.size, node.anchor),
                None => continue,
            },
            Event::Scalar {
                anchor,
                bytes,
                line,
                ..
            } => {
                let size = Size {
                    values: 1,
                    bytes: bytes as u64,
                };
                total.add(size);
                within(total, line)?;
                (size, anchor)
            }
            Event::Alias { anchor, line } => {
                if open.iter().any(|o| o.anchor.as_ref() == Some(&anchor)) {
                    return Err(YamlError::RecursiveAlias {
                        line,
                        anchor: String::from_utf8_lossy(&anchor).into_owned(),
                    });
                }
                // An unknown anchor is the full parse's error to name.
                let size = anchors.get(&anchor).copied().unwrap_or(Size {
                    values: 1,
                    bytes: 0,
                });
                total.add(size);
                within(total, line)?;
                (size, None)
            }
            Event::Other => continue,
            Event::Broken => break,
        };
        if let Some(name) = anchor {
            anchors.insert(name, done);
        }
        if let Some(parent) = open.last_mut() {
            parent.size.add(done);
        }
    }
    Ok(())
}

/// Refuses a text of `bytes` over [`MAX_YAML_BYTES`] (a file, before it is read).
pub fn check_size(bytes: u64) -> Result<(), YamlError> {
    if bytes > MAX_YAML_BYTES as u64 {
        return Err(YamlError::TooLarge {
            bytes,
            limit: MAX_YAML_BYTES,
        });
    }
    Ok(())
}

fn within(total: Size, line: usize) -> Result<(), YamlError> {
    if total.values > MAX_YAML_VALUES as u64 {
        return Err(YamlError::TooManyValues {
            line,
            limit: MAX_YAML_VALUES,
        });
    }
    if total.bytes > MAX_YAML_EXPANDED_BYTES as u64 {
        return Err(YamlError::TooMuchText {
            line,
            limit: MAX_YAML_EXPANDED_BYTES,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_yaml_with_aliases_passes() {
        let text = "a: &common {target: 0.99, op: gte}\nb: *common\nc: [*common, *common]\n";
        assert_eq!(check_yaml(text), Ok(()));
    }

    #[test]
    fn deep_flow_nesting_is_refused_at_the_limit_line() {
        let text = format!("a:\n  b: {}", "{a: ".repeat(30_000));
        let started = std::time::Instant::now();
        assert_eq!(
            check_yaml(&text),
            Err(YamlError::TooDeep {
                line: 2,
                limit: MAX_YAML_DEPTH
            })
        );
        assert!(started.elapsed().as_secs() < 2, "{:?}", started.elapsed());
    }

    #[test]
    fn block_nesting_counts_too() {
        let text = "- ".repeat(MAX_YAML_DEPTH + 1) + "x\n";
        assert!(matches!(check_yaml(&text), Err(YamlError::TooDeep { .. })));
        let ok = "- ".repeat(MAX_YAML_DEPTH) + "x\n";
        assert_eq!(check_yaml(&ok), Ok(()));
    }

    #[test]
    fn alias_expansion_is_counted_in_values_and_in_text() {
        let mut laughs = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for (prev, name) in ('a'..'i').zip('b'..'j') {
            laughs.push_str(&format!(
                "{name}: &{name} [{}]\n",
                vec![format!("*{prev}"); 10].join(", ")
            ));
        }
        assert!(matches!(
            check_yaml(&laughs),
            Err(YamlError::TooManyValues {
                limit: MAX_YAML_VALUES,
                ..
            })
        ));
        let long = "y".repeat(100_000);
        let text = format!("a: &a \"{long}\"\nb: [{}]\n", ["*a"; 50].join(", "));
        assert_eq!(
            check_yaml(&text),
            Err(YamlError::TooMuchText {
                line: 2,
                limit: MAX_YAML_EXPANDED_BYTES
            })
        );
    }

    #[test]
    fn an_alias_inside_its_own_node_is_refused() {
        assert_eq!(
            check_yaml("a: &loop [1, *loop]\n"),
            Err(YamlError::RecursiveAlias {
                line: 1,
                anchor: "loop".into()
            })
        );
    }

    #[test]
    fn size_is_checked_first() {
        assert!(matches!(
            check_yaml(&"#".repeat(MAX_YAML_BYTES + 1)),
            Err(YamlError::TooLarge { .. })
        ));
    }
}
