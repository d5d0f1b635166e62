//! The ledger: one writer task that owns every usage write.
//!
//! Requests that record usage (verify, consume, ingest) send a job here and wait for the
//! answer. The writer takes every job that is waiting, decides them one after another
//! against its in-memory counters, writes them in one transaction, commits, and only then
//! answers. So:
//! - **exact:** decisions are serialised, so racing consumers never pass a hard limit;
//! - **durable:** an answer means the transaction is committed (WAL, `synchronous=FULL`);
//! - **fast:** one commit (one fsync) serves every request of a batch: group commit.
//!
//! The counters are loaded from the rollups on first use and reloaded when a period rolls
//! over, so after a crash or restart they start from exactly what was committed. If a batch
//! fails, it is rolled back, the counters are restored, and every request in it is told.
//! If the writer panics, the batch's callers are answered (their reply channels close, which
//! they report as "usage could not be recorded", a 503), its connection is closed (which
//! rolls the transaction back), its counters are forgotten (to be reloaded from what was
//! committed), and it carries on with the next batch.

use crate::catalog::{Enforcement, Limit};
use super::rollups::{month_start, period_end, rollup_sql, Rollup};
use crate::{AccountId, Clock};
use chrono::{DateTime, DurationRound, NaiveDate, TimeDelta, Utc};
use model::{Aggregation, Period};
use sqlx::pool::PoolConnection;
use sqlx::{QueryBuilder, Sqlite, SqlitePool};
use std::collections::{HashMap, HashSet};
use tokio::sync::{mpsc, oneshot};

/// Jobs waiting beyond this many make callers wait (back-pressure).
const QUEUE: usize = 8192;
/// At most this many jobs share one transaction.
const MAX_BATCH_JOBS: usize = 2048;
/// Rows per multi-row INSERT (7 parameters each; SQLite allows 32,766).
const INSERT_CHUNK: usize = 1000;

/// A meter as the ledger needs it.
#[derive(Debug, Clone)]
pub(crate) struct MeterRef {
    pub key: String,
    pub aggregation: Aggregation,
}

/// Use of a meter that is checked against a limit before it counts.
#[derive(Debug)]
pub(crate) struct Charge {
    pub account: AccountId,
    pub meter: MeterRef,
    pub quantity: f64,
    /// The limit in force, if any; `None` counts without checking.
    pub limit: Option<Limit>,
}

/// What a charge came to.
#[derive(Debug, Clone, PartialEq)]
pub struct ChargeOutcome {
    pub allowed: bool,
    /// The meter's value over the limit's period: after the charge when allowed, as it
    /// stands when refused.
    pub used: f64,
    pub limit: Option<Limit>,
    /// Beyond a soft limit: allowed, but flagged.
    pub over_soft_limit: bool,
    /// When the limit's period starts again (none for lifetime limits and levels).
    pub resets_at: Option<DateTime<Utc>>,
}

impl ChargeOutcome {
    pub fn remaining(&self) -> Option<f64> {
        self.limit.map(|l| (l.value - self.used).max(0.0))
    }
}

/// One validated usage event.
#[derive(Debug)]
pub(crate) struct EventIn {
    pub account: AccountId,
    pub meter: MeterRef,
    pub quantity: f64,
    pub at: DateTime<Utc>,
    pub idempotency_key: String,
    pub properties: Option<String>,
    pub fingerprint: String,
}

/// What happened to an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventOutcome {
    Accepted,
    /// Same key, same payload: counted once already.
    Duplicate,
    /// Same key, different payload: refused.
    Conflict,
}

/// Why the ledger could not answer.
#[derive(Debug, Clone, thiserror::Error)]
#[error("usage could not be recorded: {0}")]
pub struct LedgerFailure(pub String);

enum Job {
    Charge(Charge, oneshot::Sender<Result<ChargeOutcome, LedgerFailure>>),
    Ingest(Vec<EventIn>, oneshot::Sender<Result<Vec<EventOutcome>, LedgerFailure>>),
}

