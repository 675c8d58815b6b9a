//! The one place that talks to PostgreSQL. Every function uses it, so every
//! function routes the same way:
//!
//! * reads go to the replica (`DB_REPLICA`), writes to the primary (`DB`);
//! * a read carrying the client's last-write LSN uses the replica only if it
//!   has replayed that far (rules in `db_route`), else the primary;
//! * a replica that cannot be reached is skipped for a few seconds and reads
//!   fall back to the primary;
//! * a write reports the primary's WAL position after it committed: the
//!   response carries it as `x-db-lsn` and the `db_lsn` cookie, and the
//!   client's next reads wait for the replica to reach it (read-your-writes);
//! * every response reports `x-db` (who served it) and `x-db-statements`.
//!
//! One connection per request: Hyperdrive pools the real connections behind
//! it (in transaction mode, so no session state, advisory locks or PREPARE).
//! The connection is driven inside the request (`join`), not spawned, and the
//! client is dropped before the response leaves.

use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use futures_util::future::{join, select, Either};
use serde_json::json;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, Config};
use worker::postgres_tls::PassthroughTls;
use worker::{Date, Delay, Env, Headers, Hyperdrive, Request, SecureTransport, Socket};

use super::route::{
    lsn_cookie, lsn_token, min_lsn_from, replica_is_fresh, Served, LSN_COOKIE, LSN_HEADER,
};
use crate::error::{classify_sqlstate, describe_db_error, DbFailure};
use crate::log::Log;
use crate::lsn::Lsn;
use crate::respond::{append_header, set_header};
use crate::row::{FromRow, Row};
use crate::sql::Statement;
use crate::ApiError;

pub const PRIMARY_BINDING: &str = "DB";
pub const REPLICA_BINDING: &str = "DB_REPLICA";
/// A replica that does not answer the connection within this is treated as down.
const REPLICA_CONNECT_TIMEOUT: Duration = Duration::from_millis(1500);
const PRIMARY_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// After a replica failure, reads go straight to the primary for this long
/// instead of paying a failed connection on every request.
const REPLICA_BACKOFF_MS: f64 = 5_000.0;

thread_local! {
    // Per isolate. The replica's replay position only moves forward, so a
    // position seen once answers later freshness checks without a round trip.
    static REPLICA_REPLAYED: Cell<Option<Lsn>> = const { Cell::new(None) };
    static REPLICA_DOWN_UNTIL_MS: Cell<f64> = const { Cell::new(0.0) };
}

enum DbError {
    Connect(String),
    Query(tokio_postgres::Error),
}

impl DbError {
    /// For the logs: never a row value (see `describe_db_error`).
    fn describe(&self) -> String {
        match self {
            DbError::Connect(e) => format!("connect: {e}"),
            DbError::Query(e) => format!("query: {}", describe_db_error(e)),
        }
    }

    /// A lost connection, not a statement the server refused: the database
    /// (or the pooled connection to it) is the problem.
    fn is_connection_failure(&self) -> bool {
        match self {
            DbError::Connect(_) => true,
            DbError::Query(e) => e.code().map_or(true, |c| {
                classify_sqlstate(c.code()) == DbFailure::Connection
            }),
        }
    }

    /// The replica cancelled the statement so that it could replay the
    /// primary's changes (a recovery conflict: 40001, or 40P01 for a
    /// deadlock with replay). A read-only server fails this way for no other
    /// reason; the read itself was fine.
    fn is_recovery_conflict(&self) -> bool {
        matches!(self, DbError::Query(e)
            if e.code().is_some_and(|c| matches!(c.code(), "40001" | "40P01")))
    }

    fn into_api_error(self, log: &Log, which: &str) -> ApiError {
        match self {
            DbError::Connect(detail) => {
                log.error(
                    "database_unreachable",
                    json!({"database": which, "detail": detail}),
                );
                crate::error::database_unavailable()
            }
            DbError::Query(err) => ApiError::from(err),
        }
    }
}

pub struct Db {
    env: Env,
    log: Log,
    /// Signs and checks read-your-writes tokens (`LSN_TOKEN_SECRET`), read
    /// from the environment only when a request carries a token or writes.
    lsn_key: std::cell::OnceCell<Option<Vec<u8>>>,
    min_lsn: Option<Lsn>,
    statements: Cell<u32>,
    served: Cell<Option<Served>>,
    written_at: Cell<Option<Lsn>>,
}

