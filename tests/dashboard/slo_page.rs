//! One SLO's page: its recent evaluations and its alert timeline, at the
//! time asked for.

use super::fixture::{ACME, AT, start};
use super::http::{count, get_as};

#[test]
fn an_slo_page_lists_its_recent_evaluations_and_its_alert_timeline() {
    let s = start();
    let page = get_as(&s, ACME, &format!("/slos/orders-volume?at={AT}"));
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("<title>orders-volume · dataslo</title>"));
    assert!(page.body.contains("<svg class=\"burndown\""));
    let evaluations = page
        .body
        .split("<table class=\"evaluations\">")
        .nth(1)
        .unwrap();
    let evaluations = evaluations.split("</table>").next().unwrap();
    assert_eq!(
        count(evaluations, "<tr>"),
        1 + 50,
        "a header and every record"
    );
    let newest = evaluations.split("<tr>").nth(2).unwrap();
    assert!(
        newest.starts_with(
            "<td>2026-11-26 08:00:00 UTC</td><td>measured</td><td class=\"num\">5</td>"
        ),
        "{newest}"
    );
    assert!(
        newest.contains("0 / 1") && newest.contains("5 rows, expected &gt;= 10"),
        "{newest}"
    );

    let timeline = page
        .body
        .split("<table class=\"timeline\">")
        .nth(1)
        .unwrap();
    let rows: Vec<&str> = timeline
        .split("</table>")
        .next()
        .unwrap()
        .split("<tr>")
        .skip(2)
        .collect();
    assert_eq!(rows.len(), 2, "{timeline}");
    assert!(
        rows[0].starts_with(
            "<td>2026-11-26 08:00:30 UTC</td><td>page:1h/5m</td><td>page</td><td>firing</td>"
        ),
        "{}",
        rows[0]
    );
    assert!(
        rows[1].starts_with(
            "<td>2026-11-26 07:55:30 UTC</td><td>page:1h/5m</td><td>page</td><td>pending</td>"
        ),
        "{}",
        rows[1]
    );

    let before = get_as(&s, ACME, "/slos/orders-volume?at=2026-11-26T07:58:00Z");
    assert!(
        !before.body.contains("<td>firing</td>"),
        "a page at a past time shows that time's timeline"
    );
    assert!(!before.body.contains("2026-11-26 08:00:00 UTC</td>"));
}