/// A handle to the writer.
#[derive(Clone)]
pub(crate) struct Ledger {
    jobs: mpsc::Sender<Job>,
}

impl Ledger {
    /// Starts the writer on the current tokio runtime.
    pub(crate) fn start(pool: SqlitePool, clock: Clock) -> Self {
        let (jobs, queue) = mpsc::channel(QUEUE);
        tokio::spawn(Writer { pool, conn: None, clock, counters: HashMap::new() }.run(queue));
        Self { jobs }
    }

    pub(crate) async fn charge(&self, charge: Charge) -> Result<ChargeOutcome, LedgerFailure> {
        let (reply, answer) = oneshot::channel();
        self.send(Job::Charge(charge, reply)).await?;
        answer.await.map_err(|_| LedgerFailure("the writer stopped".into()))?
    }

    pub(crate) async fn ingest(&self, events: Vec<EventIn>) -> Result<Vec<EventOutcome>, LedgerFailure> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, answer) = oneshot::channel();
        self.send(Job::Ingest(events, reply)).await?;
        answer.await.map_err(|_| LedgerFailure("the writer stopped".into()))?
    }

    async fn send(&self, job: Job) -> Result<(), LedgerFailure> {
        self.jobs.send(job).await.map_err(|_| LedgerFailure("the writer stopped".into()))
    }
}

/// The periods an instant falls in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Buckets {
    minute: DateTime<Utc>,
    day: NaiveDate,
    month: NaiveDate,
}

impl Buckets {
    fn of(at: DateTime<Utc>) -> Self {
        let day = at.date_naive();
        Self { minute: at.duration_trunc(TimeDelta::minutes(1)).unwrap_or(at), day, month: month_start(day) }
    }
}

/// One (account, meter)'s current values, as committed plus this batch.
#[derive(Debug, Clone)]
struct Counter {
    aggregation: Aggregation,
    at: Buckets,
    minute: f64,
    day: f64,
    month: f64,
    lifetime: f64,
    /// For `last` meters: the level and when it was observed.
    level: f64,
    level_at: Option<DateTime<Utc>>,
}

impl Counter {
    fn value(&self, period: Period) -> f64 {
        if self.aggregation == Aggregation::Last {
            return self.level;
        }
        match period {
            Period::Minute => self.minute,
            Period::Day => self.day,
            Period::Month => self.month,
            Period::Lifetime => self.lifetime,
        }
    }

    /// Folds in a quantity observed at `at`.
    fn observe(&mut self, quantity: f64, at: DateTime<Utc>) {
        let fold = |current: &mut f64, aggregation: Aggregation| match aggregation {
            Aggregation::Max => *current = current.max(quantity),
            _ => *current += quantity,
        };
        match self.aggregation {
            Aggregation::Last => {
                if self.level_at.is_none_or(|t| at >= t) {
                    self.level = quantity;
                    self.level_at = Some(at);
                }
            }
            aggregation => {
                let b = Buckets::of(at);
                if b.minute == self.at.minute {
                    fold(&mut self.minute, aggregation);
                }
                if b.day == self.at.day {
                    fold(&mut self.day, aggregation);
                }
                if b.month == self.at.month {
                    fold(&mut self.month, aggregation);
                }
                fold(&mut self.lifetime, aggregation);
            }
        }
    }
}

type CounterKey = (AccountId, String);
type PendingKey = (AccountId, String, Bucket);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Bucket {
    Minute(DateTime<Utc>),
    Day(NaiveDate),
    Month(NaiveDate),
}

/// A rollup row's change, merged across the batch.
#[derive(Debug, Clone, Copy)]
struct Pending {
    aggregation: Aggregation,
    value: f64,
    observed_at: DateTime<Utc>,
}