impl Db {
    /// Reads the client's read-your-writes position (a token we signed) from
    /// the request; anything unsigned is ignored.
    pub fn for_request(env: &Env, req: &Request, log: Log) -> Self {
        let mut db = Self::new(env, log);
        db.min_lsn = min_lsn_of(req, || db.lsn_key().map(<[u8]>::to_vec));
        db
    }

    fn lsn_key(&self) -> Option<&[u8]> {
        self.lsn_key
            .get_or_init(|| {
                let key = crate::secrets::get(&self.env, crate::secrets::LSN_TOKEN);
                if key.is_none() {
                    self.log.warn(
                        "secret_missing",
                        json!({"secret": crate::secrets::LSN_TOKEN}),
                    );
                }
                key
            })
            .as_deref()
    }

    /// For work that no client request drives (a Durable Object's own calls,
    /// a cron job): no read-your-writes position to honour.
    pub fn new(env: &Env, log: Log) -> Self {
        Db {
            env: env.clone(),
            log,
            lsn_key: std::cell::OnceCell::new(),
            min_lsn: None,
            statements: Cell::new(0),
            served: Cell::new(None),
            written_at: Cell::new(None),
        }
    }

    /// Runs a statement that writes, on the primary, then reads the WAL
    /// position that includes its commit (a second statement on the same
    /// connection: inside the first, the commit record does not exist yet).
    ///
    /// The position is best effort: once the write has committed, nothing may
    /// turn its answer into an error. If the position cannot be read, the
    /// answer carries none (the client's next read may then miss this write
    /// on a lagging replica for a moment), and the failure is logged.
    pub async fn write<T: FromRow>(&self, stmt: &Statement) -> Result<Vec<T>, ApiError> {
        let (rows, lsn) = self
            .primary(|client| async move {
                let rows = self.run(&client, stmt).await?;
                let lsn = match self.run(&client, &current_wal_position()).await {
                    Ok(lsn) => lsn
                        .first()
                        .and_then(|r| r.get_opt::<Lsn>("lsn").ok().flatten()),
                    Err(e) => {
                        self.log
                            .warn("wal_position_unread", json!({"detail": e.describe()}));
                        None
                    }
                };
                Ok((rows, lsn))
            })
            .await?;
        self.served.set(Some(Served::Primary));
        self.written_at.set(self.written_at.get().max(lsn));
        from_rows(&rows)
    }

