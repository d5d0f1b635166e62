//! The browser's side of the HTTP edge: the session middleware, the CSRF guard and the
//! security headers.

pub mod csrf;
pub mod headers;
pub mod session;

pub use csrf::{csrf_layer, AllowedOrigins};
pub use session::session_layer;