impl Pending {
    /// Folds in another change to the same row.
    fn merge_pending(&mut self, other: Pending) {
        match self.aggregation {
            // A sum's parts add up; for a level or a maximum, merging the other's value at
            // its time gives the same as merging each of its events.
            Aggregation::Sum => {
                self.value += other.value;
                self.observed_at = self.observed_at.max(other.observed_at);
            }
            _ => self.merge(other.value, other.observed_at),
        }
    }

    fn merge(&mut self, value: f64, observed_at: DateTime<Utc>) {
        match self.aggregation {
            Aggregation::Sum => self.value += value,
            Aggregation::Max => self.value = self.value.max(value),
            Aggregation::Last => {
                if observed_at >= self.observed_at {
                    self.value = value;
                }
            }
        }
        self.observed_at = self.observed_at.max(observed_at);
    }
}

/// The state of one batch: what to write, and how to undo the counters.
#[derive(Default)]
struct Batch {
    pending: HashMap<PendingKey, Pending>,
    undo: HashMap<CounterKey, Option<Counter>>,
    events: usize,
}

impl Batch {
    fn record(&mut self, account: &AccountId, meter: &MeterRef, value: f64, at: DateTime<Utc>) {
        let b = Buckets::of(at);
        for bucket in [Bucket::Minute(b.minute), Bucket::Day(b.day), Bucket::Month(b.month)] {
            self.pending
                .entry((account.clone(), meter.key.clone(), bucket))
                .and_modify(|p| p.merge(value, at))
                .or_insert(Pending { aggregation: meter.aggregation, value, observed_at: at });
        }
    }
}

enum Reply {
    Charge(oneshot::Sender<Result<ChargeOutcome, LedgerFailure>>, ChargeOutcome),
    Ingest(oneshot::Sender<Result<Vec<EventOutcome>, LedgerFailure>>, Vec<EventOutcome>),
}

impl Reply {
    fn send(self) {
        match self {
            Reply::Charge(to, outcome) => drop(to.send(Ok(outcome))),
            Reply::Ingest(to, outcomes) => drop(to.send(Ok(outcomes))),
        }
    }
}

struct Writer {
    pool: SqlitePool,
    conn: Option<PoolConnection<Sqlite>>,
    clock: Clock,
    counters: HashMap<CounterKey, Counter>,
}

impl Writer {
    async fn run(mut self, mut queue: mpsc::Receiver<Job>) {
        while let Some(first) = queue.recv().await {
            let mut jobs = vec![first];
            while jobs.len() < MAX_BATCH_JOBS {
                match queue.try_recv() {
                    Ok(job) => jobs.push(job),
                    Err(_) => break,
                }
            }
            use futures_util::FutureExt;
            // The batch owns its reply channels; a panic drops them, and every caller in it
            // gets its answer at once instead of hanging.
            if std::panic::AssertUnwindSafe(self.process(jobs)).catch_unwind().await.is_err() {
                self.restart();
            }
        }
    }

    /// After a panic: nothing the batch did survives. Its connection may hold an open
    /// transaction (and with it SQLite's write lock), so it is closed rather than returned
    /// to the pool; closing rolls the transaction back. The counters may hold the batch's
    /// uncommitted decisions, so they are dropped and reloaded from the rollups.
    fn restart(&mut self) {
        metrics::counter!("tollgate_writer_restarts_total").increment(1);
        tracing::error!("the usage writer panicked; its batch was rolled back and answered 503; carrying on");
        if let Some(conn) = self.conn.take() {
            drop(conn.detach());
        }
        self.counters.clear();
    }

