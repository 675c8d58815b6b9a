//! The cart worker's bindings, named in one place (functions/cart/wrangler.toml
//! declares them). It has no settings of its own yet.

// CART_OBJECTS, the Durable Object namespace of `CartObject` (object.rs), is
// named in `cart::object_client::BINDING`: checkout binds the same class
// through the same client.

/// The KV namespace where carts rest, 30 days after their last change.
pub const CARTS: &str = "CARTS";
