//! The dashboard of `dataslo serve` on a real loopback server: login and
//! sessions, the cards and their charts, one SLO's page, tenants that
//! cannot see each other, the admin's view of all, escaping of hostile
//! names, HTML error pages, and the page as headless Chromium draws it.
//!
//! The data: tenant `acme` has `orders-volume` (a day of good observations
//! every 30 minutes, then three bad ones just before 08:00 that fire its
//! page alert) and an SLO whose name and dataset are markup; tenant
//! `globex` has an `orders-volume` of its own without data (its no-data
//! alert fires). Pages are asked for at [`AT`].

use crate::support::browser::{HeaderProxy, chromium, run_chromium};
use crate::support::server::{TestServer, start_server};
use dataslo::config::{Config, TenantConfig};
use dataslo::server::token_hash;
use std::path::Path;

const ORDERS: &str = r#"
apiVersion: openslo/v1
kind: SLO
metadata: { name: orders-volume }
spec:
  indicator:
    metadata: { name: v }
    spec:
      thresholdMetric:
        metricSource:
          type: dataslo
          spec:
            dataset: { namespace: "postgres://prod", name: orders }
            policy: "builtin:volume"
            config: { min_rows: 10 }
            sli: volume
            trigger: observation
            alerting:
              rules: [{ severity: page, long: 1h, short: 5m, burn: 2 }]
              min_events: 3
  timeWindow: [{ duration: 1d, isRolling: true }]
  budgetingMethod: Occurrences
  objectives: [{ op: gte, value: 10, target: 0.9 }]
"#;

/// A name and a dataset made of markup: both reach the pages.
const HOSTILE: &str = r#"
---
apiVersion: openslo/v1
kind: SLO
metadata: { name: "<img src=x onerror=alert(1)>\"'&" }
spec:
  indicator:
    metadata: { name: v }
    spec:
      thresholdMetric:
        metricSource:
          type: dataslo
          spec:
            dataset: { namespace: "evil://<b>", name: "<script>alert(1)</script>" }
            policy: "builtin:volume"
            config: { min_rows: 10 }
            sli: volume
            trigger: observation
  timeWindow: [{ duration: 1d, isRolling: true }]
  budgetingMethod: Occurrences
  objectives: [{ op: gte, value: 10, target: 0.9 }]
"#;

const HOSTILE_NAME: &str = "<img src=x onerror=alert(1)>\"'&";

/// The time pages are asked for.
const AT: &str = "2026-11-26T08:15:00Z";
const ACME: &str = "acme-secret";
const GLOBEX: &str = "globex-secret";
const ADMIN: &str = "root-secret";
const FORM: &str = "application/x-www-form-urlencoded";

fn tenant(dir: &Path, name: &str, yaml: &str) -> TenantConfig {
    let file = dir.join(format!("{name}.yaml"));
    std::fs::write(&file, yaml).unwrap();
    TenantConfig {
        name: name.into(),
        token_sha256: vec![token_hash(&format!("{name}-secret"))],
        slo_files: vec![file],
        limits: Default::default(),
    }
}

fn observation(namespace: &str, name: &str, at: jiff::Timestamp, rows: u64) -> String {
    serde_json::json!({
        "dataset": {"namespace": namespace, "name": name},
        "observed_at": at.to_string(),
        "row_count": rows,
    })
    .to_string()
}

