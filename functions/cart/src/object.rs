//! `CartObject`: one cart's single writer, a Durable Object.
//!
//! Why: KV has no compare-and-set and takes about one write per second per
//! key, so two quick adds written straight to KV would lose one. Each cart has
//! one object, which applies its requests one at a time, keeps changes in its
//! own storage (durable before it answers), and moves the cart to KV ten
//! seconds after a change, with a 30-day expiry. KV is where carts rest; the
//! object is where they change.
//!
//! The rules about time and state (the checkout lease, the alarm's
//! flush-or-forget, when to arm the alarm) are plain functions in
//! `cart::object_rules`, who may use a cart (a saved cart answers its owner
//! only) in `cart::owner`; this file does the I/O around them. Every failure
//! of the object's storage or of KV is `503 cart_unavailable` (with
//! Retry-After), its detail in the logs.

use std::cell::{Cell, RefCell};

use cart::object_answer::merge_body;
use cart::object_rules::{
    admit, alarm_step, cart_unavailable, flush_alarm, AlarmStep, CheckoutLease, LeaseChange,
};
use cart::owner::check_caller;
use cart::queries;
use cart::{
    cart_not_found, Cart, CartCommand, CartId, CartRequest, CartStatus, MergeOutcome, PriceCache,
    PricedSku, Sku,
};
use futures_util::lock::Mutex;
use platform::db::Db;
use platform::respond::{self, set_header};
use platform::{request_id, ApiError, Log};
use regions::Regions;

use crate::dev::Fault;
use worker::{durable_object, Date, DurableObject, Env, Request, Response, Result, State};

/// The object's storage: the cart while it has changes KV does not have yet.
const UNFLUSHED_KEY: &str = "cart";
/// The object's storage: the last version moved to KV (a few bytes, kept
/// until the cart is forgotten), so a restarted object can tell a KV copy
/// that is not visible yet from a cart that never existed.
const FLUSHED_KEY: &str = "flushed_version";
/// The object's storage: when (ms) the alarm may forget the cart, set by
/// each flush. Only an alarm at or after it forgets; an earlier one (a
/// duplicate, a retry) re-arms for it.
const FORGET_AT_KEY: &str = "forget_at";
/// The object's storage: the checkout holding the cart frozen, if any.
const LEASE_KEY: &str = "checkout_lease";

type Answer<T> = std::result::Result<T, ApiError>;

/// One cart's single writer.
#[durable_object]
pub struct CartObject {
    pub(crate) state: State,
    pub(crate) env: Env,
    /// One request (or alarm) at a time: each reads the cart, may wait on the
    /// database, and writes it back, so two must never interleave.
    turn: Mutex<()>,
    cart: RefCell<Option<Cart>>,
    lease: RefCell<Option<CheckoutLease>>,
    loaded: Cell<bool>,
    /// When the pending alarm fires (ms since the epoch), if one is set.
    pub(crate) alarm_at: Cell<Option<i64>>,
    /// The test fault of the request being served: dev builds only, always
    /// `Fault::None` in any other.
    pub(crate) fault: Cell<Fault>,
}

/// What one run of the alarm did (the dev route shows it).
#[cfg_attr(not(feature = "dev"), allow(dead_code))]
pub struct AlarmDone {
    pub outcome: &'static str,
    pub flushed_version: Option<u64>,
    pub forget_at: Option<i64>,
}

