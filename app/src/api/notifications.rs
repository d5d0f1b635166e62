//! The account's notifications: the list, and marking them read. The account is the
//! session's.

use crate::error::AppError;
use leptos::prelude::*;
use model::Notification;
use serde::{Deserialize, Serialize};

/// How many notifications the page lists.
pub const SHOWN: u32 = 100;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NotificationPage {
    pub unread: i64,
    /// Newest first.
    pub items: Vec<Notification>,
}

/// How many of the signed-in account's notifications are unread: the badge every page
/// shows, loaded by the server before the page renders.
#[derive(Debug, Clone, Copy, Default)]
pub struct Unread(pub i64);

#[server(endpoint = "notifications/list")]
pub async fn list_notifications() -> Result<NotificationPage, AppError> {
    let state = crate::state::AppState::get()?;
    let viewer = crate::state::require_viewer()?;
    let account = viewer.account()?;
    Ok(NotificationPage {
        unread: state.engine.unread_notifications(account).await?,
        items: state.engine.notifications(account, SHOWN).await?,
    })
}

/// Marks one notification read (`id`), or every one (`id` empty). Any member of the
/// account may: the read state is the account's.
#[server(endpoint = "notifications/read")]
pub async fn mark_notifications_read(id: String) -> Result<u64, AppError> {
    let state = crate::state::AppState::get()?;
    let viewer = crate::state::require_viewer()?;
    let account = viewer.account()?;
    let id = Some(id.trim()).filter(|id| !id.is_empty());
    Ok(state.engine.mark_notifications_read(account, id).await?)
}
