//! A mergeable histogram of non-negative integers (durations in seconds,
//! survey scores), the structure that keeps percentiles answerable from
//! daily rollups without reading the cases again.
//!
//! Buckets: every value below 128 has its own bucket, so scores and short
//! durations are exact. Above, each power of two is split into 64 equal
//! buckets, so a bucket's width is at most 1/64 of its lower edge. Each
//! bucket keeps the count and the sum of its values and stands for their
//! mean, which lies inside the bucket. A percentile read from the histogram
//! (type 7, D-6) is therefore exact when the values involved are below
//! 128 s or a bucket holds equal values (a single case, say), and within
//! 1/64 (1.6 %) of the exact type-7 result otherwise: it interpolates
//! between two bucket means, each within a bucket's width of the value it
//! stands for. Histograms add and subtract exactly, which is what lets a
//! change to one case be applied to a day's rollup as a difference.

use super::codec::{DecodeError, Reader, put_i, put_u};

const EXACT: u64 = 128;
const SUB_BITS: u32 = 6;
const SUB: u64 = 1 << SUB_BITS;

/// The bucket a value falls in (negative values count as 0).
pub fn bucket_of(value: i64) -> u32 {
    let v = value.max(0) as u64;
    if v < EXACT {
        return v as u32;
    }
    let e = 63 - v.leading_zeros();
    let shift = e - SUB_BITS;
    let top = v >> shift;
    (EXACT + u64::from(e - 7) * SUB + (top - SUB)) as u32
}

/// The values `[low, high)` a bucket holds.
pub fn bucket_bounds(bucket: u32) -> (u64, u64) {
    let b = u64::from(bucket);
    if b < EXACT {
        return (b, b + 1);
    }
    let e = (b - EXACT) / SUB + 7;
    let top = (b - EXACT) % SUB + SUB;
    let shift = e as u32 - SUB_BITS;
    (top << shift, (top + 1) << shift)
}

/// (bucket, count, sum of values) sorted by bucket; counts may be negative
/// while a difference is being built, never in a stored rollup.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hist {
    counts: Vec<(u32, i64, i64)>,
}

impl Hist {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn of(values: &[i64]) -> Self {
        let mut h = Self::new();
        for v in values {
            h.add(*v, 1);
        }
        h
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// Adds `times` (which may be negative) observations of `value`.
    pub fn add(&mut self, value: i64, times: i64) {
        let value = value.max(0);
        self.add_bucket(bucket_of(value), times, value * times);
    }

    fn add_bucket(&mut self, bucket: u32, times: i64, sum: i64) {
        match self.counts.binary_search_by_key(&bucket, |(b, _, _)| *b) {
            Ok(i) => {
                self.counts[i].1 += times;
                self.counts[i].2 += sum;
                if self.counts[i].1 == 0 && self.counts[i].2 == 0 {
                    self.counts.remove(i);
                }
            }
            Err(i) if times != 0 || sum != 0 => self.counts.insert(i, (bucket, times, sum)),
            Err(_) => {}
        }
    }

    /// Adds `other` times `sign` (1 to merge, -1 to take away).
    pub fn merge(&mut self, other: &Hist, sign: i64) {
        if other.counts.is_empty() {
            return;
        }
        if self.counts.is_empty() && sign == 1 {
            self.counts = other.counts.clone();
            return;
        }
        // A merge join of the two sorted lists: linear, where adding bucket
        // by bucket would shift the list for every new bucket.
        let mut out = Vec::with_capacity(self.counts.len() + other.counts.len());
        let (mut i, mut j) = (0, 0);
        let (a, b) = (&self.counts, &other.counts);
        while i < a.len() || j < b.len() {
            let next = match (a.get(i), b.get(j)) {
                (Some(x), Some(y)) if x.0 == y.0 => {
                    i += 1;
                    j += 1;
                    (x.0, x.1 + sign * y.1, x.2 + sign * y.2)
                }
                (Some(x), Some(y)) if x.0 < y.0 => {
                    i += 1;
                    *x
                }
                (Some(x), None) => {
                    i += 1;
                    *x
                }
                (_, Some(y)) => {
                    j += 1;
                    (y.0, sign * y.1, sign * y.2)
                }
                (None, None) => break,
            };
            if next.1 != 0 || next.2 != 0 {
                out.push(next);
            }
        }
        self.counts = out;
    }

    pub fn buckets(&self) -> &[(u32, i64, i64)] {
        &self.counts
    }

    /// How many observations (the sum of the counts).
    pub fn count(&self) -> i64 {
        self.counts.iter().map(|(_, c, _)| c).sum()
    }

    /// Observations in buckets whose values are all at least `value`
    /// (exact for values below 128, which is where scores live).
    pub fn count_at_least(&self, value: i64) -> i64 {
        let b = bucket_of(value);
        self.counts.iter().filter(|(k, _, _)| *k >= b).map(|(_, c, _)| c).sum()
    }

    /// How many observations of exactly `value` (for values below 128).
    pub fn count_of(&self, value: i64) -> i64 {
        let b = bucket_of(value);
        self.counts.iter().find(|(k, _, _)| *k == b).map_or(0, |(_, c, _)| *c)
    }

    /// The value at 0-based `rank` of the sorted observations.
    fn at_rank(&self, rank: i64) -> Option<f64> {
        let mut seen = 0;
        for (_, c, sum) in &self.counts {
            seen += c;
            if rank < seen {
                return Some(*sum as f64 / *c as f64);
            }
        }
        None
    }

