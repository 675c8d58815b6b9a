//! Prepares carts for `scripts/bench`: creates COUNT carts in the bench store
//! (`bench::STORE_ID`, the seed's US-CA store), each holding one unit of one
//! of the given SKUs, through the edge, and prints their ids one per line.
//!
//!   EDGESHOP_BASE_URL=... bench_carts COUNT SKU [SKU...]

use bench::{add_item, create_cart};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let count: usize = args
        .first()
        .and_then(|c| c.parse().ok())
        .expect("usage: bench_carts COUNT SKU...");
    let skus: Vec<String> = args[1..].to_vec();
    assert!(!skus.is_empty(), "usage: bench_carts COUNT SKU...");
    let threads = 16;
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let skus = skus.clone();
            std::thread::spawn(move || {
                (t..count)
                    .step_by(threads)
                    .map(|i| {
                        let cart = create_cart();
                        let r = add_item(&cart, &skus[i % skus.len()], 1);
                        assert_eq!(r.status, 200, "add to {cart}: {}", r.body);
                        cart
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for h in handles {
        for cart in h.join().expect("a preparing thread failed") {
            println!("{cart}");
        }
    }
}