    /// Several statements on one primary connection, each its own
    /// transaction, for work whose next statement depends on the previous
    /// answer and whose caller never reads back (a provider's webhook: read
    /// the order, decide, apply): one connection instead of one per
    /// statement, and no read-your-writes position. As for single
    /// statements, a stale pooled connection that fails on the first
    /// statement, before anything ran, is replaced once.
    pub async fn primary_session<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: AsyncFn(&PrimarySession<'_>) -> Result<T, ApiError>,
    {
        let hd = self
            .env
            .hyperdrive(PRIMARY_BINDING)
            .map_err(|_| ApiError::internal("the DB binding is missing"))?;
        let work = &work;
        let mut tries = 0;
        loop {
            tries += 1;
            let stale_first = Cell::new(false);
            let stale = &stale_first;
            let outcome = with_client(&hd, PRIMARY_CONNECT_TIMEOUT, |client| async move {
                let session = PrimarySession {
                    db: self,
                    client: &client,
                    ran: Cell::new(0),
                    stale_first: stale,
                };
                Ok(work(&session).await)
            })
            .await;
            match outcome {
                Ok(Err(_)) if stale_first.get() && tries == 1 => {
                    self.log
                        .warn("primary_connection_stale", json!({"retry": true}));
                }
                Ok(result) => {
                    self.served.set(Some(Served::Primary));
                    return result;
                }
                Err(e) => return Err(e.into_api_error(&self.log, "primary")),
            }
        }
    }

    /// Runs a read-only statement where the routing rules say it may run.
    pub async fn read<T: FromRow>(&self, stmt: &Statement) -> Result<Vec<T>, ApiError> {
        if let Some(rows) = self.read_on_replica(stmt).await? {
            self.served.set(Some(Served::Replica));
            return from_rows(&rows);
        }
        let rows = self.on_primary(stmt).await?;
        self.served.set(Some(Served::Primary));
        from_rows(&rows)
    }

    /// A read that must see the latest commit, whoever made it (an
    /// idempotency key another request may have just stored).
    pub async fn read_primary<T: FromRow>(&self, stmt: &Statement) -> Result<Vec<T>, ApiError> {
        let rows = self.on_primary(stmt).await?;
        self.served.set(Some(Served::Primary));
        from_rows(&rows)
    }

    /// `Ok(None)` when the replica is missing, down, behind this client, or
    /// cancelled the read to replay the primary's changes: the primary
    /// serves the read. A statement the replica refused (bad
    /// input, a timeout, a bug) is an error of the read, not of the replica:
    /// it is returned as it is, and routing does not change.
    async fn read_on_replica(&self, stmt: &Statement) -> Result<Option<Vec<Row>>, ApiError> {
        let now = Date::now().as_millis() as f64;
        if REPLICA_DOWN_UNTIL_MS.get() > now {
            return Ok(None);
        }
        let Ok(hd) = self.env.hyperdrive(REPLICA_BINDING) else {
            return Ok(None);
        };
        let min_lsn = self.min_lsn;
        // A position this isolate has already seen the replica reach needs no check.
        let needs_check = match (min_lsn, REPLICA_REPLAYED.get()) {
            (None, _) => false,
            (Some(min), Some(seen)) => seen < min,
            (Some(_), None) => true,
        };
        let outcome = with_client(&hd, REPLICA_CONNECT_TIMEOUT, |client| async move {
            if needs_check {
                let replayed = self.run(&client, &replay_position()).await?;
                let replayed: Option<Lsn> = replayed
                    .first()
                    .and_then(|r| r.get_opt::<Lsn>("lsn").ok().flatten());
                if let Some(lsn) = replayed {
                    REPLICA_REPLAYED.set(REPLICA_REPLAYED.get().max(Some(lsn)));
                }
                if !replica_is_fresh(min_lsn, replayed) {
                    return Ok(None);
                }
            }
            self.run(&client, stmt).await.map(Some)
        })
        .await;
        match outcome {
            Ok(rows) => Ok(rows),
            Err(e) if e.is_connection_failure() => {
                self.log.warn(
                    "replica_unavailable",
                    json!({"detail": e.describe(), "fallback": "primary"}),
                );
                REPLICA_DOWN_UNTIL_MS.set(now + REPLICA_BACKOFF_MS);
                Ok(None)
            }
            // Replay won over this read: the primary serves it, and the
            // replica stays in use.
            Err(e) if e.is_recovery_conflict() => {
                self.log.warn(
                    "replica_conflict",
                    json!({"detail": e.describe(), "fallback": "primary"}),
                );
                Ok(None)
            }
            Err(e) => Err(e.into_api_error(&self.log, "replica")),
        }
    }

    async fn on_primary(&self, stmt: &Statement) -> Result<Vec<Row>, ApiError> {
        self.primary(|client| async move { self.run(&client, stmt).await })
            .await
    }

    /// Runs `work` on a primary connection. A pooled connection can be stale
    /// (the primary restarted since the pool opened it): when the first
    /// statement fails because the connection is gone, before anything ran,
    /// `work` runs once more on a fresh one. Every write we make is safe to
    /// send twice anyway (idempotency keys), and nothing had run.
    async fn primary<T, F, Fut>(&self, work: F) -> Result<T, ApiError>
    where
        F: Fn(Client) -> Fut,
        Fut: Future<Output = Result<T, DbError>>,
    {
        let hd = self
            .env
            .hyperdrive(PRIMARY_BINDING)
            .map_err(|_| ApiError::internal("the DB binding is missing"))?;
        let before = self.statements.get();
        match with_client(&hd, PRIMARY_CONNECT_TIMEOUT, &work).await {
            Ok(v) => Ok(v),
            Err(e @ DbError::Query(_))
                if e.is_connection_failure() && self.statements.get() == before + 1 =>
            {
                self.log.warn(
                    "primary_connection_stale",
                    json!({"detail": e.describe(), "retry": true}),
                );
                with_client(&hd, PRIMARY_CONNECT_TIMEOUT, &work)
                    .await
                    .map_err(|e| e.into_api_error(&self.log, "primary"))
            }
            Err(e) => Err(e.into_api_error(&self.log, "primary")),
        }
    }

    /// One statement, one round trip: `query_typed` sends Parse/Bind/Execute
    /// together with an unnamed statement (fine under transaction pooling).
    async fn run(&self, client: &Client, stmt: &Statement) -> Result<Vec<Row>, DbError> {
        self.statements.set(self.statements.get() + 1);
        let params: Vec<(&(dyn ToSql + Sync), Type)> = stmt
            .params
            .iter()
            .map(|p| (p as &(dyn ToSql + Sync), Type::TEXT))
            .collect();
        let rows = client
            .query_typed(&stmt.sql, &params)
            .await
            .map_err(DbError::Query)?;
        let Some(first) = rows.first() else {
            return Ok(Vec::new());
        };
        let names: Rc<[String]> = first
            .columns()
            .iter()
            .map(|c| c.name().to_string())
            .collect();
        rows.iter()
            .map(|row| {
                let values = (0..row.len())
                    .map(|i| row.try_get::<_, Option<String>>(i))
                    .collect::<Result<_, _>>()?;
                Ok(Row::new(names.clone(), values))
            })
            .collect::<Result<Vec<Row>, _>>()
            .map_err(DbError::Query)
    }

    /// `x-db` and `x-db-statements` for this request; after a write, also
    /// its position as `x-db-lsn` and the `db_lsn` cookie.
    /// An answer relayed from elsewhere (a Durable Object's) that already
    /// reports its database work keeps it when this request ran none itself.
    pub fn report(&self, headers: &mut Headers) {
        if self.statements.get() == 0 && headers.has("x-db-statements").unwrap_or(false) {
            return;
        }
        if let Some(served) = self.served.get() {
            set_header(headers, "x-db", served.as_str());
        }
        set_header(
            headers,
            "x-db-statements",
            &self.statements.get().to_string(),
        );
        if let (Some(lsn), Some(key)) = (self.written_at.get(), self.lsn_key()) {
            let token = lsn_token(lsn, key);
            set_header(headers, LSN_HEADER, &token);
            append_header(headers, "set-cookie", &lsn_cookie(&token));
        }
    }
}

/// The read-your-writes position a request carries (`x-db-lsn` or the
/// `db_lsn` cookie), if we signed it. `key` is only asked for when there is a
/// token to check: most requests carry none.
pub fn min_lsn_of(req: &Request, key: impl FnOnce() -> Option<Vec<u8>>) -> Option<Lsn> {
    let header = req.headers().get(LSN_HEADER).ok().flatten();
    let cookie = req
        .headers()
        .get("cookie")
        .ok()
        .flatten()
        .filter(|c| c.contains(LSN_COOKIE));
    if header.is_none() && cookie.is_none() {
        return None;
    }
    min_lsn_from(header.as_deref(), cookie.as_deref(), key().as_deref())
}

/// One primary connection lent to `Db::primary_session`'s work.
pub struct PrimarySession<'a> {
    db: &'a Db,
    client: &'a Client,
    /// Statements run on this connection so far.
    ran: Cell<u32>,
    /// The first statement found the connection gone: replace it once.
    stale_first: &'a Cell<bool>,
}

