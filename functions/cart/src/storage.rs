//! The cart object's I/O: its own storage and KV. Every failure is a `503
//! cart_unavailable` (with Retry-After) whose detail goes to the logs; in dev
//! builds a request's `x-test-fault` makes the matching call fail (dev.rs).

use cart::object_rules::cart_unavailable;
use cart::{Cart, CartId, CART_TTL_SECS};
use platform::ApiError;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::config::CARTS;
use crate::dev::Fault;
use crate::object::{now_ms, CartObject};

type Answer<T> = std::result::Result<T, ApiError>;

impl CartObject {
    pub(crate) async fn stored<T: DeserializeOwned>(&self, key: &str) -> Answer<Option<T>> {
        self.check_fault(Fault::Storage, "storage get")?;
        self.state
            .storage()
            .get(key)
            .await
            .map_err(|e| cart_unavailable(format!("storage get {key}: {e}")))
    }

    pub(crate) async fn store<T: Serialize>(&self, key: &str, value: T) -> Answer<()> {
        self.check_fault(Fault::Storage, "storage put")?;
        self.state
            .storage()
            .put(key, value)
            .await
            .map_err(|e| cart_unavailable(format!("storage put {key}: {e}")))
    }

    pub(crate) async fn unstore(&self, key: &str) -> Answer<()> {
        self.check_fault(Fault::Storage, "storage delete")?;
        self.state
            .storage()
            .delete(key)
            .await
            .map(|_| ())
            .map_err(|e| cart_unavailable(format!("storage delete {key}: {e}")))
    }

    /// Sets the alarm for `at` (ms since the epoch).
    pub(crate) async fn arm(&self, at: i64) -> Answer<()> {
        self.check_fault(Fault::Storage, "storage set_alarm")?;
        self.state
            .storage()
            .set_alarm(at - now_ms())
            .await
            .map_err(|e| cart_unavailable(format!("storage set_alarm: {e}")))?;
        self.alarm_at.set(Some(at));
        Ok(())
    }

    pub(crate) async fn kv_get(&self, id: &CartId) -> Answer<Option<Cart>> {
        if self.fault.get() == Fault::KvStale {
            return Ok(None); // as a location KV has not reached yet
        }
        self.check_fault(Fault::Kv, "kv get")?;
        let kv = self
            .env
            .kv(CARTS)
            .map_err(|e| kv_failed(id, "binding", e))?;
        kv.get(&kv_key(id))
            .json()
            .await
            .map_err(|e| kv_failed(id, "get", e))
    }

    pub(crate) async fn kv_put(&self, cart: &Cart) -> Answer<()> {
        self.check_fault(Fault::Kv, "kv put")?;
        let id = &cart.id;
        let kv = self
            .env
            .kv(CARTS)
            .map_err(|e| kv_failed(id, "binding", e))?;
        let body = serde_json::to_string(cart).map_err(ApiError::internal)?;
        kv.put(&kv_key(id), body)
            .map_err(|e| kv_failed(id, "put", e))?
            .expiration_ttl(CART_TTL_SECS)
            .execute()
            .await
            .map_err(|e| kv_failed(id, "put", e))
    }

    /// Fails like `what` would when the request carries that test fault.
    pub(crate) fn check_fault(&self, fault: Fault, what: &str) -> Answer<()> {
        if self.fault.get() == fault {
            return Err(cart_unavailable(format!("{what}: injected test fault")));
        }
        Ok(())
    }
}

/// A KV failure as `cart_unavailable`; the detail names the operation, never
/// the cart (a cart id is the guest's key to it).
fn kv_failed(id: &CartId, op: &str, e: impl std::fmt::Display) -> ApiError {
    cart_unavailable(format!("kv {op}: {e}").replace(id.as_str(), "[cart]"))
}

fn kv_key(id: &CartId) -> String {
    format!("cart:{id}")
}
