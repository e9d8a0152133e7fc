//! The page as headless Chromium draws it (skipped without a `chromium` on
//! PATH; .ci/run installs it).

use super::fixture::{ACME, AT, start};
use super::http::count;
use crate::support::browser::{HeaderProxy, chromium, run_chromium};

#[test]
fn chromium_draws_the_cards_with_both_charts() {
    let Some(chromium) = chromium() else {
        eprintln!("skipped: no chromium on PATH (.ci/run installs it)");
        return;
    };
    let s = start();
    // Chromium cannot post the login form without script, and a token has
    // no place in a URL: a proxy adds the header to its requests.
    let proxy = HeaderProxy::start(
        s.url.trim_start_matches("http://"),
        &format!("Authorization: Bearer {ACME}"),
    );
    let url = format!("{}/?at={AT}", proxy.url);
    let scratch = tempfile::tempdir().unwrap();

    let dom = run_chromium(
        &chromium,
        scratch.path(),
        &["--dump-dom".into(), url.clone()],
    );
    assert!(dom.contains("orders-volume"), "{dom}");
    assert_eq!(count(&dom, "<svg class=\"burndown\""), 2, "{dom}");
    assert_eq!(count(&dom, "<svg class=\"burnrate\""), 2, "{dom}");

    let shot = scratch.path().join("shot.png");
    run_chromium(
        &chromium,
        scratch.path(),
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1280,900".into(),
            url,
        ],
    );
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    assert!(
        png.len() > 20_000,
        "a page of cards and charts, not a blank: {} bytes",
        png.len()
    );
    if let Some(keep) = std::env::var_os("DATASLO_KEEP_SCREENSHOT") {
        std::fs::write(keep, &png).unwrap();
    }
}