impl DurableObject for CartObject {
    fn new(state: State, env: Env) -> Self {
        CartObject {
            state,
            env,
            turn: Mutex::new(()),
            cart: RefCell::new(None),
            lease: RefCell::new(None),
            loaded: Cell::new(false),
            alarm_at: Cell::new(None),
            fault: Cell::new(Fault::None),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let id = request_id::of(&req);
        let log = Log::new(&id);
        let request: CartRequest = match req.json().await {
            Ok(r) => r,
            Err(e) => {
                return Ok(respond::error(
                    &ApiError::internal(format!("bad cart request: {e}")),
                    &log,
                ))
            }
        };
        let _turn = self.turn.lock().await;
        self.fault.set(crate::dev::fault_of(&req));
        #[cfg(feature = "dev")]
        if let Some(resp) = crate::dev::object_route(self, &req.path(), &log).await {
            self.fault.set(Fault::None);
            return Ok(resp);
        }
        let db = Db::new(&self.env, log.clone());
        let mut resp = match self.handle(&db, request).await {
            Ok((status, cart, merged)) => self.answer(status, &cart, merged.as_ref(), &log),
            Err(e) => {
                if e.code == "cart_unavailable" {
                    // Storage may hold more or less than memory now: reload.
                    self.forget_memory();
                }
                respond::error(&e, &log)
            }
        };
        self.fault.set(Fault::None);
        db.report(resp.headers_mut());
        Ok(resp)
    }

    /// Moves unflushed changes to KV; a month after the last flush, forgets
    /// the cart entirely (KV's copy expires at the same time). A failure is
    /// logged and returned, so the runtime retries the alarm.
    async fn alarm(&self) -> Result<Response> {
        let _turn = self.turn.lock().await;
        match self.run_alarm().await {
            Ok(done) => Response::ok(done.outcome),
            Err(e) => {
                Log::new(&request_id::new_id()).warn(
                    "cart_alarm_failed",
                    serde_json::json!({"code": e.code, "detail": e.internal_detail}),
                );
                self.forget_memory();
                Err(worker::Error::RustError(e.code.to_string()))
            }
        }
    }
}

impl CartObject {
    /// Runs one request: the cart after it, its status (201 for a
    /// creation), and for a `Merge` what the merge did.
    async fn handle(
        &self,
        db: &Db,
        request: CartRequest,
    ) -> Answer<(u16, Cart, Option<MergeOutcome>)> {
        let now = now_ms();
        let command = &request.command;
        let (mut cart, status) = match command {
            CartCommand::Create {
                store_id,
                region,
                currency,
            } => {
                if self.load(&request.cart_id).await?.is_some() {
                    // 128 random bits do not collide; this would be a bug.
                    return Err(ApiError::internal("cart id already in use"));
                }
                let mut cart = Cart::new(
                    request.cart_id.clone(),
                    *store_id,
                    region.clone(),
                    *currency,
                );
                // Opened with a session: the customer's from the start.
                cart.customer_id.clone_from(&request.caller);
                (cart, 201)
            }
            _ => (
                self.load(&request.cart_id)
                    .await?
                    .ok_or_else(cart_not_found)?,
                200,
            ),
        };
        // Who asks, before anything else: a saved cart is 404 to anyone but
        // its owner, exactly as if it did not exist.
        check_caller(&cart, &request)?;
        // If-Match and the checkout lease, before any database work.
        let lease_change = admit(&cart, self.lease.borrow().as_ref(), &request, now)?;
        // Prices and stock from the database, one statement, for every line
        // and the SKU being added. A checked-out cart keeps its order's prices.
        let skus = cart.skus_to_price(command);
        let needs_prices =
            cart.status == CartStatus::Open && !skus.is_empty() && command.reprices();
        let priced = if needs_prices {
            price(db, cart.store_id, &skus, command.may_use_cached_prices()).await?
        } else {
            Vec::new()
        };
        cart.reprice(&priced);
        let version = cart.version;
        let merged = cart.execute(command, &priced)?;
        if cart.version != version || status == 201 {
            cart.touch(now);
            self.save(&cart, now).await?;
        }
        match lease_change {
            LeaseChange::Keep => {}
            LeaseChange::Set(lease) => {
                self.store(LEASE_KEY, &lease).await?;
                self.lease.replace(Some(lease));
            }
            LeaseChange::Clear => {
                self.unstore(LEASE_KEY).await?;
                self.lease.replace(None);
            }
        }
        self.cart.replace(Some(cart.clone()));
        Ok((status, cart, merged))
    }

    /// The cart's view with its ETag; for a `Merge`, `{"cart","merge"}`
    /// (`cart::object_answer`).
    fn answer(
        &self,
        status: u16,
        cart: &Cart,
        merged: Option<&MergeOutcome>,
        log: &Log,
    ) -> Response {
        let view = match Regions::builtin().get(&cart.region) {
            Ok(region) => cart.to_json(region),
            Err(e) => return respond::error(&e, log),
        };
        let body = match merged.map(|outcome| merge_body(&view, outcome)) {
            Some(Ok(body)) => body,
            Some(Err(e)) => return respond::error(&e, log),
            None => view.to_string(),
        };
        let mut resp = respond::private_json(status, body);
        set_header(resp.headers_mut(), "etag", &cart.etag());
        resp
    }

    /// The cart and its lease: from memory, else the object's storage
    /// (changes not yet in KV), else KV.
    async fn load(&self, id: &CartId) -> Answer<Option<Cart>> {
        if self.loaded.get() {
            return Ok(self.cart.borrow().clone());
        }
        let mut cart: Option<Cart> = self.stored(UNFLUSHED_KEY).await?;
        if cart.is_none() {
            let flushed: Option<u64> = self.stored(FLUSHED_KEY).await?;
            cart = self.kv_get(id).await?;
            let kv_version = cart.as_ref().map_or(0, |c: &Cart| c.version);
            if flushed.is_some_and(|v| v > kv_version) {
                // We wrote a newer copy than KV shows here yet (KV takes up to a
                // minute to be consistent): an explicit retry, never an old cart.
                return Err(ApiError::unavailable(
                    "cart_unavailable",
                    "the cart is being moved, retry in a few seconds",
                ));
            }
        }
        let lease: Option<CheckoutLease> = self.stored(LEASE_KEY).await?;
        self.cart.replace(cart.clone());
        self.lease.replace(lease);
        self.loaded.set(true);
        Ok(cart)
    }

