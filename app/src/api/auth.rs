use crate::error::AppError;
use leptos::prelude::*;
use model::SessionUser;

/// The client's address, for the per-address throttles.
#[cfg(feature = "ssr")]
async fn client_address() -> Option<std::net::IpAddr> {
    let peer = leptos_axum::extract::<axum::extract::ConnectInfo<std::net::SocketAddr>>().await.ok()?.0.ip();
    let state = crate::state::AppState::get().ok()?;
    let parts = leptos::prelude::use_context::<axum::http::request::Parts>();
    Some(match parts {
        Some(parts) => state.client_address(peer, &parts.headers),
        None => peer,
    })
}

/// Only same-site paths, so `next` cannot send anyone elsewhere. Browsers drop tabs and
/// newlines from a URL and read `\\` as `/`, so `/\t/evil.example` or `/\\evil.example`
/// would become `//evil.example`, another host: any control character, whitespace or
/// backslash refuses the path, as does a leading `//`.
#[cfg(feature = "ssr")]
fn safe_next(next: Option<String>) -> String {
    next.filter(|n| {
        n.starts_with('/')
            && !n.starts_with("//")
            && !n.chars().any(|c| c.is_control() || c.is_whitespace() || c == '\\')
            && !n.to_ascii_lowercase().starts_with("/%2f")
            && !n.to_ascii_lowercase().starts_with("/%5c")
    })
    .unwrap_or_else(|| "/dashboard".to_owned())
}


/// The signed-in user, or `None`.
#[server(endpoint = "session/me")]
pub async fn current_user() -> Result<Option<SessionUser>, AppError> {
    Ok(crate::state::current_viewer().map(|viewer| viewer.public()))
}

/// Whether customers may sign up themselves.
#[server(endpoint = "session/options")]
pub async fn signup_enabled() -> Result<bool, AppError> {
    Ok(crate::state::AppState::get()?.signup_enabled)
}

/// Whether this server can reset a password by email (it has a mail server).
#[server(endpoint = "session/reset_options")]
pub async fn password_reset_available() -> Result<bool, AppError> {
    Ok(crate::state::AppState::get()?.engine.password_reset_available())
}

/// Emails a password reset link to `email` if it has an account. The answer is the same
/// either way.
#[server(endpoint = "session/forgot")]
pub async fn request_password_reset(email: String) -> Result<String, AppError> {
    let state = crate::state::AppState::get()?;
    state.engine.request_password_reset(&email, client_address().await).await?;
    Ok(format!("If {} has an account, a link to choose a new password is on its way. It works once, within an hour.", email.trim()))
}

/// Sets a new password with a reset link, signs every other session out, and signs in.
#[server(endpoint = "session/reset")]
pub async fn reset_password(token: String, password: String) -> Result<(), AppError> {
    let state = crate::state::AppState::get()?;
    let session = state.engine.reset_password(&token, &password, client_address().await).await?;
    crate::state::set_cookie(&state.session_cookie(&session));
    leptos_axum::redirect("/dashboard");
    Ok(())
}

/// Signs in: a new session (and session id) every time, then on to `next`.
#[server(endpoint = "session/sign_in")]
pub async fn sign_in(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
    let state = crate::state::AppState::get()?;
    let client = client_address().await;
    // Whatever session the browser had is over; the new one gets a new id.
    if let Some(previous) = crate::state::current_viewer() {
        state.engine.end_session(&previous).await?;
    }
    let (token, _) = state.engine.sign_in(&email, &password, client, state.engine.now()).await?;
    crate::state::set_cookie(&state.session_cookie(&token));
    leptos_axum::redirect(&safe_next(next));
    Ok(())
}

/// Creates an account on the free plan with its owner, and signs them in.
#[server(endpoint = "session/sign_up")]
pub async fn sign_up(email: String, password: String, account_name: String) -> Result<(), AppError> {
    let state = crate::state::AppState::get()?;
    if !state.signup_enabled {
        return Err(engine::EngineError::Forbidden("sign-up is turned off; ask the operator for an account").into());
    }
    let client = client_address().await;
    let (token, _) = state.engine.sign_up(&email, &password, &account_name, client, state.engine.now()).await?;
    crate::state::set_cookie(&state.session_cookie(&token));
    leptos_axum::redirect("/dashboard");
    Ok(())
}

/// Ends the session.
#[server(endpoint = "session/sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    let state = crate::state::AppState::get()?;
    if let Some(viewer) = crate::state::current_viewer() {
        state.engine.end_session(&viewer).await?;
    }
    crate::state::set_cookie(&state.cleared_cookie());
    leptos_axum::redirect("/signin");
    Ok(())
}

/// Changes the password; this session continues under a new id, and with
/// `sign_out_others` every other session ends.
#[server(endpoint = "session/password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
    sign_out_others: Option<String>,
) -> Result<(), AppError> {
    let state = crate::state::AppState::get()?;
    let viewer = crate::state::require_viewer()?;
    let token = state
        .engine
        .change_password(&viewer, &current_password, &new_password, sign_out_others.is_some(), state.engine.now())
        .await?;
    crate::state::set_cookie(&state.session_cookie(&token));
    Ok(())
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_on_this_site_after_normalisation() {
        for hostile in ["//evil.example", "/\t/evil.example", "/\n/evil.example", "/\\evil.example", "\\\\evil.example", "https://evil.example",
            "/%2F/evil.example", "/%5c/evil.example", "/ /evil.example", "/\u{0}/x", "evil.example"] {
            assert_eq!(safe_next(Some(hostile.to_owned())), "/dashboard", "{hostile:?}");
        }
        assert_eq!(safe_next(Some("/keys?tab=live".to_owned())), "/keys?tab=live");
        assert_eq!(safe_next(None), "/dashboard");
    }

    #[test]
    fn next_only_leads_to_paths_on_this_site() {
        assert_eq!(safe_next(Some("/keys".into())), "/keys");
        for hostile in ["https://evil.example", "//evil.example", "/\\evil.example", "", "javascript:alert(1)"] {
            assert_eq!(safe_next(Some(hostile.into())), "/dashboard", "{hostile}");
        }
        assert_eq!(safe_next(None), "/dashboard");
    }
}

/// Uses a sign-in link: sets the password, signs in, and returns the account's first API
/// key when it had none (shown once, on this page).
#[server(endpoint = "session/redeem_link")]
pub async fn redeem_link(token: String, password: String) -> Result<Option<model::CreatedKey>, AppError> {
    let state = crate::state::AppState::get()?;
    let redeemed = state.engine.redeem_signin_link(&token, &password, client_address().await).await?;
    crate::state::set_cookie(&state.session_cookie(&redeemed.session));
    Ok(redeemed.first_key)
}
