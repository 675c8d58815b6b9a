//! `CartObject`: one cart's single writer, a Durable Object.
//!
//! Why: KV has no compare-and-set and takes about one write per second per
//! key, so two quick adds written straight to KV would lose one. Each cart has
//! one object, which applies its requests one at a time, keeps changes in its
//! own storage (durable before it answers), and moves the cart to KV ten
//! seconds after a change, with a 30-day expiry. KV is where carts rest; the
//! object is where they change.

use std::cell::{Cell, RefCell};

use cart::queries;
use cart::{
    cart_not_found, Cart, CartCommand, CartId, CartRequest, CartStatus, PriceCache, PricedSku, Sku,
    CART_TTL_SECS,
};
use futures_util::lock::Mutex;
use platform::db::Db;
use platform::respond::{self, set_header};
use platform::{request_id, ApiError, Log};
use regions::Regions;

use crate::config::CARTS;
use worker::{durable_object, Date, DurableObject, Env, Request, Response, Result, State};

/// The object's storage: the cart while it has changes KV does not have yet.
const UNFLUSHED_KEY: &str = "cart";
/// The object's storage: the last version moved to KV (a few bytes, kept
/// until the cart expires), so a restarted object can tell a KV copy that is
/// not visible yet from a cart that never existed.
const FLUSHED_KEY: &str = "flushed_version";
/// How long changes gather in the object's storage before one KV write.
/// KV takes at most one write per second per key; a shopper's burst of adds
/// becomes one write, and the object's storage is durable meanwhile.
const FLUSH_DELAY_MS: i64 = 10_000;
/// After the last change the object forgets the cart, as KV does.
const FORGET_AFTER_MS: i64 = CART_TTL_SECS as i64 * 1000;

/// One cart's single writer.
#[durable_object]
pub struct CartObject {
    state: State,
    env: Env,
    /// One request (or alarm) at a time: each reads the cart, may wait on the
    /// database, and writes it back, so two must never interleave.
    turn: Mutex<()>,
    cart: RefCell<Option<Cart>>,
    loaded: Cell<bool>,
    /// Whether the object's storage holds changes KV does not have yet.
    dirty: Cell<bool>,
    /// When the pending alarm fires (ms since the epoch), if one is set.
    alarm_at: Cell<Option<i64>>,
}

impl DurableObject for CartObject {
    fn new(state: State, env: Env) -> Self {
        CartObject {
            state,
            env,
            turn: Mutex::new(()),
            cart: RefCell::new(None),
            loaded: Cell::new(false),
            dirty: Cell::new(false),
            alarm_at: Cell::new(None),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let id = request_id::from_header_or_new(
            req.headers()
                .get(request_id::HEADER)
                .ok()
                .flatten()
                .as_deref(),
        );
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
        let db = Db::new(&self.env, log.clone());
        let mut resp = match self.handle(&db, request).await {
            Ok((status, cart)) => self.answer(status, &cart, &log),
            Err(e) => respond::error(&e, &log),
        };
        db.report(resp.headers_mut());
        Ok(resp)
    }

    /// Moves unflushed changes to KV; a month after the last one, forgets
    /// the cart entirely (KV's copy expires at the same time).
    async fn alarm(&self) -> Result<Response> {
        let _turn = self.turn.lock().await;
        self.alarm_at.set(None);
        let storage = self.state.storage();
        let unflushed: Option<Cart> = storage.get(UNFLUSHED_KEY).await?;
        let Some(cart) = unflushed else {
            storage.delete_all().await?;
            self.cart.replace(None);
            self.loaded.set(false);
            return Response::ok("forgotten");
        };
        let kv = self.env.kv(CARTS)?;
        kv.put(&kv_key(&cart.id), serde_json::to_string(&cart)?)?
            .expiration_ttl(CART_TTL_SECS)
            .execute()
            .await?;
        storage.put(FLUSHED_KEY, cart.version).await?;
        storage.delete(UNFLUSHED_KEY).await?;
        self.dirty.set(false);
        self.schedule(FORGET_AFTER_MS).await?;
        Response::ok("flushed")
    }
}

impl CartObject {
    async fn handle(
        &self,
        db: &Db,
        request: CartRequest,
    ) -> std::result::Result<(u16, Cart), ApiError> {
        let command = request.command.clone();
        let (mut cart, status) = match &command {
            CartCommand::Create {
                store_id,
                region,
                currency,
            } => {
                if self.load(&request.cart_id).await?.is_some() {
                    // 128 random bits do not collide; this would be a bug.
                    return Err(ApiError::internal("cart id already in use"));
                }
                let cart = Cart::new(
                    request.cart_id.clone(),
                    *store_id,
                    region.clone(),
                    *currency,
                );
                (cart, 201)
            }
            _ => (
                self.load(&request.cart_id)
                    .await?
                    .ok_or_else(cart_not_found)?,
                200,
            ),
        };
        if command.changes_cart() {
            cart.check_if_match(request.if_match.as_deref())?;
        }
        // Prices and stock from the database, one statement, for every line
        // and the SKU being added. A checked-out cart keeps its order's prices.
        let skus = cart.skus_to_price(&command);
        let needs_prices =
            cart.status == CartStatus::Open && !skus.is_empty() && command.reprices();
        let priced = if needs_prices {
            price(db, cart.store_id, &skus, command.may_use_cached_prices()).await?
        } else {
            Vec::new()
        };
        cart.reprice(&priced);
        let version = cart.version;
        cart.apply(&command, &priced)?;
        if cart.version != version || status == 201 {
            self.save(&cart).await?;
        }
        self.cart.replace(Some(cart.clone()));
        Ok((status, cart))
    }

