//! The dashboard of `dataslo serve` on a real loopback server, one file per
//! thing it specifies: login and sessions, the cards and their charts, one
//! SLO's page, tenants that cannot see each other and the admin's view of
//! all, escaping of hostile names, HTML error pages, and the page as
//! headless Chromium draws it. `fixture` holds the data every test starts
//! from, `http` the requests; both use only `crate::support`.

mod fixture;
mod http;

mod cards;
mod chromium;
mod error_pages;
mod escaping;
mod login;
mod slo_page;
mod tenants;
