//! Aligned plain-text tables.

use crate::model::escape_control;

/// Renders `rows` under `headers`, columns padded to their widest cell.
/// Columns listed in `right` are right-aligned; the last column is never padded.
/// Cells quote policies and inputs: each is escaped, so that a newline
/// cannot forge a row nor an escape sequence reach the terminal.
pub fn render(headers: &[&str], rows: &[Vec<String>], right: &[usize]) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| row.iter().map(|c| escape_control(c).into_owned()).collect())
        .collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let last = cells.len().saturating_sub(1);
        let mut out = String::new();
        for (i, cell) in cells.into_iter().enumerate() {
            let pad = widths[i].saturating_sub(cell.chars().count());
            if i > 0 {
                out.push_str("  ");
            }
            if right.contains(&i) {
                out.extend(std::iter::repeat_n(' ', pad));
                out.push_str(cell);
            } else {
                out.push_str(cell);
                if i < last {
                    out.extend(std::iter::repeat_n(' ', pad));
                }
            }
        }
        out.push('\n');
        out
    };
    let mut out = line(headers.to_vec());
    for row in &rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn pads_columns_and_right_aligns_numbers() {
        let rows = vec![
            vec!["a".into(), "10".into(), "x".into()],
            vec!["bbb".into(), "2".into(), "y".into()],
        ];
        let text = super::render(&["N", "V", "D"], &rows, &[1]);
        assert_eq!(text, "N     V  D\na    10  x\nbbb   2  y\n");
    }

    #[test]
    fn a_cell_cannot_forge_a_row_or_reach_the_terminal_raw() {
        let rows = vec![vec!["a\nb\x1b[2J".into(), "\u{202e}x".into()]];
        let text = super::render(&["N", "D"], &rows, &[]);
        assert_eq!(
            text,
            "N                 D\na\\u{a}b\\u{1b}[2J  \\u{202e}x\n"
        );
    }
}