    async fn process(&mut self, jobs: Vec<Job>) {
        metrics::histogram!("tollgate_writer_batch_jobs").record(jobs.len() as f64);
        let mut batch = Batch::default();
        let mut replies = Vec::with_capacity(jobs.len());
        let result = self.apply(jobs, &mut batch, &mut replies).await;
        match result {
            Ok(()) => {
                metrics::histogram!("tollgate_writer_batch_events").record(batch.events as f64);
                for reply in replies {
                    reply.send();
                }
            }
            Err((err, unanswered)) => {
                tracing::error!(error = %err, "usage batch failed; rolled back");
                if let Some(conn) = self.conn.as_mut() {
                    if sqlx::query("ROLLBACK").execute(&mut **conn).await.is_err() {
                        // A connection in an unknown state is not reused.
                        self.conn = None;
                    }
                }
                for (key, before) in batch.undo {
                    match before {
                        Some(counter) => self.counters.insert(key, counter),
                        None => self.counters.remove(&key),
                    };
                }
                let failure = LedgerFailure(err.to_string());
                for reply in replies {
                    match reply {
                        Reply::Charge(to, _) => drop(to.send(Err(failure.clone()))),
                        Reply::Ingest(to, _) => drop(to.send(Err(failure.clone()))),
                    }
                }
                for job in unanswered {
                    match job {
                        Job::Charge(_, to) => drop(to.send(Err(failure.clone()))),
                        Job::Ingest(_, to) => drop(to.send(Err(failure.clone()))),
                    }
                }
            }
        }
    }

    /// Decides and writes every job, then commits. On failure, returns the jobs not yet
    /// decided, so they are answered too.
    async fn apply(&mut self, jobs: Vec<Job>, batch: &mut Batch, replies: &mut Vec<Reply>) -> Result<(), (sqlx::Error, Vec<Job>)> {
        let now = self.clock.now();
        if self.conn.is_none() {
            match self.pool.acquire().await {
                Ok(conn) => self.conn = Some(conn),
                Err(err) => return Err((err, jobs)),
            }
        }
        if let Err(err) = self.execute("BEGIN IMMEDIATE").await {
            return Err((err, jobs));
        }
        let mut jobs = jobs.into_iter();
        while let Some(job) = jobs.next() {
            let outcome = match job {
                Job::Charge(charge, to) => match self.charge(&charge, now, batch).await {
                    Ok(outcome) => Ok(Reply::Charge(to, outcome)),
                    Err(err) => Err((err, Job::Charge(charge, to))),
                },
                Job::Ingest(events, to) => match self.ingest(&events, now, batch).await {
                    Ok(outcomes) => Ok(Reply::Ingest(to, outcomes)),
                    Err(err) => Err((err, Job::Ingest(events, to))),
                },
            };
            match outcome {
                Ok(reply) => replies.push(reply),
                Err((err, job)) => {
                    let mut rest = vec![job];
                    rest.extend(jobs);
                    return Err((err, rest));
                }
            }
        }
        #[cfg(test)]
        tests::panic_if_armed(batch);
        if let Err(err) = self.flush(batch).await {
            return Err((err, Vec::new()));
        }
        if let Err(err) = self.execute("COMMIT").await {
            return Err((err, Vec::new()));
        }
        Ok(())
    }

    async fn execute(&mut self, sql: &str) -> Result<(), sqlx::Error> {
        let conn = self.conn.as_mut().ok_or(sqlx::Error::PoolClosed)?;
        sqlx::query(sql).execute(&mut **conn).await.map(|_| ())
    }

    async fn charge(&mut self, charge: &Charge, now: DateTime<Utc>, batch: &mut Batch) -> Result<ChargeOutcome, sqlx::Error> {
        let key = (charge.account.clone(), charge.meter.key.clone());
        let counter = self.counter(&key, charge.meter.aggregation, now, batch).await?;
        let period = charge.limit.map_or(Period::Lifetime, |l| l.period);
        let used = counter.value(period);
        // A level goes up by the quantity; a maximum is the quantity itself.
        let (after, observed) = match charge.meter.aggregation {
            Aggregation::Sum => (used + charge.quantity, charge.quantity),
            Aggregation::Last => (used + charge.quantity, counter.level + charge.quantity),
            Aggregation::Max => (used.max(charge.quantity), charge.quantity),
        };
        let resets_at = match (charge.meter.aggregation, charge.limit) {
            (Aggregation::Last, _) | (_, None) => None,
            (_, Some(limit)) => period_end(limit.period, now),
        };
        let over = charge.limit.is_some_and(|l| after > l.value);
        if over && charge.limit.is_some_and(|l| l.enforcement == Enforcement::Hard) {
            return Ok(ChargeOutcome { allowed: false, used, limit: charge.limit, over_soft_limit: false, resets_at });
        }
        if charge.quantity > 0.0 {
            counter.observe(observed, now);
            batch.record(&charge.account, &charge.meter, observed, now);
        }
        Ok(ChargeOutcome { allowed: true, used: after, limit: charge.limit, over_soft_limit: over, resets_at })
    }