    /// Drops what memory holds; the next request reads storage and KV again
    /// (as a restarted object would).
    pub(crate) fn forget_memory(&self) {
        self.cart.replace(None);
        self.lease.replace(None);
        self.loaded.set(false);
        self.alarm_at.set(None);
    }

    /// Durable in the object's storage before we answer; in KV within
    /// FLUSH_DELAY_MS (a pending flush is never pushed back).
    async fn save(&self, cart: &Cart, now: i64) -> Answer<()> {
        self.store(UNFLUSHED_KEY, cart).await?;
        if let Some(at) = flush_alarm(self.alarm_at.get(), now) {
            self.arm(at).await?;
        }
        Ok(())
    }

    /// The alarm's work (`object_rules::alarm_step`): flush, re-arm, or forget.
    pub(crate) async fn run_alarm(&self) -> Answer<AlarmDone> {
        self.alarm_at.set(None);
        let unflushed: Option<Cart> = self.stored(UNFLUSHED_KEY).await?;
        let forget_at: Option<i64> = self.stored(FORGET_AT_KEY).await?;
        let flushed: Option<u64> = self.stored(FLUSHED_KEY).await?;
        match (
            alarm_step(unflushed.is_some(), forget_at, flushed.is_some(), now_ms()),
            unflushed,
        ) {
            (AlarmStep::Flush { forget_at }, Some(cart)) => {
                self.kv_put(&cart).await?;
                // In this order: a crash in between leaves the cart unflushed
                // (the retried alarm writes KV again), never a lost marker.
                self.store(FLUSHED_KEY, cart.version).await?;
                self.store(FORGET_AT_KEY, forget_at).await?;
                self.unstore(UNFLUSHED_KEY).await?;
                self.arm(forget_at).await?;
                Ok(AlarmDone {
                    outcome: "flushed",
                    flushed_version: Some(cart.version),
                    forget_at: Some(forget_at),
                })
            }
            (AlarmStep::Rearm { forget_at: at }, _) => {
                if forget_at != Some(at) {
                    self.store(FORGET_AT_KEY, at).await?;
                }
                self.arm(at).await?;
                Ok(AlarmDone {
                    outcome: "rearmed",
                    flushed_version: flushed,
                    forget_at: Some(at),
                })
            }
            (AlarmStep::Forget, _) | (AlarmStep::Flush { .. }, None) => {
                self.check_fault(Fault::Storage, "storage delete_all")?;
                self.state
                    .storage()
                    .delete_all()
                    .await
                    .map_err(|e| cart_unavailable(format!("storage delete_all: {e}")))?;
                self.forget_memory();
                Ok(AlarmDone {
                    outcome: "forgotten",
                    flushed_version: None,
                    forget_at: None,
                })
            }
        }
    }

    /// When the alarm will fire, as the runtime has it (dev route only).
    #[cfg(feature = "dev")]
    pub(crate) async fn pending_alarm(&self) -> Option<i64> {
        self.state.storage().get_alarm().await.ok().flatten()
    }
}

pub(crate) fn now_ms() -> i64 {
    Date::now().as_millis() as i64
}

thread_local! {
    // Per isolate, shared by every cart object in it: plain data, no I/O.
    static PRICES: RefCell<PriceCache> = RefCell::new(PriceCache::default());
}

/// Prices and stock for `skus`: from the last two seconds' reads when
/// `cached_ok`, the rest from the replica in one statement.
async fn price(db: &Db, store_id: i64, skus: &[Sku], cached_ok: bool) -> Answer<Vec<PricedSku>> {
    let now = Date::now().as_millis() as f64;
    let (mut priced, missing) = if cached_ok {
        PRICES.with_borrow(|c| c.lookup(store_id, skus, now))
    } else {
        (Vec::new(), skus.to_vec())
    };
    if !missing.is_empty() {
        let fresh: Vec<PricedSku> = db.read(&queries::pricing(store_id, &missing)).await?;
        PRICES.with_borrow_mut(|c| c.remember(store_id, &fresh, now));
        priced.extend(fresh);
    }
    Ok(priced)
}
