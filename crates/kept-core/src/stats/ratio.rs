//! Exact building blocks: a "k of n" tally and a non-negative rational.
//!
//! D-1 keeps counts as integers until the very end; these two types carry
//! them there. [`Ratio`] also lets thresholds such as 336/25 be compared
//! exactly instead of as 13.44 (D-3).

use std::cmp::Ordering;

use super::StatsError;

/// `k` successes out of `n` trials, with `k ≤ n` guaranteed by construction.
///
/// Serialize only: deserializing would bypass [`Tally::new`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
pub struct Tally {
    k: u64,
    n: u64,
}

impl Tally {
    /// A tally; `Err` when `k > n`, which no count can produce.
    pub fn new(k: u64, n: u64) -> Result<Self, StatsError> {
        if k > n {
            return Err(StatsError::invalid("k", "more successes than trials"));
        }
        Ok(Self { k, n })
    }

    /// Successes.
    pub fn k(self) -> u64 {
        self.k
    }

    /// Trials.
    pub fn n(self) -> u64 {
        self.n
    }

    /// Failures, `n − k`.
    pub fn misses(self) -> u64 {
        self.n - self.k
    }

    /// `k / n`, or `None` when there is no data (D-7).
    pub fn rate(self) -> Option<f64> {
        (self.n > 0).then(|| self.k as f64 / self.n as f64)
    }

    /// The exact rate, or `None` when `n = 0`.
    pub fn ratio(self) -> Option<Ratio> {
        Ratio::new(u128::from(self.k), u128::from(self.n))
    }

    /// Pools tallies by adding counts (D-13): the organisational rate.
    pub fn pooled<I: IntoIterator<Item = Tally>>(parts: I) -> Result<Self, StatsError> {
        let mut total = Tally::default();
        for t in parts {
            total = Tally {
                k: total.k.checked_add(t.k).ok_or(StatsError::Overflow("pooled k"))?,
                n: total.n.checked_add(t.n).ok_or(StatsError::Overflow("pooled n"))?,
            };
        }
        Ok(total)
    }
}

/// A non-negative rational `num/den` with `den > 0`, kept in lowest terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Ratio {
    num: u128,
    den: u128,
}

impl Ratio {
    /// `num/den` in lowest terms; `None` when `den = 0`.
    pub fn new(num: u128, den: u128) -> Option<Self> {
        if den == 0 {
            return None;
        }
        let g = gcd(num, den);
        Some(Self { num: num / g, den: den / g })
    }

    /// The integer `n` as a ratio.
    pub fn integer(n: u128) -> Self {
        Self { num: n, den: 1 }
    }

    /// Numerator in lowest terms.
    pub fn num(self) -> u128 {
        self.num
    }

    /// Denominator in lowest terms (never 0).
    pub fn den(self) -> u128 {
        self.den
    }

    /// The nearest-ish `f64`; only for display and further float maths.
    pub fn to_f64(self) -> f64 {
        self.num as f64 / self.den as f64
    }

    /// `self · other`, or `None` on overflow.
    pub fn checked_mul(self, other: Ratio) -> Option<Ratio> {
        // Cross-reduce first so that products of reduced factors stay small.
        let g1 = gcd(self.num, other.den);
        let g2 = gcd(other.num, self.den);
        let num = (self.num / g1).checked_mul(other.num / g2)?;
        let den = (self.den / g2).checked_mul(other.den / g1)?;
        Ratio::new(num, den)
    }

    /// `1/self`, or `None` when `self = 0`.
    pub fn recip(self) -> Option<Ratio> {
        Ratio::new(self.den, self.num)
    }
}

impl Ord for Ratio {
    /// Exact comparison without overflow: compare integer parts, then the
    /// reciprocals of the remainders (the Euclidean algorithm on both).
    fn cmp(&self, other: &Self) -> Ordering {
        let (mut a, mut b, mut c, mut d) = (self.num, self.den, other.num, other.den);
        let mut flipped = false;
        loop {
            let (qa, qc) = (a / b, c / d);
            if qa != qc {
                let o = qa.cmp(&qc);
                return if flipped { o.reverse() } else { o };
            }
            let (ra, rc) = (a % b, c % d);
            let o = match (ra == 0, rc == 0) {
                (true, true) => return Ordering::Equal,
                (true, false) => Ordering::Less,
                (false, true) => Ordering::Greater,
                (false, false) => {
                    // ra/b vs rc/d  ⇔  d/rc vs b/ra, with the order reversed.
                    (a, b, c, d) = (b, ra, d, rc);
                    flipped = !flipped;
                    continue;
                }
            };
            return if flipped { o.reverse() } else { o };
        }
    }
}

impl PartialOrd for Ratio {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Display for Ratio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.num, self.den)
    }
}

pub(crate) fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_tally_with_more_successes_than_trials_is_refused() {
        assert!(Tally::new(3, 2).is_err());
        assert!(Tally::new(2, 2).is_ok());
    }

    #[test]
    fn an_empty_tally_has_no_rate() {
        assert_eq!(Tally::new(0, 0).map(Tally::rate), Ok(None));
    }

    #[test]
    fn pooling_adds_counts() {
        let parts = [(90, 100), (150, 200), (8, 10)].map(|(k, n)| Tally { k, n });
        assert_eq!(Tally::pooled(parts), Ok(Tally { k: 248, n: 310 }));
    }

    #[test]
    fn pooling_overflow_is_an_error() {
        let big = Tally { k: u64::MAX, n: u64::MAX };
        assert!(Tally::pooled([big, big]).is_err());
    }

    #[test]
    fn ratios_are_kept_in_lowest_terms() {
        let r = Ratio::new(1344, 100);
        assert_eq!(r.map(|r| (r.num(), r.den())), Some((336, 25)));
        assert_eq!(Ratio::new(0, 7).map(|r| (r.num(), r.den())), Some((0, 1)));
        assert_eq!(Ratio::new(1, 0), None);
    }

    #[test]
    fn equal_ratios_compare_equal_whatever_their_form() {
        let a = Ratio { num: 2, den: 4 };
        let b = Ratio { num: 1, den: 2 };
        assert_eq!(a.cmp(&b), Ordering::Equal);
    }

    #[test]
    fn huge_ratios_compare_without_overflow() {
        let a = Ratio { num: u128::MAX - 1, den: u128::MAX };
        let b = Ratio { num: u128::MAX - 2, den: u128::MAX - 1 };
        assert!(a > b);
    }

    proptest! {
        #[test]
        fn ratio_order_matches_cross_multiplication(
            a in 0u64..1_000_000, b in 1u64..1_000_000, c in 0u64..1_000_000, d in 1u64..1_000_000,
        ) {
            let (a, b, c, d) = (u128::from(a), u128::from(b), u128::from(c), u128::from(d));
            let x = Ratio { num: a, den: b };
            let y = Ratio { num: c, den: d };
            prop_assert_eq!(x.cmp(&y), (a * d).cmp(&(c * b)));
        }
    }
}
