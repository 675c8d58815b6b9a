//! Merging a guest cart into a customer's saved cart at login
//! (`CartCommand::Merge`). Pure: the object prices the saved cart's lines and
//! the guest's SKUs in one read, then calls `Cart::merge`.
//!
//! The rule: nothing happens when the two carts are of another region or
//! store (their prices and stock are not comparable) or the saved cart is
//! checked out; that is a refusal the login answer reports, not an error.
//! Otherwise each guest line is added to the saved cart as `Add` would, but
//! never failing: a quantity is capped at `MAX_QUANTITY` and at the stock
//! the pricing read answers, a new line is skipped once the cart holds
//! `MAX_LINES`, and a SKU that no longer exists is skipped. A merge never
//! takes anything away from the saved cart (a line already above today's
//! stock stays as it is; checkout refuses it). Every guest line not taken
//! whole is named in `capped`, so the shopper can be told.

use regions::RegionCode;
use serde::{Deserialize, Deserializer, Serialize};

use crate::{Cart, CartCommand, CartLine, CartStatus, PricedSku, Sku, MAX_LINES, MAX_QUANTITY};

/// One guest line as `Merge` carries it: a SKU and how many.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeLine {
    pub sku: Sku,
    pub quantity: u32,
}

/// `MergeOutcome::status`: the guest lines went in (maybe some capped).
pub const MERGED: &str = "merged";
/// `MergeOutcome::status`: nothing changed; `reason` says why.
pub const REFUSED: &str = "refused";
/// `MergeOutcome::reason`s.
pub const REGION_MISMATCH: &str = "region_mismatch";
pub const STORE_MISMATCH: &str = "store_mismatch";
pub const CHECKED_OUT: &str = "checked_out";

/// What a merge did. On the wire (inside the object's answer, see
/// `object_answer`): `{"status":"merged"|"refused","reason"?:...,"capped":[sku...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MergeOutcome {
    /// `MERGED` or `REFUSED`.
    pub status: &'static str,
    /// Why a merge was refused: `REGION_MISMATCH`, `STORE_MISMATCH`,
    /// `CHECKED_OUT`. `None` when merged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    /// The guest SKUs not taken whole: capped (line or stock limit), or
    /// skipped (the cart is full, the SKU is gone). Each once, in the guest
    /// cart's order. Empty when refused.
    pub capped: Vec<Sku>,
}

impl MergeOutcome {
    pub fn refused(reason: &'static str) -> Self {
        MergeOutcome {
            status: REFUSED,
            reason: Some(reason),
            capped: Vec::new(),
        }
    }

    pub fn is_merged(&self) -> bool {
        self.status == MERGED
    }
}

/// Read back by the sender (`object_client::merge`): the strings it knows,
/// anything else is an error.
impl<'de> Deserialize<'de> for MergeOutcome {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Wire {
            status: String,
            #[serde(default)]
            reason: Option<String>,
            #[serde(default)]
            capped: Vec<Sku>,
        }
        fn known<E: serde::de::Error>(
            s: &str,
            of: &'static [&'static str],
        ) -> Result<&'static str, E> {
            of.iter()
                .find(|k| **k == s)
                .copied()
                .ok_or_else(|| E::unknown_variant(s, of))
        }
        let w = Wire::deserialize(d)?;
        Ok(MergeOutcome {
            status: known(&w.status, &[MERGED, REFUSED])?,
            reason: w
                .reason
                .map(|r| known(&r, &[REGION_MISMATCH, STORE_MISMATCH, CHECKED_OUT]))
                .transpose()?,
            capped: w.capped,
        })
    }
}

impl CartCommand {
    /// The `Merge` of `guest`'s lines (sent to the saved cart's object).
    pub fn merge_of(guest: &Cart) -> CartCommand {
        CartCommand::Merge {
            lines: guest
                .lines
                .iter()
                .map(|l| MergeLine {
                    sku: l.sku.clone(),
                    quantity: l.quantity,
                })
                .collect(),
            region: guest.region.clone(),
            store_id: guest.store_id,
        }
    }
}

