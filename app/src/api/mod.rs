//! Server functions: the secure proxy between the browser and the engine. Each one
//! resolves the viewer from the session on the server, checks the role, and scopes every
//! query by the viewer's own account. None takes an account id from the browser.

pub mod admin;
pub mod alerts;
pub mod auth;
pub mod keys;
pub mod notifications;
pub mod overview;
pub mod upgrade;

pub use overview::{get_dashboard, Dashboard};
