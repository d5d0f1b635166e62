use crate::error::AppError;
use leptos::prelude::*;
use model::CreatedKey;

/// Uses a sign-in link: sets the password, signs in, and returns the account's first API
/// key when it had none (shown once, on this page).
#[server(endpoint = "session/redeem_link")]
pub async fn redeem_link(token: String, password: String) -> Result<Option<CreatedKey>, AppError> {
    let state = crate::state::AppState::get()?;
    let redeemed = state.engine.redeem_signin_link(&token, &password).await?;
    crate::state::set_cookie(&state.session_cookie(&redeemed.session));
    Ok(redeemed.first_key)
}
