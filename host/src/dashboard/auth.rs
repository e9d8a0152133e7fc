//! Who is looking: an admin or one tenant, from an `Authorization: Bearer`
//! header or from the session cookie set at login.
//!
//! The cookie holds no token. It is `t.<tenant>.<expiry>.<mac>` (or
//! `a.-.<expiry>.<mac>` for an admin), where the mac is an HMAC-SHA256 under a
//! key drawn from the OS when the process first needs it: a stolen cookie
//! expires, and a restart signs everyone out. Tenant names hold no dots
//! (lowercase letters, digits and dashes), so the fields split cleanly.

use crate::service::{Service, Tenant};
use hmac::{Hmac, Mac};
use rand::TryRng;
use sha2::Sha256;
use std::sync::{Arc, OnceLock};

/// The session cookie's name.
pub const COOKIE: &str = "dataslo_session";

/// How long a login lasts, in seconds.
const LIFETIME_SECS: i64 = 12 * 3600;

/// Who is looking.
#[derive(Clone)]
pub enum Viewer {
    /// An admin token: every tenant, read only.
    Admin,
    /// One tenant: its own SLOs only.
    Tenant(Arc<Tenant>),
}

impl Viewer {
    /// Who, for the page header.
    pub fn label(&self) -> String {
        match self {
            Viewer::Admin => "admin (all tenants)".into(),
            Viewer::Tenant(t) => format!("tenant {}", t.name),
        }
    }
}

/// The viewer a token is, admins first.
pub fn by_token(state: &Service, token: &str) -> Option<Viewer> {
    if token.is_empty() {
        return None;
    }
    if state.is_admin(token) {
        return Some(Viewer::Admin);
    }
    state.tenant_for_token(token).map(Viewer::Tenant)
}

/// The viewer of a request: its bearer token, else its session cookie.
pub fn from_headers(
    state: &Service,
    headers: &axum::http::HeaderMap,
    now: jiff::Timestamp,
) -> Option<Viewer> {
    let bearer = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if let Some(token) = bearer {
        // Exactly as sent: a space or tab around it makes another token.
        return by_token(state, token);
    }
    let session = headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(COOKIE)?.strip_prefix('='))?;
    verify(key()?, &state.tenants, session, now)
}

/// The `Set-Cookie` value that logs `viewer` in, or `None` when the process
/// has no session key.
pub fn login_cookie(viewer: &Viewer, now: jiff::Timestamp) -> Option<String> {
    let value = sign(key()?, viewer, now.as_second() + LIFETIME_SECS);
    Some(format!(
        "{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={LIFETIME_SECS}"
    ))
}

/// The `Set-Cookie` value that logs out.
pub fn logout_cookie() -> String {
    format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// The process's session key; `None` if the OS gave no randomness.
fn key() -> Option<&'static [u8; 32]> {
    static KEY: OnceLock<Option<[u8; 32]>> = OnceLock::new();
    KEY.get_or_init(|| {
        let mut key = [0u8; 32];
        rand::rngs::SysRng
            .try_fill_bytes(&mut key)
            .ok()
            .map(|()| key)
    })
    .as_ref()
}

fn mac(key: &[u8], payload: &str) -> Option<Hmac<Sha256>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).ok()?;
    mac.update(payload.as_bytes());
    Some(mac)
}

fn payload(viewer: &Viewer, expiry: i64) -> String {
    match viewer {
        Viewer::Admin => format!("a.-.{expiry}"),
        Viewer::Tenant(t) => format!("t.{}.{expiry}", t.name),
    }
}

fn sign(key: &[u8], viewer: &Viewer, expiry: i64) -> String {
    let payload = payload(viewer, expiry);
    let tag = mac(key, &payload)
        .map(|m| hex::encode(m.finalize().into_bytes()))
        .unwrap_or_default();
    format!("{payload}.{tag}")
}

/// The viewer of a cookie value, if its mac holds and it has not expired.
fn verify(
    key: &[u8],
    tenants: &[Arc<Tenant>],
    value: &str,
    now: jiff::Timestamp,
) -> Option<Viewer> {
    let (payload, tag) = value.rsplit_once('.')?;
    let tag = hex::decode(tag).ok()?;
    // Constant-time comparison, before anything else is read.
    mac(key, payload)?.verify_slice(&tag).ok()?;
    let mut fields = payload.split('.');
    let (kind, name, expiry) = (fields.next()?, fields.next()?, fields.next()?);
    if fields.next().is_some() || expiry.parse::<i64>().ok()? <= now.as_second() {
        return None;
    }
    match kind {
        "a" => Some(Viewer::Admin),
        // A tenant removed from the config is gone, cookie or not.
        "t" => tenants
            .iter()
            .find(|t| t.name == name)
            .cloned()
            .map(Viewer::Tenant),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];

    fn now() -> jiff::Timestamp {
        "2026-11-26T08:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_signed_session_holds_until_it_expires() {
        let expiry = now().as_second() + 60;
        let value = sign(&KEY, &Viewer::Admin, expiry);
        assert!(value.starts_with(&format!("a.-.{expiry}.")));
        assert!(matches!(
            verify(&KEY, &[], &value, now()),
            Some(Viewer::Admin)
        ));
        let later = jiff::Timestamp::from_second(expiry).unwrap();
        assert!(verify(&KEY, &[], &value, later).is_none());
    }

    #[test]
    fn a_session_under_another_key_or_altered_is_refused() {
        let expiry = now().as_second() + 60;
        let value = sign(&KEY, &Viewer::Admin, expiry);
        assert!(verify(&[8; 32], &[], &value, now()).is_none());
        let longer = value.replacen(&expiry.to_string(), &(expiry + 1000).to_string(), 1);
        assert!(verify(&KEY, &[], &longer, now()).is_none());
        for junk in ["", ".", "a.-.1", "a.-.x.zz", "a.-.9999999999.00"] {
            assert!(verify(&KEY, &[], junk, now()).is_none(), "{junk:?}");
        }
    }

    #[test]
    fn a_session_of_a_tenant_that_is_not_configured_is_refused() {
        let payload = format!("t.ghost.{}", now().as_second() + 60);
        let tag = hex::encode(mac(&KEY, &payload).unwrap().finalize().into_bytes());
        assert!(verify(&KEY, &[], &format!("{payload}.{tag}"), now()).is_none());
    }

    #[test]
    fn the_login_cookie_is_http_only_strict_and_site_wide_and_holds_no_token() {
        let cookie = login_cookie(&Viewer::Admin, now()).unwrap();
        for part in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
            assert!(cookie.contains(part), "{cookie}");
        }
        assert!(!cookie.contains("root"));
        assert!(logout_cookie().contains("Max-Age=0"));
    }
}