/// The two tenants, an admin token, acme's data posted through the API and
/// the alerts evaluated as `serve`'s clock loop would.
fn start() -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        tenants: vec![
            tenant(dir.path(), "acme", &format!("{ORDERS}{HOSTILE}")),
            tenant(dir.path(), "globex", ORDERS),
        ],
        ..Config::default()
    };
    config.server.admin_token_sha256 = vec![token_hash(ADMIN)];
    let server = start_server(dir, config);

    let eight: jiff::Timestamp = "2026-11-26T08:00:00Z".parse().unwrap();
    let minutes = |m: i64| eight + jiff::SignedDuration::from_mins(m);
    let mut lines: Vec<String> = (1..=47)
        .map(|half_hours| observation("postgres://prod", "orders", minutes(-30 * half_hours), 50))
        .collect();
    for bad in [-10, -5, 0] {
        lines.push(observation("postgres://prod", "orders", minutes(bad), 5));
    }
    lines.push(observation(
        "evil://<b>",
        "<script>alert(1)</script>",
        minutes(-60),
        50,
    ));
    let (status, body) = send(
        &server,
        "POST",
        "/v1/observations",
        &[
            ("Authorization", &format!("Bearer {ACME}")),
            ("Content-Type", "application/x-ndjson"),
        ],
        &lines.join("\n"),
    );
    assert_eq!(status, 200, "{body}");

    // The page rule goes pending at 07:55:30 and fires five minutes later;
    // globex, without data, has its no-data alert fire.
    for tenant in &server.state.tenants {
        for armed in tenant.scheduler.slos().iter() {
            for at in [minutes(-5), minutes(0)] {
                let at = at + jiff::SignedDuration::from_secs(30);
                dataslo::alert::evaluate(tenant.scheduler.ledger(), &armed.slo, at, &[]).unwrap();
            }
        }
    }
    server
}

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `name=value` of the cookie it sets.
    fn cookie(&self) -> String {
        let set = self.header("set-cookie").expect("a Set-Cookie header");
        set.split(';').next().unwrap().to_string()
    }
}

