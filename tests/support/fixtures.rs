//! Fixtures: each test creates the stores, warehouses, categories, products,
//! stock and carts it uses, with fresh names, instead of relying on the ids
//! of scripts/seed.sql. So a test knows exactly what its data holds, runs
//! again and again on the same database, and shares no store, warehouse or
//! product with the tests running beside it.
//!
//! Everything is written to the primary in one transaction per fixture (no
//! reader sees a store without its warehouses, or a product without its
//! variants) and is on the replica when the constructor returns. The edge may
//! still hold catalog answers cached before it existed: read it with
//! `get_uncached`.

use std::sync::OnceLock;

use serde_json::{json, Value};

use super::{post_json, primary, unique, wait_replica_caught_up, Reply};

/// A store of a test's own, with warehouses of its own.
#[derive(Debug, Clone)]
pub struct Store {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub region: String,
    /// Warehouse ids, in creation (and so id) order.
    pub warehouses: Vec<i64>,
}

impl Store {
    /// How the store's paid orders reach the carrier: "automatic" (the
    /// default: the paid transaction queues them) or "manual" (staff release
    /// each one; tests of payments use it so fulfillment leaves their
    /// orders `paid`).
    pub fn set_fulfillment(&self, mode: &str) {
        primary()
            .execute("UPDATE stores SET fulfillment = $1 WHERE id = $2", &[&mode, &self.id])
            .unwrap();
    }

    /// A new store in `region` with `warehouses` warehouses. Stores reference
    /// `regions (code)`: US-CA, US-CO, US-NY and US-OR exist.
    pub fn create(region: &str, warehouses: usize) -> Store {
        let tag = unique("");
        let slug = format!("test-{}", tag.to_ascii_lowercase());
        let name = format!("Test store {tag}");
        let mut client = primary();
        let mut tx = client.transaction().unwrap();
        let id: i64 = tx
            .query_one(
                "INSERT INTO stores (slug, name, region_code) VALUES ($1, $2, $3) RETURNING id",
                &[&slug, &name, &region],
            )
            .unwrap_or_else(|e| panic!("create a store in {region}: {e}"))
            .get(0);
        let warehouses = (0..warehouses)
            .map(|i| {
                tx.query_one(
                    "INSERT INTO warehouses (store_id, code, name) VALUES ($1, $2, $3) RETURNING id",
                    &[&id, &format!("{slug}-{i}"), &format!("Test warehouse {i} of {tag}")],
                )
                .unwrap()
                .get(0)
            })
            .collect();
        tx.commit().unwrap();
        wait_replica_caught_up();
        Store {
            id,
            slug,
            name,
            region: region.to_string(),
            warehouses,
        }
    }

    /// A new, empty cart in this store.
    pub fn new_cart(&self) -> String {
        new_cart(self.id, &self.region)
    }

    /// A cart in this store holding `quantity` of `sku`, ready to check out.
    pub fn cart_with(&self, sku: &str, quantity: u32) -> String {
        cart_with(self.id, &self.region, sku, quantity)
    }
}

/// A top-level category of the tests' own.
#[derive(Debug, Clone)]
pub struct Category {
    pub id: i64,
    pub slug: String,
}

impl Category {
    /// A new top-level category. Placed after the seed's top-level categories,
    /// so a test taking "the first top-level category" keeps taking a seeded one.
    pub fn create() -> Category {
        let name = unique("");
        let slug = format!("test-{}", name.to_ascii_lowercase());
        let id: i64 = primary()
            .query_one(
                "INSERT INTO categories (slug, name, position) VALUES ($1, $2, 1000) RETURNING id",
                &[&slug, &format!("Test category {name}")],
            )
            .unwrap()
            .get(0);
        wait_replica_caught_up();
        Category { id, slug }
    }

    /// The category this test process puts products in when their category
    /// does not matter. One per process rather than one per product: every
    /// category shows in `/catalog/categories`, and runs accumulate them.
    pub fn shared() -> &'static Category {
        static SHARED: OnceLock<Category> = OnceLock::new();
        SHARED.get_or_init(Category::create)
    }
}

/// One variant to create: its options (a JSON object), price and stock as
/// (warehouse id, on hand) pairs.
#[derive(Debug, Clone)]
pub struct NewVariant {
    pub options: Value,
    pub price: String,
    pub stock: Vec<(i64, i32)>,
}

pub fn variant(options: Value, price: &str, stock: &[(i64, i32)]) -> NewVariant {
    NewVariant {
        options,
        price: price.to_string(),
        stock: stock.to_vec(),
    }
}

