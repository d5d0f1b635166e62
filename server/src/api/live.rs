//! `GET /api/live`: the open page's account, as it changes, in Server-Sent Events.
//!
//! Each `live` event carries the meters a charge moved (their text, percentage, level and
//! note, as the meter shows them), and says when the page should read itself again
//! (a license change, a new or read notification). Ingest is counted once per account and
//! sent as meters, like a charge, so a stream of batches never makes pages re-render.
//! Events come at most once a second per page (1,000 pages open on one busy account cost
//! the hot path about 7% more CPU a request at twice a second: BENCHMARKS.md); a comment
//! every 15 seconds keeps proxies from closing the stream and finds a closed tab, whose
//! watch is then dropped.

use crate::api::extract::Customer;
use crate::error::ApiError;
use app::state::AppState;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use axum::Router;
use engine::live::{LiveMeter, LiveState};
use engine::{AccountId, Engine};
use futures_util::Stream;
use serde::Serialize;
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::time::Duration;

/// The least time between two events of one page.
const MIN_GAP: Duration = Duration::from_secs(1);
const KEEP_ALIVE: Duration = Duration::from_secs(15);

pub fn router() -> Router<AppState> {
    Router::new().route("/api/live", get(live))
}

/// One meter as the page shows it.
#[derive(Debug, Serialize)]
struct MeterUpdate {
    meter: String,
    text: String,
    percent: f64,
    /// The bar's width, 0 to 100.
    width: f64,
    level: &'static str,
    note: Option<String>,
}

#[derive(Debug, Serialize)]
struct Update {
    meters: Vec<MeterUpdate>,
    /// Read the page again: something changed that only a full read shows.
    reread: bool,
}

/// Where one page's stream stands: what it has sent.
struct Follow {
    rx: tokio::sync::watch::Receiver<LiveState>,
    engine: Engine,
    account: AccountId,
    sent_meters: BTreeMap<String, LiveMeter>,
    sent_reread: u64,
    sent_unread: Option<i64>,
    first: bool,
}

async fn live(State(state): State<AppState>, customer: Customer) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let rx = state.engine.watch_account(&customer.account);
    let seen = rx.borrow().clone();
    let follow = Follow {
        rx,
        engine: state.engine.clone(),
        account: customer.account,
        sent_meters: seen.meters,
        sent_reread: seen.reread,
        sent_unread: seen.unread,
        first: true,
    };
    let stream = futures_util::stream::unfold(follow, |mut follow| async move {
        loop {
            if !follow.first {
                tokio::time::sleep(MIN_GAP).await;
            }
            follow.first = false;
            follow.rx.changed().await.ok()?;
            let now = follow.rx.borrow_and_update().clone();
            if let Some(update) = follow.update(&now).await {
                let event = Event::default().event("live").json_data(&update).unwrap_or_default();
                return Some((Ok(event), follow));
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

impl Follow {
    /// What changed since the last event, or nothing worth one.
    async fn update(&mut self, now: &LiveState) -> Option<Update> {
        let reread = now.reread != self.sent_reread || now.unread != self.sent_unread;
        self.sent_reread = now.reread;
        self.sent_unread = now.unread;
        let changed: Vec<(String, LiveMeter)> =
            now.meters.iter().filter(|(key, value)| self.sent_meters.get(*key) != Some(value)).map(|(k, v)| (k.clone(), *v)).collect();
        if changed.is_empty() && !reread {
            return None;
        }
        let info = self.engine.access(&self.account).await.ok();
        let at = self.engine.now();
        let mut meters = Vec::with_capacity(changed.len());
        for (key, value) in changed {
            self.sent_meters.insert(key.clone(), value);
            let (Some(meter), Some(info)) = (self.engine.catalog().meter(&key), info.as_ref()) else { continue };
            let Some(limit) = info.limit(&key, at) else { continue };
            let limit = engine::catalog::Limit { value: value.limit, ..limit };
            let quota = self.engine.quota_status(info, meter, value.used, &limit, at);
            meters.push(MeterUpdate {
                text: quota.usage_text(),
                percent: quota.percent,
                width: quota.percent.clamp(0.0, 100.0),
                level: quota.level.as_str(),
                note: quota.note(),
                meter: key,
            });
        }
        Some(Update { meters, reread })
    }
}