/// A request that follows no redirect.
fn request(
    s: &TestServer,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Answer {
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .new_agent();
    let url = format!("{}{path}", s.url);
    let mut response = if method == "GET" {
        let mut req = agent.get(&url);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        req.call().unwrap()
    } else {
        let mut req = agent.post(&url);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        req.send(body).unwrap()
    };
    Answer {
        status: response.status().as_u16(),
        headers: response
            .headers()
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect(),
        body: response.body_mut().read_to_string().unwrap(),
    }
}

fn send(
    s: &TestServer,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let a = request(s, method, path, headers, body);
    (a.status, a.body)
}

/// GET with a bearer token.
fn get_as(s: &TestServer, token: &str, path: &str) -> Answer {
    request(
        s,
        "GET",
        path,
        &[("Authorization", &format!("Bearer {token}"))],
        "",
    )
}

fn login(s: &TestServer, form: &str) -> Answer {
    request(s, "POST", "/login", &[("Content-Type", FORM)], form)
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

#[test]
fn without_a_session_the_pages_redirect_to_the_login_form() {
    let s = start();
    for path in ["/", "/?at=noon", "/slos/orders-volume"] {
        let answer = request(&s, "GET", path, &[], "");
        assert_eq!(
            (answer.status, answer.header("location")),
            (303, Some("/login")),
            "{path}"
        );
    }
    let form = request(&s, "GET", "/login", &[], "");
    assert_eq!(form.status, 200);
    assert!(
        form.body
            .contains("<form class=\"login\" method=\"post\" action=\"/login\">")
    );
    assert!(
        form.body
            .contains("type=\"password\" id=\"token\" name=\"token\"")
    );
}

#[test]
fn a_valid_token_logs_in_with_an_http_only_strict_cookie_that_holds_no_token() {
    let s = start();
    let answer = login(&s, &format!("token={ACME}"));
    assert_eq!((answer.status, answer.header("location")), (303, Some("/")));
    let set = answer.header("set-cookie").unwrap();
    for part in ["dataslo_session=", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(part), "{set}");
    }
    assert!(!set.contains(ACME), "{set}");

    let home = request(
        &s,
        "GET",
        &format!("/?at={AT}"),
        &[("Cookie", &answer.cookie())],
        "",
    );
    assert_eq!(home.status, 200);
    assert!(home.body.contains("tenant acme"));
    assert!(home.body.contains("orders-volume"));
}

#[test]
fn a_wrong_token_gets_the_form_again_with_an_error_and_never_a_500() {
    let s = start();
    for (form, content_type, status) in [
        ("token=wrong", FORM, 401),
        ("token=", FORM, 401),
        ("token=%FF%FE", FORM, 401),
        ("", FORM, 400),
        ("tokens=acme-secret", FORM, 400),
        (r#"{"token":"acme-secret"}"#, "application/json", 415),
    ] {
        let answer = request(
            &s,
            "POST",
            "/login",
            &[("Content-Type", content_type)],
            form,
        );
        assert_eq!(answer.status, status, "{form:?}: {}", answer.body);
        assert!(answer.header("set-cookie").is_none(), "{form:?}");
        assert!(answer.body.contains("<p class=\"error\">"), "{form:?}");
        assert!(
            answer.body.contains("name=\"token\""),
            "{form:?}: the form again"
        );
    }
}

#[test]
fn a_forged_or_cleared_session_cookie_is_no_session() {
    let s = start();
    let cookie = login(&s, &format!("token={ACME}")).cookie();
    let forged = cookie.replace("t.acme.", "t.globex.");
    for bad in [
        forged.as_str(),
        "dataslo_session=",
        "dataslo_session=acme-secret",
    ] {
        let answer = request(&s, "GET", "/", &[("Cookie", bad)], "");
        assert_eq!(answer.status, 303, "{bad}");
    }
    let out = request(&s, "POST", "/logout", &[("Cookie", &cookie)], "");
    assert_eq!((out.status, out.header("location")), (303, Some("/login")));
    let cleared = out.header("set-cookie").unwrap();
    assert!(
        cleared.starts_with("dataslo_session=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
}

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

#[test]
fn a_tenant_never_sees_another_tenants_slos() {
    let s = start();
    let globex_home = get_as(&s, GLOBEX, &format!("/?at={AT}"));
    assert_eq!(count(&globex_home.body, "<section class=\"card\""), 1);
    assert!(!globex_home.body.contains("evil://"));
    assert!(
        globex_home
            .body
            .contains("Firing: <span class=\"alert\">no-data</span>")
    );

    let hostile = format!("/slos/{}", dataslo_url(HOSTILE_NAME));
    assert_eq!(get_as(&s, ACME, &hostile).status, 200);
    let refused = get_as(&s, GLOBEX, &hostile);
    assert_eq!(refused.status, 404);
    assert!(
        refused
            .header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    for path in ["/?tenant=acme", "/slos/orders-volume?tenant=acme"] {
        let answer = get_as(&s, GLOBEX, path);
        assert_eq!(answer.status, 404, "{path}");
        assert!(!answer.body.contains("40.00%"), "{path}");
    }
    assert_eq!(
        get_as(&s, GLOBEX, "/slos/orders-volume?tenant=globex").status,
        200
    );
}

#[test]
fn an_admin_sees_every_tenant_grouped_and_opens_an_slo_by_naming_its_tenant() {
    let s = start();
    let cookie = login(&s, &format!("token={ADMIN}")).cookie();
    let as_admin = |path: &str| request(&s, "GET", path, &[("Cookie", &cookie)], "");
    let home = as_admin(&format!("/?at={AT}"));
    assert_eq!(home.status, 200);
    assert!(home.body.contains("admin (all tenants)"));
    let acme = home
        .body
        .find("<h2 class=\"tenant\">Tenant acme</h2>")
        .unwrap();
    let globex = home
        .body
        .find("<h2 class=\"tenant\">Tenant globex</h2>")
        .unwrap();
    assert!(acme < globex);
    assert_eq!(
        count(&home.body[acme..globex], "<section class=\"card\""),
        2
    );
    assert_eq!(count(&home.body[globex..], "<section class=\"card\""), 1);
    assert!(
        home.body
            .contains("href=\"/slos/orders-volume?tenant=globex&amp;at=2026-11-26T08%3A15%3A00Z\"")
    );

    let one = as_admin(&format!("/?tenant=globex&at={AT}"));
    assert_eq!(count(&one.body, "<section class=\"card\""), 1);

    let page = as_admin(&format!("/slos/orders-volume?tenant=globex&at={AT}"));
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Tenant globex") && page.body.contains("No evaluation yet."));
    assert_eq!(
        as_admin("/slos/orders-volume").status,
        400,
        "which tenant's?"
    );
    assert_eq!(as_admin("/slos/orders-volume?tenant=nobody").status, 404);
    assert_eq!(
        get_as(&s, ADMIN, "/slos/orders-volume?tenant=acme").status,
        200,
        "a bearer admin token works too"
    );
}

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

/// Percent-encodes a path segment, as the dashboard's links do.
fn dataslo_url(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

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