impl PrimarySession<'_> {
    /// One statement, its own transaction, on the session's connection.
    pub async fn run<T: FromRow>(&self, stmt: &Statement) -> Result<Vec<T>, ApiError> {
        self.ran.set(self.ran.get() + 1);
        match self.db.run(self.client, stmt).await {
            Ok(rows) => from_rows(&rows),
            Err(e) => {
                if self.ran.get() == 1 && e.is_connection_failure() {
                    self.stale_first.set(true);
                }
                Err(e.into_api_error(&self.db.log, "primary"))
            }
        }
    }
}

fn from_rows<T: FromRow>(rows: &[Row]) -> Result<Vec<T>, ApiError> {
    rows.iter().map(T::from_row).collect()
}

fn current_wal_position() -> Statement {
    let mut s = Statement::new();
    s.push_sql("SELECT pg_current_wal_lsn()::text AS lsn");
    s
}

fn replay_position() -> Statement {
    let mut s = Statement::new();
    s.push_sql("SELECT pg_last_wal_replay_lsn()::text AS lsn");
    s
}

async fn with_client<T, F, Fut>(hd: &Hyperdrive, timeout: Duration, work: F) -> Result<T, DbError>
where
    F: FnOnce(Client) -> Fut,
    Fut: Future<Output = Result<T, DbError>>,
{
    let socket = Socket::builder()
        .secure_transport(SecureTransport::StartTls)
        .connect(hd.host(), hd.port())
        .map_err(|e| DbError::Connect(e.to_string()))?;
    let mut config = Config::new();
    config
        .user(hd.user())
        .password(hd.password())
        .dbname(hd.database());
    let connect = Box::pin(config.connect_raw(socket, PassthroughTls));
    let (client, connection) = match select(connect, Delay::from(timeout)).await {
        Either::Left((Ok(pair), _)) => pair,
        Either::Left((Err(e), _)) => return Err(DbError::Connect(e.to_string())),
        Either::Right(_) => return Err(DbError::Connect("timed out".into())),
    };
    // `work` owns the client; when it finishes the client drops, which ends
    // the connection future, so `join` returns.
    let (result, _) = join(work(client), connection).await;
    result
}