    async fn ingest(&mut self, events: &[EventIn], now: DateTime<Utc>, batch: &mut Batch) -> Result<Vec<EventOutcome>, sqlx::Error> {
        // Which events were stored now, by position.
        let mut stored_now = vec![false; events.len()];
        for (n, chunk) in events.chunks(INSERT_CHUNK).enumerate() {
            let offset = n * INSERT_CHUNK;
            // Usually every key is new: then the row count says so, and no row comes back.
            // Otherwise the chunk is undone and inserted again, returning the keys it stored.
            self.execute("SAVEPOINT chunk").await?;
            let stored = self.insert_events(chunk, false).await?.rows_affected();
            if stored == chunk.len() as u64 {
                stored_now[offset..offset + chunk.len()].fill(true);
            } else {
                self.execute("ROLLBACK TO chunk").await?;
                let conn = self.conn.as_mut().ok_or(sqlx::Error::PoolClosed)?;
                let returned: Vec<(String, String)> = Self::insert_query(chunk, true).build_query_as().fetch_all(&mut **conn).await?;
                let mut returned: HashSet<(&str, &str)> = returned.iter().map(|(a, k)| (a.as_str(), k.as_str())).collect();
                // The first event with a returned key is the one stored.
                for (i, e) in chunk.iter().enumerate() {
                    stored_now[offset + i] = returned.remove(&(e.account.as_str(), e.idempotency_key.as_str()));
                }
            }
            self.execute("RELEASE chunk").await?;
        }

        // Any other event has a key stored before: a duplicate or a conflict, by its
        // payload's fingerprint.
        let mut outcomes = Vec::with_capacity(events.len());
        let mut others = Vec::new();
        for (i, now_stored) in stored_now.iter().enumerate() {
            if *now_stored {
                outcomes.push(EventOutcome::Accepted);
            } else {
                outcomes.push(EventOutcome::Duplicate);
                others.push(i);
            }
        }
        if !others.is_empty() {
            let mut stored: HashMap<(String, String), Option<String>> = HashMap::new();
            for chunk in others.chunks(INSERT_CHUNK) {
                let mut select = QueryBuilder::<Sqlite>::new(
                    "SELECT account_id, idempotency_key, fingerprint FROM usage_events WHERE (account_id, idempotency_key) IN (",
                );
                select.push_values(chunk, |mut row, &i| {
                    row.push_bind(events[i].account.as_str()).push_bind(events[i].idempotency_key.as_str());
                });
                select.push(")");
                let conn = self.conn.as_mut().ok_or(sqlx::Error::PoolClosed)?;
                let rows: Vec<(String, String, Option<String>)> = select.build_query_as().fetch_all(&mut **conn).await?;
                stored.extend(rows.into_iter().map(|(a, k, f)| ((a, k), f)));
            }
            for i in others {
                let e = &events[i];
                let same = stored
                    .get(&(e.account.as_str().to_owned(), e.idempotency_key.clone()))
                    .is_some_and(|f| f.as_deref() == Some(e.fingerprint.as_str()));
                outcomes[i] = if same { EventOutcome::Duplicate } else { EventOutcome::Conflict };
            }
        }

        // Accepted events, grouped by (account, meter): one counter lookup and one pending
        // row per bucket for each group, however many events it holds.
        let mut groups: HashMap<(&AccountId, &str), Vec<&EventIn>> = HashMap::new();
        let mut accepted = 0;
        for (e, outcome) in events.iter().zip(&outcomes) {
            if *outcome == EventOutcome::Accepted {
                groups.entry((&e.account, e.meter.key.as_str())).or_default().push(e);
                accepted += 1;
            }
        }
        for ((account, _), group) in groups {
            let meter = &group[0].meter;
            let key = (account.clone(), meter.key.clone());
            let counter = self.counter(&key, meter.aggregation, now, batch).await?;
            let mut rows: HashMap<Bucket, Pending> = HashMap::new();
            for e in &group {
                counter.observe(e.quantity, e.at);
                let b = Buckets::of(e.at);
                for bucket in [Bucket::Minute(b.minute), Bucket::Day(b.day), Bucket::Month(b.month)] {
                    rows.entry(bucket)
                        .and_modify(|p| p.merge(e.quantity, e.at))
                        .or_insert(Pending { aggregation: meter.aggregation, value: e.quantity, observed_at: e.at });
                }
            }
            for (bucket, row) in rows {
                batch
                    .pending
                    .entry((account.clone(), meter.key.clone(), bucket))
                    .and_modify(|p| p.merge_pending(row))
                    .or_insert(row);
            }
        }
        batch.events += accepted;
        metrics::counter!("tollgate_ingested_events_total").increment(accepted as u64);
        Ok(outcomes)
    }

