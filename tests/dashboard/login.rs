//! Login and sessions: without one the pages send you to the form; a
//! token gives a cookie that holds no token; a wrong token, a forged cookie
//! or a logout gives no session.

use super::fixture::{ACME, AT, FORM, start};
use super::http::{get_as, login, request};

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
fn a_token_with_a_space_or_tab_around_it_is_another_token_at_login_and_as_bearer() {
    let s = start();
    for padded in [
        format!("+{ACME}"),
        format!("{ACME}+"),
        format!("%09{ACME}"),
        format!("{ACME}%09"),
        format!("%20%20{ACME}%20"),
    ] {
        let answer = login(&s, &format!("token={padded}"));
        assert_eq!(answer.status, 401, "{padded:?}: {}", answer.body);
        assert!(answer.header("set-cookie").is_none(), "{padded:?}");
    }
    // The HTTP parser drops whitespace at the ends of a header; what is left
    // after `Bearer ` must be the token exactly.
    for padded in [format!(" {ACME}"), format!("\t{ACME}"), format!("  {ACME}")] {
        let answer = get_as(&s, &padded, "/");
        assert_eq!(answer.status, 303, "{padded:?}: {}", answer.body);
    }
    assert_eq!(get_as(&s, ACME, &format!("/?at={AT}")).status, 200);
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