    /// The q-quantile, Hyndman–Fan type 7 (D-6), from the bucket values;
    /// `None` when there are no observations or the counts are not a sample.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let n = self.count();
        if n <= 0 || self.counts.iter().any(|(_, c, _)| *c <= 0) || !(0.0..=1.0).contains(&q) {
            return None;
        }
        let h = (n - 1) as f64 * q;
        let low = h.floor() as i64;
        let x0 = self.at_rank(low)?;
        if low + 1 >= n {
            return Some(x0);
        }
        let x1 = self.at_rank(low + 1)?;
        Some(x0 + (h - low as f64) * (x1 - x0))
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(2 + self.counts.len() * 3);
        put_u(&mut out, self.counts.len() as u64);
        let mut prev = 0;
        for (b, c, sum) in &self.counts {
            put_u(&mut out, u64::from(b - prev));
            put_i(&mut out, *c);
            put_i(&mut out, *sum);
            prev = *b;
        }
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        Self::read(&mut r)
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let len = r.u()?;
        if len > 1 << 20 {
            return Err(DecodeError("histogram too long"));
        }
        let mut counts = Vec::with_capacity(len as usize);
        let mut prev: u32 = 0;
        for i in 0..len {
            let step = u32::try_from(r.u()?).map_err(|_| DecodeError("bucket"))?;
            if i > 0 && step == 0 {
                return Err(DecodeError("buckets out of order"));
            }
            prev = prev.checked_add(step).ok_or(DecodeError("bucket"))?;
            counts.push((prev, r.i()?, r.i()?));
        }
        Ok(Self { counts })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{Quantile, SortedSample};
    use proptest::prelude::*;

    #[test]
    fn small_values_have_their_own_bucket() {
        for v in 0..128 {
            assert_eq!(bucket_bounds(bucket_of(v)), (v as u64, v as u64 + 1));
        }
        assert_eq!(bucket_bounds(bucket_of(128)), (128, 130));
        assert_eq!(bucket_bounds(bucket_of(129)), (128, 130));
        assert_eq!(bucket_bounds(bucket_of(255)), (254, 256));
        assert_eq!(bucket_bounds(bucket_of(256)), (256, 260));
        assert_eq!(bucket_of(-5), 0);
    }

    #[test]
    fn o1_backlog_ages_in_hours_are_exact() {
        // METRICS.md O1-backlog: median 23, p90 77.7 (type 7).
        let h = Hist::of(&[2, 5, 8, 12, 20, 26, 30, 49, 73, 120]);
        assert_eq!(h.quantile(0.5), Some(23.0));
        assert!((h.quantile(0.9).unwrap() - 77.7).abs() < 1e-9);
        assert_eq!(h.count(), 10);
    }

    #[test]
    fn subtracting_what_was_added_leaves_nothing() {
        let mut h = Hist::of(&[5, 500, 50_000]);
        h.merge(&Hist::of(&[500, 5, 50_000]), -1);
        assert!(h.is_empty());
        assert_eq!(h.quantile(0.5), None);
    }

    #[test]
    fn a_single_or_repeated_value_is_exact() {
        assert_eq!(Hist::of(&[3600]).quantile(0.5), Some(3600.0));
        assert_eq!(Hist::of(&[151_200, 151_200, 151_201]).quantile(0.0), Some(151_200.0 + 1.0 / 3.0));
        assert_eq!(Hist::of(&[7200, 7200]).quantile(0.9), Some(7200.0));
    }

    #[test]
    fn scores_count_exactly() {
        let mut h = Hist::new();
        for (score, n) in [(5, 42), (4, 32), (3, 10), (2, 9), (1, 14)] {
            h.add(score, n);
        }
        assert_eq!(h.count(), 107);
        assert_eq!(h.count_at_least(4), 74);
        assert_eq!(h.count_of(2), 9);
    }

    proptest! {
        #[test]
        fn bucket_bounds_hold_the_value(v in 0i64..i64::MAX / 4) {
            let (low, high) = bucket_bounds(bucket_of(v));
            prop_assert!(low <= v as u64 && (v as u64) < high);
            prop_assert!((high - low) as f64 <= (low as f64 / 64.0).max(1.0));
        }

        #[test]
        fn quantiles_are_within_the_stated_error(values in proptest::collection::vec(0i64..10_000_000, 1..200), q in 0.0f64..=1.0) {
            let exact = SortedSample::new(values.clone()).type7(Quantile::from_ppm((q * 1e6) as u32).unwrap()).unwrap();
            let q = f64::from(Quantile::from_ppm((q * 1e6) as u32).unwrap().ppm()) / 1e6;
            let approx = Hist::of(&values).quantile(q).unwrap();
            prop_assert!((approx - exact).abs() <= exact / 64.0 + 1e-6, "exact {} approx {}", exact, approx);
        }

        #[test]
        fn encoding_round_trips(values in proptest::collection::vec(-10i64..10_000_000, 0..100), sign in prop_oneof![Just(1i64), Just(-1i64)]) {
            let mut h = Hist::new();
            h.merge(&Hist::of(&values), sign);
            prop_assert_eq!(Hist::decode(&h.encode()).unwrap(), h);
        }

        #[test]
        fn merging_is_adding(a in proptest::collection::vec(0i64..100_000, 0..50), b in proptest::collection::vec(0i64..100_000, 0..50)) {
            let mut merged = Hist::of(&a);
            merged.merge(&Hist::of(&b), 1);
            let all: Vec<i64> = a.iter().chain(b.iter()).copied().collect();
            prop_assert_eq!(merged, Hist::of(&all));
        }
    }
}
