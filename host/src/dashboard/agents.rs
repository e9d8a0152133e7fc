//! The table of a tenant's agent sites on the home page, from their last
//! heartbeats.

use super::html::{escape, time};
use crate::ledger::AgentReport;
use std::fmt::Write;

/// The sites' table; nothing when the tenant has no agent.
pub fn agents_table(agents: &[AgentReport]) -> String {
    if agents.is_empty() {
        return String::new();
    }
    let mut html = String::from(
        "<h3>Agents</h3><table class=\"agents\"><tr><th>Site</th><th>Last seen</th>\
         <th>Records behind</th><th>SLO set</th><th>Last error</th></tr>",
    );
    for a in agents {
        let version = a.short_version();
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
            escape(&a.site),
            time(a.last_seen),
            a.records_behind,
            escape(&version),
            escape(a.last_error.as_deref().unwrap_or("")),
        );
    }
    html.push_str("</table>");
    html
}
