//! Requests to the dashboard as a browser without script sends them: no
//! redirect followed, headers and cookies visible.

use super::fixture::FORM;
use crate::support::server::TestServer;

pub(super) struct Answer {
    pub(super) status: u16,
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: String,
}

impl Answer {
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `name=value` of the cookie it sets.
    pub(super) fn cookie(&self) -> String {
        let set = self.header("set-cookie").expect("a Set-Cookie header");
        set.split(';').next().unwrap().to_string()
    }
}

/// A request that follows no redirect.
pub(super) fn request(
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

pub(super) fn send(
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
pub(super) fn get_as(s: &TestServer, token: &str, path: &str) -> Answer {
    request(
        s,
        "GET",
        path,
        &[("Authorization", &format!("Bearer {token}"))],
        "",
    )
}

pub(super) fn login(s: &TestServer, form: &str) -> Answer {
    request(s, "POST", "/login", &[("Content-Type", FORM)], form)
}

pub(super) fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

/// Percent-encodes a path segment, as the dashboard's links do.
pub(super) fn dataslo_url(text: &str) -> String {
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
