//! Live updates for open dashboards: what changed in an account, as it happens.
//!
//! A page subscribes to its account ([`Engine::watch_account`]) and the writes that matter
//! touch it: a charge passes the meter's new total (no database read), ingest and a
//! license change ask for a full re-read, a new notification passes the unread count. An
//! account nobody watches costs a write one shared-lock lookup; a watched one, an update
//! of a small map. Watches of closed pages are dropped by [`Engine::shrink`].

use crate::{AccountId, Engine};
use std::collections::{BTreeMap, HashMap};
use std::sync::RwLock;
use tokio::sync::watch;

/// A meter's total after a charge, in its limit's period.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LiveMeter {
    pub used: f64,
    pub limit: f64,
}

/// What a watcher has not seen yet. Each field only grows or is replaced, so a watcher
/// that misses several changes still sees the latest state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveState {
    /// Meters charged since the watch began, with their latest totals.
    pub meters: BTreeMap<String, LiveMeter>,
    /// The unread notification count, once it changed.
    pub unread: Option<i64>,
    /// Bumped when the page should read everything again (ingest, a license change).
    pub reread: u64,
}

/// The watched accounts.
#[derive(Default)]
pub(crate) struct LiveHub {
    accounts: RwLock<HashMap<AccountId, watch::Sender<LiveState>>>,
    /// Accounts whose meters are being counted again after ingest; `true` when another
    /// ingest asked for a count meanwhile.
    recounting: std::sync::Mutex<HashMap<AccountId, bool>>,
}

impl LiveHub {
    fn touch(&self, account: &AccountId, change: impl FnOnce(&mut LiveState)) {
        let accounts = self.accounts.read().unwrap_or_else(|p| p.into_inner());
        if let Some(sender) = accounts.get(account) {
            sender.send_modify(change);
        }
    }

    fn is_watched(&self, account: &AccountId) -> bool {
        self.accounts.read().unwrap_or_else(|p| p.into_inner()).contains_key(account)
    }

    fn subscribe(&self, account: &AccountId) -> watch::Receiver<LiveState> {
        let mut accounts = self.accounts.write().unwrap_or_else(|p| p.into_inner());
        accounts.entry(account.clone()).or_insert_with(|| watch::channel(LiveState::default()).0).subscribe()
    }

    /// Starts a recount of `account` unless one runs (then it is asked to go again).
    fn begin_recount(&self, account: &AccountId) -> bool {
        let mut running = self.recounting.lock().unwrap_or_else(|p| p.into_inner());
        match running.get_mut(account) {
            Some(again) => {
                *again = true;
                false
            }
            None => {
                running.insert(account.clone(), false);
                true
            }
        }
    }

    /// Ends a recount; true when it must run once more.
    fn end_recount(&self, account: &AccountId) -> bool {
        let mut running = self.recounting.lock().unwrap_or_else(|p| p.into_inner());
        match running.get_mut(account) {
            Some(again) if *again => {
                *again = false;
                true
            }
            _ => {
                running.remove(account);
                false
            }
        }
    }

    /// Forgets accounts nobody watches any more.
    fn shrink(&self) {
        let mut accounts = self.accounts.write().unwrap_or_else(|p| p.into_inner());
        accounts.retain(|_, sender| sender.receiver_count() > 0);
    }

    fn watched(&self) -> usize {
        self.accounts.read().unwrap_or_else(|p| p.into_inner()).len()
    }
}

impl Engine {
    /// Follows an account's changes; the receiver sees the latest [`LiveState`].
    pub fn watch_account(&self, account: &AccountId) -> watch::Receiver<LiveState> {
        self.hot.live.subscribe(account)
    }

    /// How many accounts are watched now (for the metrics and tests).
    pub fn watched_accounts(&self) -> usize {
        self.hot.live.watched()
    }

    /// `meter`'s key, owned, when someone watches the account: what a charge keeps to
    /// tell them afterwards. `None` (and no allocation) otherwise.
    pub(crate) fn live_key(&self, account: &AccountId, meter: &str) -> Option<String> {
        self.hot.live.is_watched(account).then(|| meter.to_owned())
    }

    /// A charge moved `meter` to `used` of `limit`.
    pub(crate) fn live_meter(&self, account: &AccountId, meter: String, used: f64, limit: f64) {
        self.hot.live.touch(account, |state| {
            state.meters.insert(meter, LiveMeter { used, limit });
        });
    }

    /// Ingest wrote to these accounts: the meters of those watched are counted again, by
    /// one task per account at a time (a stream of batches costs one count after another,
    /// not one per batch), and reach their pages as a charge's would.
    pub(crate) fn live_recount(&self, accounts: &[AccountId]) {
        for account in accounts {
            if !self.hot.live.is_watched(account) || !self.hot.live.begin_recount(account) {
                continue;
            }
            let (engine, account) = (self.clone(), account.clone());
            tokio::spawn(async move {
                loop {
                    if let Err(err) = engine.recount(&account).await {
                        tracing::debug!(account = %account, error = %err, "counting meters for a live page failed");
                    }
                    if !engine.hot.live.end_recount(&account) {
                        break;
                    }
                }
            });
        }
    }

    async fn recount(&self, account: &AccountId) -> Result<(), crate::EngineError> {
        let info = self.access(account).await?;
        let now = self.now();
        for meter in self.catalog().meters() {
            let Some(limit) = info.limit(&meter.key, now) else { continue };
            let used = self.current_usage(account, meter, limit.period, now).await?;
            self.live_meter(account, meter.key.clone(), used, limit.value);
        }
        Ok(())
    }

    /// Something the page shows changed in a way only a full read tells.
    pub(crate) fn live_reread(&self, account: &AccountId) {
        self.hot.live.touch(account, |state| state.reread += 1);
    }

    /// The account's unread count is now `unread`.
    pub(crate) fn live_unread(&self, account: &AccountId, unread: i64) {
        self.hot.live.touch(account, |state| state.unread = Some(unread));
    }

    pub(crate) fn shrink_live(&self) {
        self.hot.live.shrink();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_watch_sees_the_latest_state_and_an_unwatched_account_is_forgotten() {
        let hub = LiveHub::default();
        let account = AccountId::parse("acc_live").expect("id");
        hub.touch(&account, |s| s.reread += 1);
        assert_eq!(hub.watched(), 0, "touching an unwatched account creates nothing");
        let mut rx = hub.subscribe(&account);
        hub.touch(&account, |s| {
            s.meters.insert("api_calls".into(), LiveMeter { used: 5.0, limit: 10.0 });
        });
        hub.touch(&account, |s| {
            s.meters.insert("api_calls".into(), LiveMeter { used: 6.0, limit: 10.0 });
        });
        assert!(rx.has_changed().expect("open"));
        assert_eq!(rx.borrow_and_update().meters["api_calls"].used, 6.0, "the latest total");
        hub.shrink();
        assert_eq!(hub.watched(), 1, "still watched");
        drop(rx);
        hub.shrink();
        assert_eq!(hub.watched(), 0, "a closed page costs nothing");
    }
}