/// A product a test created, with its variants' SKUs in the order given.
#[derive(Debug, Clone)]
pub struct Product {
    pub id: i64,
    pub slug: String,
    pub skus: Vec<String>,
}

impl Product {
    /// A new product in `category` with these variants, in USD. SKUs are
    /// `<BASE>-0`, `<BASE>-1`, ... for a fresh BASE.
    pub fn create(category: &Category, variants: &[NewVariant]) -> Product {
        // Without a variant it has no price: the catalog does not count it,
        // and SQL over `products` would disagree with the API.
        assert!(!variants.is_empty(), "a product needs a variant");
        let base = unique("T");
        let slug = base.to_ascii_lowercase();
        let mut client = primary();
        let mut tx = client.transaction().unwrap();
        let id: i64 = tx
            .query_one(
                "INSERT INTO products (slug, name, category_id) VALUES ($1, $2, $3) RETURNING id",
                &[&slug, &format!("Test item {base}"), &category.id],
            )
            .unwrap()
            .get(0);
        let mut skus = Vec::new();
        for (i, v) in variants.iter().enumerate() {
            let sku = format!("{base}-{i}");
            let variant_id: i64 = tx
                .query_one(
                    "INSERT INTO variants (product_id, sku, options, price, currency)
                     VALUES ($1, $2, $3::text::jsonb, $4::text::numeric, 'USD') RETURNING id",
                    &[&id, &sku, &v.options.to_string(), &v.price],
                )
                .unwrap()
                .get(0);
            for (warehouse, on_hand) in &v.stock {
                tx.execute(
                    "INSERT INTO inventory_levels (variant_id, warehouse_id, on_hand) VALUES ($1, $2, $3)",
                    &[&variant_id, warehouse, on_hand],
                )
                .unwrap();
            }
            skus.push(sku);
        }
        tx.commit().unwrap();
        wait_replica_caught_up();
        Product { id, slug, skus }
    }
}

/// A new product of `count` variants (options `{"size": "<i>"}`), each at
/// `price` with `stock` as (warehouse id, on hand), in the shared category.
pub fn fresh_product(count: usize, price: &str, stock: &[(i64, i32)]) -> Product {
    let variants: Vec<NewVariant> = (0..count)
        .map(|i| variant(json!({"size": i.to_string()}), price, stock))
        .collect();
    Product::create(Category::shared(), &variants)
}

/// The SKUs of `fresh_product(count, price, stock)`.
pub fn fresh_skus(count: usize, price: &str, stock: &[(i64, i32)]) -> Vec<String> {
    fresh_product(count, price, stock).skus
}

pub fn fresh_sku(price: &str, stock: &[(i64, i32)]) -> String {
    fresh_skus(1, price, stock).remove(0)
}

/// A new cart for a store, checked to be 201.
pub fn new_cart(store_id: i64, region: &str) -> String {
    let r = post_json(
        "/cart",
        &json!({"store_id": store_id, "region": region}),
        &[],
    );
    assert_eq!(r.status, 201, "create cart: {}", r.body);
    r.json()["id"].as_str().unwrap().to_string()
}

pub fn add_item(cart: &str, sku: &str, quantity: u32) -> Reply {
    post_json(
        &format!("/cart/{cart}/items"),
        &json!({"sku": sku, "quantity": quantity}),
        &[],
    )
}

/// A cart holding `quantity` of `sku`, ready to check out.
pub fn cart_with(store_id: i64, region: &str, sku: &str, quantity: u32) -> String {
    let cart = new_cart(store_id, region);
    let r = add_item(&cart, sku, quantity);
    assert_eq!(r.status, 200, "add {sku}: {}", r.body);
    cart
}

/// A California checkout body for `cart`: old enough, delivery asap, and one
/// shopper per cart (an email holds at most 3 pending orders), the same one
/// for every retry of that cart's checkout (a retry must send the same body).
pub fn checkout_body(cart: &str) -> Value {
    json!({
        "cart_id": cart,
        "email": format!("ada-{}@example.com", &cart[..cart.len().min(16)].to_ascii_lowercase()),
        "shipping_address": {"name": "Ada Lovelace", "line1": "1 Main St", "city": "Somewhere",
                             "state": "CA", "postal_code": "94110", "country": "US"},
        "region": "US-CA",
        "date_of_birth": "1990-05-01",
        "delivery": "asap",
    })
}
