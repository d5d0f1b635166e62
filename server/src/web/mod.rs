//! The browser's side of the HTTP edge: the session middleware and the CSRF guard.

pub mod csrf;
pub mod session;

pub use csrf::{csrf_layer, AllowedOrigins};
pub use session::session_layer;
