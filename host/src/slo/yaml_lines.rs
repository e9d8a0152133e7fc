//! The line of a field in YAML text, found by its dotted path
//! (`[0].observation.columns.order_id.distinct`): errors found after the
//! YAML was read into values (which keep no lines) still name the line.

use super::yaml_events::{Event, Events};
use std::iter::Peekable;

/// The line (from 1) of the node at `path` in the first document of
/// `text`: for a path ending at a mapping key, the key's line. `None` when
/// the path is not in the text (or leads through an alias). Keys are matched
/// as written, so a key holding a dot is still found.
pub fn yaml_line(text: &str, path: &str) -> Option<usize> {
    let events = Events::new(text.as_bytes())?
        .filter(|e| !matches!(e, Event::Other | Event::DocumentStart))
        .take_while(|e| *e != Event::Broken);
    node_line(&mut events.peekable(), path)
}

fn node_line(events: &mut Peekable<impl Iterator<Item = Event>>, path: &str) -> Option<usize> {
    let node = events.next()?;
    if path.is_empty() {
        return line_of(&node);
    }
    match node {
        Event::CollectionStart { mapping: true, .. } => loop {
            let key = events.next()?;
            if let Event::Scalar { text, line, .. } = &key {
                let key = String::from_utf8_lossy(text);
                if let Some(rest) = path.strip_prefix(key.as_ref()) {
                    if rest.is_empty() {
                        return Some(*line);
                    }
                    if let Some(rest) = rest.strip_prefix('.') {
                        return node_line(events, rest);
                    }
                    if rest.starts_with('[') {
                        return node_line(events, rest);
                    }
                }
            }
            if key == Event::CollectionEnd {
                return None;
            }
            skip_rest(events, &key)?;
            skip(events)?;
        },
        Event::CollectionStart { mapping: false, .. } => {
            let (index, rest) = path.strip_prefix('[')?.split_once(']')?;
            let index: usize = index.parse().ok()?;
            let rest = rest.strip_prefix('.').unwrap_or(rest);
            for _ in 0..index {
                if events.peek() == Some(&Event::CollectionEnd) {
                    return None;
                }
                skip(events)?;
            }
            if events.peek() == Some(&Event::CollectionEnd) {
                return None;
            }
            node_line(events, rest)
        }
        _ => None,
    }
}

fn line_of(event: &Event) -> Option<usize> {
    match event {
        Event::CollectionStart { line, .. }
        | Event::Scalar { line, .. }
        | Event::Alias { line, .. } => Some(*line),
        _ => None,
    }
}

/// Consumes one whole node.
fn skip(events: &mut impl Iterator<Item = Event>) -> Option<()> {
    let first = events.next()?;
    skip_rest(events, &first)
}

/// Consumes the rest of the node `first` began.
fn skip_rest(events: &mut impl Iterator<Item = Event>, first: &Event) -> Option<()> {
    if !matches!(first, Event::CollectionStart { .. }) {
        return Some(());
    }
    let mut depth = 1;
    while depth > 0 {
        match events.next()? {
            Event::CollectionStart { .. } => depth += 1,
            Event::CollectionEnd => depth -= 1,
            _ => {}
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CASES: &str = "\
- name: a
  observation:
    dataset: {namespace: n, name: t}
    columns:
      order.id: {null_count: 1}
      order_id:
        null_count: 0
        distinct: 5
- name: b
  history:
    - {row_count: 1}
    - row_count: -5
";

    #[test]
    fn a_path_leads_to_its_line_through_mappings_lists_and_dotted_keys() {
        let line = |path| yaml_line(CASES, path);
        assert_eq!(line("[0].observation.columns.order_id.distinct"), Some(8));
        assert_eq!(line("[0].observation.columns.order.id.null_count"), Some(5));
        assert_eq!(line("[0].observation.dataset.name"), Some(3));
        assert_eq!(line("[1].history[1].row_count"), Some(12));
        assert_eq!(line("[1].history[2]"), None);
        assert_eq!(line("[0].nothing"), None);
        assert_eq!(line(""), Some(1));
    }
}
