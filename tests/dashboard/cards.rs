//! The home page: one card per SLO with its budget, both charts and the
//! alerts that fire, and no script at all.

use super::fixture::{ACME, AT, start};
use super::http::{count, get_as};

#[test]
fn a_tenant_sees_one_card_per_slo_with_budget_charts_and_firing_alerts() {
    let s = start();
    let home = get_as(&s, ACME, &format!("/?at={AT}"));
    assert_eq!(home.status, 200);
    assert!(
        home.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        home.header("content-security-policy")
            .unwrap()
            .starts_with("default-src 'none'")
    );
    assert!(!home.body.contains("<script"), "no script at all");
    assert_eq!(count(&home.body, "<section class=\"card\""), 2);
    assert_eq!(count(&home.body, "<svg class=\"burndown\""), 2);
    assert_eq!(count(&home.body, "<svg class=\"burnrate\""), 2);

    let card = home
        .body
        .split("<section class=\"card\" id=\"slo-orders-volume\">")
        .nth(1)
        .unwrap();
    let card = card.split("</section>").next().unwrap();
    assert!(
        card.contains(
            "<a href=\"/slos/orders-volume?at=2026-11-26T08%3A15%3A00Z\">orders-volume</a>"
        )
    );
    assert!(card.contains("postgres://prod / orders · window 1d"));
    // 50 events in the window, 3 bad, 10% of them allowed: 1 − 3/5 left.
    assert!(
        card.contains("<span class=\"budget ok\">40.00%</span>"),
        "{card}"
    );
    assert!(card.contains("<td class=\"num\">90.00%</td>"), "the target");
    assert!(
        card.contains("<path class=\"line\""),
        "the charts have lines"
    );
    assert!(
        card.contains("Firing: <span class=\"alert\">page:1h/5m</span>"),
        "{card}"
    );
    assert!(!home.body.contains("globex"));
}