impl Cart {
    /// Merges a guest cart's `lines` (of `region` and `store_id`) into this
    /// cart, by the rule above. `priced` should hold the guest's SKUs
    /// (`skus_to_price`); one missing counts as gone. Bumps the version once
    /// when any line changed, never when refused.
    pub fn merge(
        &mut self,
        lines: &[MergeLine],
        region: &RegionCode,
        store_id: i64,
        priced: &[PricedSku],
    ) -> MergeOutcome {
        if self.status == CartStatus::CheckedOut {
            return MergeOutcome::refused(CHECKED_OUT);
        }
        if region != &self.region {
            return MergeOutcome::refused(REGION_MISMATCH);
        }
        if store_id != self.store_id {
            return MergeOutcome::refused(STORE_MISMATCH);
        }
        let mut capped: Vec<Sku> = Vec::new();
        let mut note = |sku: &Sku| {
            if !capped.contains(sku) {
                capped.push(sku.clone());
            }
        };
        let mut changed = false;
        for line in lines.iter().filter(|l| l.quantity > 0) {
            let sold = priced
                .iter()
                .find(|p| p.sku == line.sku && p.currency == self.currency);
            let Some(p) = sold else {
                note(&line.sku); // gone from the catalog (or not sold here)
                continue;
            };
            let limit = MAX_QUANTITY.min(p.available);
            match self.lines.iter().position(|l| l.sku == line.sku) {
                Some(i) => {
                    let have = self.lines[i].quantity;
                    let wanted = have.saturating_add(line.quantity);
                    let quantity = wanted.min(limit).max(have);
                    if quantity < wanted {
                        note(&line.sku);
                    }
                    if quantity != have {
                        self.lines[i].quantity = quantity;
                        changed = true;
                    }
                }
                None if self.lines.len() >= MAX_LINES => note(&line.sku),
                None => {
                    let quantity = line.quantity.min(limit);
                    if quantity < line.quantity {
                        note(&line.sku);
                    }
                    if quantity > 0 {
                        self.lines.push(CartLine {
                            sku: line.sku.clone(),
                            name: p.name.clone(),
                            quantity,
                            unit_price: p.unit_price,
                        });
                        changed = true;
                    }
                }
            }
        }
        if changed {
            self.version += 1;
        }
        MergeOutcome {
            status: MERGED,
            reason: None,
            capped,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;

    fn line(s: &str, quantity: u32) -> MergeLine {
        MergeLine {
            sku: sku(s),
            quantity,
        }
    }

    fn ca_code() -> RegionCode {
        RegionCode::parse("US-CA").unwrap()
    }

    fn saved(lines: &[(&str, u32)]) -> Cart {
        let mut c = cart();
        for (s, q) in lines {
            c.apply(
                &CartCommand::Add {
                    sku: sku(s),
                    quantity: *q,
                },
                &[priced(s, "1.00", 1000)],
            )
            .unwrap();
        }
        c
    }

    #[test]
    fn quantities_sum_new_lines_join_and_the_version_moves_once() {
        let mut c = saved(&[("A-1", 2)]);
        let v = c.version;
        let p = [priced("A-1", "1.00", 50), priced("B-1", "2.00", 50)];
        let out = c.merge(&[line("A-1", 3), line("B-1", 1)], &ca_code(), 1, &p);
        assert_eq!(
            out,
            MergeOutcome {
                status: MERGED,
                reason: None,
                capped: vec![]
            }
        );
        assert!(out.is_merged());
        assert_eq!(c.lines[0].quantity, 5);
        assert_eq!((c.lines[1].sku.as_str(), c.lines[1].quantity), ("B-1", 1));
        assert_eq!(c.lines[1].unit_price, "2.00".parse().unwrap());
        assert_eq!(c.version, v + 1);
    }

    #[test]
    fn caps_at_the_line_limit_and_at_stock_and_names_the_sku() {
        let mut c = saved(&[("A-1", 90), ("B-1", 2)]);
        let p = [
            priced("A-1", "1.00", 1000),
            priced("B-1", "1.00", 4),
            priced("C-1", "1.00", 3),
            priced("D-1", "1.00", 0),
        ];
        let out = c.merge(
            &[
                line("A-1", 20),
                line("B-1", 5),
                line("C-1", 7),
                line("D-1", 1),
            ],
            &ca_code(),
            1,
            &p,
        );
        assert_eq!(
            out.capped,
            vec![sku("A-1"), sku("B-1"), sku("C-1"), sku("D-1")]
        );
        let q: Vec<u32> = c.lines.iter().map(|l| l.quantity).collect();
        assert_eq!(q, vec![MAX_QUANTITY, 4, 3], "D-1 has no stock: no line");
    }

    #[test]
    fn never_takes_away_from_a_line_above_todays_stock() {
        let mut c = saved(&[("A-1", 10)]);
        let v = c.version;
        let out = c.merge(
            &[line("A-1", 1)],
            &ca_code(),
            1,
            &[priced("A-1", "1.00", 3)],
        );
        assert_eq!(out.capped, vec![sku("A-1")]);
        assert_eq!((c.lines[0].quantity, c.version), (10, v), "unchanged");
    }

    #[test]
    fn a_full_cart_skips_new_lines_and_gone_skus_are_skipped() {
        let many: Vec<(String, u32)> = (0..MAX_LINES).map(|i| (format!("S-{i}"), 1)).collect();
        let refs: Vec<(&str, u32)> = many.iter().map(|(s, q)| (s.as_str(), *q)).collect();
        let mut c = saved(&refs);
        let v = c.version;
        let p = [priced("S-0", "1.00", 9), priced("N-1", "1.00", 9)];
        let out = c.merge(
            &[line("N-1", 1), line("S-0", 1), line("GONE-1", 2)],
            &ca_code(),
            1,
            &p,
        );
        assert_eq!(out.capped, vec![sku("N-1"), sku("GONE-1")]);
        assert_eq!(c.lines.len(), MAX_LINES);
        assert_eq!((c.lines[0].quantity, c.version), (2, v + 1));
    }

    #[test]
    fn another_region_store_or_a_checked_out_cart_refuses_and_changes_nothing() {
        let p = [priced("A-1", "1.00", 9)];
        let mut c = saved(&[("A-1", 1)]);
        let before = c.clone();
        let co = RegionCode::parse("US-CO").unwrap();
        assert_eq!(
            c.merge(&[line("A-1", 1)], &co, 1, &p),
            MergeOutcome::refused(REGION_MISMATCH)
        );
        assert_eq!(
            c.merge(&[line("A-1", 1)], &ca_code(), 2, &p),
            MergeOutcome::refused(STORE_MISMATCH)
        );
        assert_eq!(c, before);
        c.apply(&CartCommand::MarkCheckedOut { order_id: 1.into() }, &[])
            .unwrap();
        let closed = c.clone();
        let out = c.merge(&[line("A-1", 1)], &ca_code(), 1, &p);
        assert_eq!(out, MergeOutcome::refused(CHECKED_OUT));
        assert!(!out.is_merged());
        assert_eq!(c, closed);
    }

    #[test]
    fn nothing_to_merge_is_merged_without_a_new_version() {
        let mut c = saved(&[("A-1", 1)]);
        let v = c.version;
        let out = c.merge(&[], &ca_code(), 1, &[]);
        assert_eq!((out.status, c.version), (MERGED, v));
    }

    #[test]
    fn execute_answers_the_outcome_and_apply_merges_too() {
        let p = [priced("A-1", "1.00", 9)];
        let guest = saved(&[("A-1", 2)]);
        let cmd = CartCommand::merge_of(&guest);
        let mut c = saved(&[("A-1", 1)]);
        let out = c.execute(&cmd, &p).unwrap().unwrap();
        assert_eq!((out.status, c.lines[0].quantity), (MERGED, 3));
        c.apply(&cmd, &p).unwrap();
        assert_eq!(c.lines[0].quantity, 5);
        assert_eq!(c.execute(&CartCommand::Get, &p), Ok(None));
        // The merge's SKUs are priced with the cart's own lines.
        let other = cart();
        assert_eq!(other.skus_to_price(&cmd), vec![sku("A-1")]);
    }

    #[test]
    fn the_outcome_keeps_its_wire_format() {
        use serde_json::json;
        let merged = MergeOutcome {
            status: MERGED,
            reason: None,
            capped: vec![sku("A-1")],
        };
        let wire = json!({"status": "merged", "capped": ["A-1"]});
        assert_eq!(serde_json::to_value(&merged).unwrap(), wire);
        assert_eq!(
            serde_json::from_value::<MergeOutcome>(wire).unwrap(),
            merged
        );
        let refused = MergeOutcome::refused(STORE_MISMATCH);
        let wire = json!({"status": "refused", "reason": "store_mismatch", "capped": []});
        assert_eq!(serde_json::to_value(&refused).unwrap(), wire);
        assert_eq!(
            serde_json::from_value::<MergeOutcome>(wire).unwrap(),
            refused
        );
        for bad in [
            json!({"status": "exploded", "capped": []}),
            json!({"status": "refused", "reason": "bored"}),
            json!({"capped": []}),
        ] {
            assert!(
                serde_json::from_value::<MergeOutcome>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }
}
