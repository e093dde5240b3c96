//! Retention, churn and cost ratios (METRICS.md §5.1–§5.2).
//!
//! Money is in integer minor units (cents), like every other count (D-1).

use super::StatsError;

/// Customer counts over a period, without reactivations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct CustomerRetention {
    start: u64,
    end: u64,
    new: u64,
}

impl CustomerRetention {
    /// `Err` when `end > start + new`: more customers than could exist
    /// without reactivations, so the counts disagree.
    pub fn new(start: u64, end: u64, new: u64) -> Result<Self, StatsError> {
        let possible = start.checked_add(new).ok_or(StatsError::Overflow("customers"))?;
        if end > possible {
            return Err(StatsError::invalid("end", "more than start + new"));
        }
        Ok(Self { start, end, new })
    }

    /// `lost = S + N − E`.
    pub fn lost(&self) -> u64 {
        self.start + self.new - self.end
    }

    /// `CRR = (E − N)/S`; negative if new customers also left in the period.
    pub fn crr(&self) -> Option<f64> {
        (self.start > 0).then(|| (i128::from(self.end) - i128::from(self.new)) as f64 / self.start as f64)
    }

    /// `churn = lost/S`.
    pub fn churn(&self) -> Option<f64> {
        (self.start > 0).then(|| self.lost() as f64 / self.start as f64)
    }
}

/// Recurring revenue movements over a period, in minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct RevenueRetention {
    start_mrr: u64,
    contraction: u64,
    churned: u64,
    expansion: u64,
}

impl RevenueRetention {
    /// `Err` when contraction + churn exceed the starting revenue.
    pub fn new(start_mrr: u64, contraction: u64, churned: u64, expansion: u64) -> Result<Self, StatsError> {
        let lost = contraction.checked_add(churned).ok_or(StatsError::Overflow("lost mrr"))?;
        if lost > start_mrr {
            return Err(StatsError::invalid("churned", "contraction + churn exceed the starting MRR"));
        }
        Ok(Self { start_mrr, contraction, churned, expansion })
    }

    fn kept(&self) -> u128 {
        u128::from(self.start_mrr - self.contraction - self.churned)
    }

    /// `GRR = (start − contraction − churn)/start`.
    pub fn grr(&self) -> Option<f64> {
        (self.start_mrr > 0).then(|| self.kept() as f64 / self.start_mrr as f64)
    }

    /// `NRR = (start − contraction − churn + expansion)/start`.
    pub fn nrr(&self) -> Option<f64> {
        (self.start_mrr > 0).then(|| (self.kept() + u128::from(self.expansion)) as f64 / self.start_mrr as f64)
    }
}

/// `total / units`: cost per contact (opex/contacts), cost per case
/// (opex/cases resolved), contacts per case, contacts per customer.
pub fn per_unit(total: u64, units: u64) -> Option<f64> {
    (units > 0).then(|| total as f64 / units as f64)
}

/// One period of the cost tree `total = customers × contacts/customer ×
/// cost/contact`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct CostSnapshot {
    pub customers: u64,
    pub contacts: u64,
    /// Operating expense in minor units.
    pub opex: u64,
}

/// `ln(T₁/T₀) = ln(c₁/c₀) + ln(k₁/k₀) + ln(u₁/u₀)`: each driver's share of
/// a cost change, summing to the total (to f64 rounding).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct LogDecomposition {
    pub total: f64,
    pub customers: f64,
    pub contacts_per_customer: f64,
    pub cost_per_contact: f64,
}

/// The log decomposition from `before` to `after`; `None` if any count is 0
/// (a log of 0 has no share to attribute).
pub fn cost_log_decomposition(before: &CostSnapshot, after: &CostSnapshot) -> Option<LogDecomposition> {
    let all = [before.customers, before.contacts, before.opex, after.customers, after.contacts, after.opex];
    if all.contains(&0) {
        return None;
    }
    let w = |x: u64| u128::from(x);
    Some(LogDecomposition {
        total: ln_ratio(w(after.opex), w(before.opex)),
        customers: ln_ratio(w(after.customers), w(before.customers)),
        // k = contacts/customers, so k₁/k₀ = n₁c₀/(n₀c₁); likewise for u.
        contacts_per_customer: ln_ratio(
            w(after.contacts) * w(before.customers),
            w(before.contacts) * w(after.customers),
        ),
        cost_per_contact: ln_ratio(w(after.opex) * w(before.contacts), w(before.opex) * w(after.contacts)),
    })
}

/// `ln(a/b)` via `ln_1p((a − b)/b)`: precise when a ≈ b, the usual case for
/// period-over-period changes.
fn ln_ratio(a: u128, b: u128) -> f64 {
    let diff = a as i128 - b as i128;
    (diff as f64 / b as f64).ln_1p()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn more_customers_at_the_end_than_possible_is_refused() {
        assert!(CustomerRetention::new(10, 16, 5).is_err());
        assert_eq!(CustomerRetention::new(0, 5, 5).unwrap().crr(), None);
    }

    #[test]
    fn new_customers_who_leave_in_the_period_make_crr_negative() {
        let r = CustomerRetention::new(10, 2, 5).unwrap();
        assert_eq!(r.lost(), 13);
        assert_eq!(r.crr(), Some(-0.3));
        assert_eq!(r.churn(), Some(1.3));
    }

    #[test]
    fn revenue_losses_beyond_the_start_are_refused() {
        assert!(RevenueRetention::new(100, 60, 50, 0).is_err());
        assert_eq!(RevenueRetention::new(0, 0, 0, 10).unwrap().nrr(), None);
    }

    #[test]
    fn the_log_decomposition_sums_to_the_total() {
        let before = CostSnapshot { customers: 1000, contacts: 3000, opex: 6_000_000 };
        let after = CostSnapshot { customers: 1100, contacts: 2970, opex: 6_237_000 };
        let d = cost_log_decomposition(&before, &after).unwrap();
        let sum = d.customers + d.contacts_per_customer + d.cost_per_contact;
        assert!((sum - d.total).abs() < 1e-15);
        assert!((d.customers - 1.1f64.ln()).abs() < 1e-15);
        assert!((d.contacts_per_customer - (2.7f64 / 3.0).ln()).abs() < 1e-15);
    }

    #[test]
    fn a_zero_count_has_no_decomposition() {
        let zero = CostSnapshot { customers: 0, contacts: 1, opex: 1 };
        let one = CostSnapshot { customers: 1, contacts: 1, opex: 1 };
        assert_eq!(cost_log_decomposition(&zero, &one), None);
        assert_eq!(per_unit(5, 0), None);
    }
}