    fn insert_query(chunk: &[EventIn], returning: bool) -> QueryBuilder<'_, Sqlite> {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO usage_events (account_id, idempotency_key, meter, quantity, occurred_at, properties, fingerprint) ",
        );
        insert.push_values(chunk, |mut row, e| {
            row.push_bind(e.account.as_str())
                .push_bind(e.idempotency_key.as_str())
                .push_bind(e.meter.key.as_str())
                .push_bind(e.quantity)
                .push_bind(e.at)
                .push_bind(e.properties.as_deref())
                .push_bind(e.fingerprint.as_str());
        });
        insert.push(" ON CONFLICT (account_id, idempotency_key) DO NOTHING");
        if returning {
            insert.push(" RETURNING account_id, idempotency_key");
        }
        insert
    }

    async fn insert_events(&mut self, chunk: &[EventIn], returning: bool) -> Result<sqlx::sqlite::SqliteQueryResult, sqlx::Error> {
        let conn = self.conn.as_mut().ok_or(sqlx::Error::PoolClosed)?;
        Self::insert_query(chunk, returning).build().execute(&mut **conn).await
    }

    /// The counter for a key, loaded on first use and brought to `now`'s periods; its state
    /// before this batch is kept for undo.
    async fn counter(&mut self, key: &CounterKey, aggregation: Aggregation, now: DateTime<Utc>, batch: &mut Batch) -> Result<&mut Counter, sqlx::Error> {
        if !batch.undo.contains_key(key) {
            batch.undo.insert(key.clone(), self.counters.get(key).cloned());
        }
        let at = Buckets::of(now);
        let stale = match self.counters.get(key) {
            None => None,
            Some(c) if c.aggregation != aggregation => None,
            Some(c) => Some(c.at),
        };
        match stale {
            Some(current) if current == at => {}
            Some(current) => {
                // A new period: read it, since events dated ahead may already be in it.
                let mut fresh = self.counters.get(key).cloned().ok_or(sqlx::Error::RowNotFound)?;
                if current.minute != at.minute {
                    fresh.minute = self.load_bucket(key, Rollup::Minute, Bucket::Minute(at.minute)).await?;
                }
                if current.day != at.day {
                    fresh.day = self.load_bucket(key, Rollup::Daily, Bucket::Day(at.day)).await?;
                }
                if current.month != at.month {
                    fresh.month = self.load_bucket(key, Rollup::Monthly, Bucket::Month(at.month)).await?;
                }
                fresh.at = at;
                self.counters.insert(key.clone(), fresh);
            }
            None => {
                let loaded = self.load(key, aggregation, at).await?;
                self.counters.insert(key.clone(), loaded);
            }
        }
        self.counters.get_mut(key).ok_or(sqlx::Error::RowNotFound)
    }

    async fn load_bucket(&mut self, (account, meter): &CounterKey, table: Rollup, bucket: Bucket) -> Result<f64, sqlx::Error> {
        let conn = self.conn.as_mut().ok_or(sqlx::Error::PoolClosed)?;
        let (table, column) = table.names();
        let sql = format!("SELECT value FROM {table} WHERE account_id = $1 AND meter = $2 AND {column} = $3");
        let query = sqlx::query_scalar::<_, f64>(&sql).bind(account.as_str()).bind(meter.as_str());
        let query = match bucket {
            Bucket::Minute(t) => query.bind(t),
            Bucket::Day(d) | Bucket::Month(d) => query.bind(d),
        };
        Ok(query.fetch_optional(&mut **conn).await?.unwrap_or(0.0))
    }

    async fn load(&mut self, key: &CounterKey, aggregation: Aggregation, at: Buckets) -> Result<Counter, sqlx::Error> {
        let mut counter = Counter { aggregation, at, minute: 0.0, day: 0.0, month: 0.0, lifetime: 0.0, level: 0.0, level_at: None };
        let (account, meter) = key;
        if aggregation == Aggregation::Last {
            let conn = self.conn.as_mut().ok_or(sqlx::Error::PoolClosed)?;
            let level: Option<(f64, DateTime<Utc>)> = sqlx::query_as(
                "SELECT value, observed_at FROM usage_daily WHERE account_id = $1 AND meter = $2 ORDER BY day DESC LIMIT 1",
            )
            .bind(account.as_str())
            .bind(meter.as_str())
            .fetch_optional(&mut **conn)
            .await?;
            if let Some((value, observed_at)) = level {
                counter.level = value;
                counter.level_at = Some(observed_at);
            }
            return Ok(counter);
        }
        counter.minute = self.load_bucket(key, Rollup::Minute, Bucket::Minute(at.minute)).await?;
        counter.day = self.load_bucket(key, Rollup::Daily, Bucket::Day(at.day)).await?;
        counter.month = self.load_bucket(key, Rollup::Monthly, Bucket::Month(at.month)).await?;
        let sql = if aggregation == Aggregation::Max {
            "SELECT MAX(value) FROM usage_monthly WHERE account_id = $1 AND meter = $2"
        } else {
            "SELECT SUM(value) FROM usage_monthly WHERE account_id = $1 AND meter = $2"
        };
        let conn = self.conn.as_mut().ok_or(sqlx::Error::PoolClosed)?;
        let lifetime: Option<f64> = sqlx::query_scalar(sql).bind(account.as_str()).bind(meter.as_str()).fetch_one(&mut **conn).await?;
        counter.lifetime = lifetime.unwrap_or(0.0);
        Ok(counter)
    }

    /// Writes the batch's rollup changes: one upsert per row touched, however many events.
    async fn flush(&mut self, batch: &mut Batch) -> Result<(), sqlx::Error> {
        let conn = self.conn.as_mut().ok_or(sqlx::Error::PoolClosed)?;
        for ((account, meter, bucket), pending) in batch.pending.drain() {
            let table = match bucket {
                Bucket::Minute(_) => Rollup::Minute,
                Bucket::Day(_) => Rollup::Daily,
                Bucket::Month(_) => Rollup::Monthly,
            };
            let query = sqlx::query(rollup_sql(table, pending.aggregation)).bind(account.as_str()).bind(meter);
            let query = match bucket {
                Bucket::Minute(t) => query.bind(t),
                Bucket::Day(d) | Bucket::Month(d) => query.bind(d),
            };
            query.bind(pending.value).bind(pending.observed_at).execute(&mut **conn).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// The account whose next batch panics in the writer, once armed.
    const PANICS: &str = "acc_writer_panics";
    static ARMED: AtomicBool = AtomicBool::new(false);

    /// Fault injection: panics mid-batch (decided, written to the counters, inside the
    /// open transaction, not committed) when the batch charges [`PANICS`] and it is armed.
    pub(super) fn panic_if_armed(batch: &Batch) {
        let ours = batch.pending.keys().any(|(account, _, _)| account.as_str() == PANICS);
        if ours && ARMED.swap(false, Ordering::SeqCst) {
            panic!("injected: the usage writer panics mid-batch");
        }
    }

    #[tokio::test]
    async fn a_panic_in_the_writer_answers_its_batch_and_the_writer_carries_on_from_what_was_committed() {
        use crate::accounts::NewAccount;
        let dir = tempfile::tempdir().expect("tempdir");
        let db = crate::db::Db::connect(&format!("sqlite://{}", dir.path().join("t.db").display())).await.expect("db");
        let engine = crate::Engine::new(db, crate::Catalog::demo().expect("demo"), crate::EngineConfig::default());
        let now = engine.now();
        let new = |id: &str| NewAccount {
            id: AccountId::parse(id).expect("id"),
            name: id.into(),
            plan_id: "free".into(),
            status: model::LicenseStatus::Active,
            seats: 1,
            starts_at: now - TimeDelta::days(1),
            expires_at: None,
        };
        engine.create_account(&new(PANICS)).await.expect("account");
        let info = engine.access(&AccountId::parse(PANICS).expect("id")).await.expect("info");
        let first = engine.consume(&info, "api_calls", 3.0).await.expect("a committed charge");
        assert_eq!(first.outcome.used, 3.0);

        ARMED.store(true, Ordering::SeqCst);
        let failed = engine.consume(&info, "api_calls", 5.0).await.expect_err("the panicking batch fails");
        assert!(matches!(failed, crate::EngineError::Ledger(_)), "{failed:?}");
        assert_eq!(failed.status(), 503, "held requests get a 503, not a hang");
        assert!(!ARMED.load(Ordering::SeqCst), "the fault fired");

        // The writer carries on, from what was committed: the 5 were never counted.
        let next = engine.consume(&info, "api_calls", 1.0).await.expect("the writer is back");
        assert_eq!(next.outcome.used, 4.0);
        // And the panicked transaction let go of SQLite's write lock.
        engine.create_account(&new("acc_after_panic")).await.expect("other writes go through");
        let stored: f64 = sqlx::query_scalar("SELECT value FROM usage_daily WHERE account_id = $1 AND meter = 'api_calls'")
            .bind(PANICS)
            .fetch_one(engine.db().pool())
            .await
            .expect("rollup");
        assert_eq!(stored, 4.0);
    }

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).single().expect("valid time")
    }

    #[test]
    fn a_counter_only_counts_events_in_its_current_periods() {
        let now = at(2026, 11, 30, 23, 59, 10);
        let mut c = Counter { aggregation: Aggregation::Sum, at: Buckets::of(now), minute: 0.0, day: 0.0, month: 0.0, lifetime: 0.0, level: 0.0, level_at: None };
        c.observe(2.0, now);
        c.observe(3.0, at(2026, 11, 2, 0, 0, 0)); // earlier this month
        c.observe(5.0, at(2026, 12, 1, 0, 0, 20)); // dated ahead, into next month
        assert_eq!((c.minute, c.day, c.month, c.lifetime), (2.0, 2.0, 5.0, 10.0));
    }

    #[test]
    fn a_level_is_replaced_only_by_a_newer_one() {
        let now = at(2026, 11, 22, 12, 0, 0);
        let mut c = Counter { aggregation: Aggregation::Last, at: Buckets::of(now), minute: 0.0, day: 0.0, month: 0.0, lifetime: 0.0, level: 0.0, level_at: None };
        c.observe(40.0, now);
        c.observe(99.0, now - TimeDelta::hours(1));
        assert_eq!(c.value(Period::Lifetime), 40.0);
        c.observe(41.0, now + TimeDelta::seconds(1));
        assert_eq!(c.value(Period::Day), 41.0);
    }
}
