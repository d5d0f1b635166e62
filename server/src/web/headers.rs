//! Security headers on every response. Pages carry their own `Content-Security-Policy`
//! with the response's script nonce (set while rendering, in `app::shell`); everything
//! else (JSON, files, redirects) gets one that allows nothing, so a response read as a
//! document cannot run anything or be framed.
//!
//! One `map_response` layer writes them all: a layer per header (tower-http's
//! `SetResponseHeaderLayer`, as first built) wraps every route once more for each header.

use axum::http::{header, HeaderName, HeaderValue};
use axum::response::Response;
use axum::Router;

const NOTHING: HeaderValue = HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'; base-uri 'none'");
const HSTS: HeaderValue = HeaderValue::from_static("max-age=31536000; includeSubDomains");

/// The headers every response carries.
fn fixed() -> [(HeaderName, HeaderValue); 4] {
    [
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        // Sign-in links carry their token in the address: no other site sees it.
        (header::REFERRER_POLICY, HeaderValue::from_static("same-origin")),
        (HeaderName::from_static("cross-origin-opener-policy"), HeaderValue::from_static("same-origin")),
    ]
}

/// Adds the headers. `https`: the public URL is https, so browsers are told to keep to it
/// (HSTS, one year); over plain http the header would be ignored, and it is not sent.
pub fn apply<S: Clone + Send + Sync + 'static>(router: Router<S>, https: bool) -> Router<S> {
    router.layer(axum::middleware::map_response(move |mut response: Response| async move {
        let headers = response.headers_mut();
        if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
            headers.insert(header::CONTENT_SECURITY_POLICY, NOTHING);
        }
        for (name, value) in fixed() {
            headers.insert(name, value);
        }
        if https {
            headers.insert(header::STRICT_TRANSPORT_SECURITY, HSTS);
        }
        response
    }))
}
