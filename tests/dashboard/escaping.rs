//! Names and datasets made of markup reach the pages escaped.

use super::fixture::{ACME, AT, HOSTILE_NAME, start};
use super::http::{dataslo_url, get_as};

#[test]
fn hostile_slo_and_dataset_names_are_escaped_everywhere() {
    let s = start();
    let home = get_as(&s, ACME, &format!("/?at={AT}"));
    let page = get_as(
        &s,
        ACME,
        &format!("/slos/{}?at={AT}", dataslo_url(HOSTILE_NAME)),
    );
    assert_eq!(page.status, 200);
    for body in [&home.body, &page.body] {
        assert!(!body.contains("<script>alert(1)"));
        assert!(!body.contains("<img src=x"));
        assert!(!body.contains("evil://<b>"));
        assert!(body.contains("evil://&lt;b&gt; / &lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(body.contains("&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;"));
    }
    let href = format!(
        "/slos/{}?at=2026-11-26T08%3A15%3A00Z",
        dataslo_url(HOSTILE_NAME)
    );
    assert!(
        home.body.contains(&format!("<a href=\"{href}\">")),
        "the card links to the page"
    );
}
