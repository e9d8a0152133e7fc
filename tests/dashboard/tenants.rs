//! Tenants: each sees only its own SLOs; the admin sees all of them,
//! grouped, and names the tenant to open one.

use super::fixture::{ACME, ADMIN, AT, GLOBEX, HOSTILE_NAME, start};
use super::http::{count, dataslo_url, get_as, login, request};

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
