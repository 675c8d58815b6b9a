//! `GET /orders/{id}`: the order for the guest holding its token, or for the
//! customer whose order it is (their session): status, lines, totals, points,
//! payments, shipments and history, as the stored function `order_view`
//! builds it (shared/orders/sql/order_view.sql) in one statement, which
//! also answers the order's owner beside the JSON (never in it).
//!
//! Read from the REPLICA (`Db::read`). Read-your-writes holds all the same:
//! checkout answers with `x-db-lsn` and the `db_lsn` cookie (its
//! `Db::write` records the primary's WAL position after the commit, and
//! `Db::report` signs it into both), and `Db::for_request` reads that token
//! back from the next request; `Db::read` then asks the replica for
//! `pg_last_wal_replay_lsn()` and uses it only if it has replayed that far,
//! else the primary answers (platform/src/db/client.rs, `read_on_replica`;
//! the rule is `replica_is_fresh` in db/route.rs). A change no answer of
//! ours told this client about (a provider's webhook applying a payment)
//! shows once the replica has replayed it, normally within milliseconds.
//! The view reads no personal column, which the replica's role could not.

use orders::view::{self, OrderViewRow};
use platform::respond;
use platform::serve::Call;
use platform::Result;
use worker::Response;

use crate::access;

pub async fn show(call: &mut Call, id: &str) -> Result<Response> {
    // Without the order's own token or its owner's session, every answer is
    // the same 404: a malformed id, an unknown one, another order's token,
    // another customer's session, nothing.
    let public_id = access::order_id(id)?;
    let access = access::shopper(call, &public_id).await?;
    let rows: Vec<OrderViewRow> = call.db.read(&view::order_view(&public_id)).await?;
    let (body, owner) = OrderViewRow::first(rows).ok_or_else(access::not_found)?;
    access.require(owner.as_deref())?;
    Ok(respond::private_json(200, body))
}