    fn answer(&self, status: u16, cart: &Cart, log: &Log) -> Response {
        let body = match Regions::builtin().get(&cart.region) {
            Ok(region) => cart.to_json(region).to_string(),
            Err(e) => return respond::error(&e, log),
        };
        let mut resp = respond::private_json(status, body);
        set_header(resp.headers_mut(), "etag", &cart.etag());
        resp
    }

    /// The cart: from memory, else the object's storage (changes not yet in
    /// KV), else KV.
    async fn load(&self, id: &CartId) -> std::result::Result<Option<Cart>, ApiError> {
        if self.loaded.get() {
            return Ok(self.cart.borrow().clone());
        }
        let storage_error = |e: worker::Error| ApiError::internal(format!("cart storage: {e}"));
        let storage = self.state.storage();
        let mut cart: Option<Cart> = storage.get(UNFLUSHED_KEY).await.map_err(storage_error)?;
        self.dirty.set(cart.is_some());
        if cart.is_none() {
            let flushed: Option<u64> = storage.get(FLUSHED_KEY).await.map_err(storage_error)?;
            let kv = self.env.kv(CARTS)?;
            cart = kv.get(&kv_key(id)).json().await?;
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
        self.cart.replace(cart.clone());
        self.loaded.set(true);
        Ok(cart)
    }

    /// Durable in the object's storage before we answer; in KV within FLUSH_DELAY_MS.
    async fn save(&self, cart: &Cart) -> std::result::Result<(), ApiError> {
        self.state
            .storage()
            .put(UNFLUSHED_KEY, cart)
            .await
            .map_err(|e| ApiError::internal(format!("cart storage: {e}")))?;
        self.dirty.set(true);
        self.schedule(FLUSH_DELAY_MS)
            .await
            .map_err(|e| ApiError::internal(format!("cart alarm: {e}")))
    }

    /// Sets the alarm to fire in `delay_ms`. A pending flush is never pushed
    /// back (a steady stream of adds still reaches KV every ten seconds).
    async fn schedule(&self, delay_ms: i64) -> Result<()> {
        let at = Date::now().as_millis() as i64 + delay_ms;
        if self.dirty.get() && self.alarm_at.get().is_some_and(|pending| pending <= at) {
            return Ok(());
        }
        self.state.storage().set_alarm(delay_ms).await?;
        self.alarm_at.set(Some(at));
        Ok(())
    }
}

thread_local! {
    // Per isolate, shared by every cart object in it: plain data, no I/O.
    static PRICES: RefCell<PriceCache> = RefCell::new(PriceCache::default());
}

/// Prices and stock for `skus`: from the last two seconds' reads when
/// `cached_ok`, the rest from the replica in one statement.
async fn price(
    db: &Db,
    store_id: i64,
    skus: &[Sku],
    cached_ok: bool,
) -> std::result::Result<Vec<PricedSku>, ApiError> {
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

fn kv_key(id: &CartId) -> String {
    format!("cart:{id}")
}
