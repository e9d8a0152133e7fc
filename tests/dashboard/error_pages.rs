//! Bad input gets an HTML error page that says what was wrong, never a 500.

use super::fixture::{ACME, start};
use super::http::get_as;

#[test]
fn bad_input_gets_an_html_error_page_and_never_a_500() {
    let s = start();
    for (path, status, says) in [
        ("/?at=noon", 400, "noon"),
        ("/?when=now", 400, "when"),
        ("/?at=3000-01-01T00:00:00Z", 400, "between 1970 and 2100"),
        ("/slos/nope", 404, "no SLO named &quot;nope&quot;"),
        ("/slos/%FF", 400, "UTF-8"),
        ("/slos/orders-volume?at=", 400, "at="),
        ("/slos/%3Cb%3E", 404, "no SLO named &quot;&lt;b&gt;&quot;"),
    ] {
        let answer = get_as(&s, ACME, path);
        assert_eq!(answer.status, status, "{path}: {}", answer.body);
        assert!(
            answer
                .header("content-type")
                .unwrap()
                .starts_with("text/html"),
            "{path}"
        );
        assert!(answer.body.contains(says), "{path}: {}", answer.body);
    }
}
