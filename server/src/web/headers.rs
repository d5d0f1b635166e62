//! Security headers on every response. Pages carry their own `Content-Security-Policy`
//! with the response's script nonce (set while rendering, in `app::shell`); everything
//! else (JSON, files, redirects) gets one that allows nothing, so a response read as a
//! document cannot run anything or be framed.

use axum::http::{header, HeaderName, HeaderValue};
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;

const NOTHING: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

/// Adds the headers. `https`: the public URL is https, so browsers are told to keep to it
/// (HSTS, one year); over plain http the header would be ignored, and it is not sent.
pub fn apply<S: Clone + Send + Sync + 'static>(router: Router<S>, https: bool) -> Router<S> {
    let fixed = |name: HeaderName, value: &'static str| SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value));
    let router = router
        .layer(SetResponseHeaderLayer::if_not_present(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(NOTHING)))
        .layer(fixed(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(fixed(header::X_FRAME_OPTIONS, "DENY"))
        // Sign-in links carry their token in the address: no other site sees it.
        .layer(fixed(header::REFERRER_POLICY, "same-origin"))
        .layer(fixed(HeaderName::from_static("cross-origin-opener-policy"), "same-origin"));
    if https {
        router.layer(fixed(header::STRICT_TRANSPORT_SECURITY, "max-age=31536000; includeSubDomains"))
    } else {
        router
    }
}
