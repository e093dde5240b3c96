//! A byte form for a set of rollup differences, so that differences already
//! committed can wait, durably, before they are added to the rollup rows.

use super::codec::{DecodeError, Reader, put_i, put_str, put_u};
use super::hist::Hist;
use super::items::{Delta, RollupKey, Scope};
use super::measure::Measure;
use std::collections::BTreeMap;

/// Scope codes in the byte form: positions in this list, never reordered.
const SCOPES: [Scope; 7] =
    [Scope::Org, Scope::Team, Scope::Agent, Scope::Tier, Scope::Channel, Scope::CaseType, Scope::Account];

const VERSION: u64 = 1;

pub fn encode_deltas(deltas: &BTreeMap<RollupKey, Delta>) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + deltas.len() * 12);
    put_u(&mut out, VERSION);
    put_u(&mut out, deltas.len() as u64);
    for (k, d) in deltas {
        out.push(SCOPES.iter().position(|s| *s == k.scope).unwrap_or(0) as u8);
        put_str(&mut out, &k.key);
        put_i(&mut out, i64::from(k.day));
        out.push(k.measure.code());
        put_i(&mut out, d.n);
        put_i(&mut out, d.total);
        out.extend(d.hist.encode());
    }
    out
}

/// Reads what [`encode_deltas`] wrote, adding it to `into`.
pub fn decode_deltas_into(bytes: &[u8], into: &mut BTreeMap<RollupKey, Delta>) -> Result<(), DecodeError> {
    let mut r = Reader::new(bytes);
    if r.u()? != VERSION {
        return Err(DecodeError("unknown deltas version"));
    }
    let count = r.u()?;
    for _ in 0..count.min(1 << 24) {
        let scope = usize::try_from(r.u()?).ok().and_then(|i| SCOPES.get(i)).copied().ok_or(DecodeError("scope"))?;
        let key = r.str()?;
        let day = i32::try_from(r.i()?).map_err(|_| DecodeError("day"))?;
        let code = u8::try_from(r.u()?).map_err(|_| DecodeError("measure"))?;
        let measure = Measure::from_code(code).ok_or(DecodeError("measure"))?;
        let delta = Delta { n: r.i()?, total: r.i()?, hist: Hist::read(&mut r)? };
        into.entry(RollupKey { scope, key, day, measure }).or_default().add(&delta);
    }
    if !r.done() {
        return Err(DecodeError("bytes after the deltas"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(scope: Scope, key: &str, day: i32, measure: Measure) -> RollupKey {
        RollupKey { scope, key: key.into(), day, measure }
    }

    fn sample() -> BTreeMap<RollupKey, Delta> {
        let mut hist = Hist::new();
        hist.add(61, 1);
        hist.add(86_400 * 40, 2);
        hist.add(5, -1);
        [
            (key(Scope::Org, "", 20_000, Measure::Frt), Delta { n: 3, total: 61 + 86_400 * 80 - 5, hist }),
            (key(Scope::Agent, "17", -3, Measure::Created), Delta { n: -1, total: 0, hist: Hist::new() }),
            (key(Scope::Account, "300", 21_000, Measure::Created), Delta { n: 1, total: 0, hist: Hist::new() }),
            (key(Scope::CaseType, "question – ü", 0, Measure::SurveySent), Delta { n: 2, total: 1, hist: Hist::new() }),
        ]
        .into_iter()
        .collect()
    }

    #[test]
    fn deltas_read_back_as_written() {
        let deltas = sample();
        let mut back = BTreeMap::new();
        decode_deltas_into(&encode_deltas(&deltas), &mut back).unwrap();
        assert_eq!(back, deltas);
    }

    #[test]
    fn reading_adds_to_what_is_there() {
        let deltas = sample();
        let bytes = encode_deltas(&deltas);
        let mut sum = BTreeMap::new();
        decode_deltas_into(&bytes, &mut sum).unwrap();
        decode_deltas_into(&bytes, &mut sum).unwrap();
        for (k, d) in &deltas {
            let mut twice = d.clone();
            twice.add(d);
            assert_eq!(sum[k], twice, "{k:?}");
        }
        assert_eq!(sum.len(), deltas.len());
    }

    #[test]
    fn damaged_bytes_are_an_error_not_a_panic() {
        let bytes = encode_deltas(&sample());
        for cut in 0..bytes.len() {
            assert!(decode_deltas_into(&bytes[..cut], &mut BTreeMap::new()).is_err(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode_deltas_into(&longer, &mut BTreeMap::new()).is_err());
        let mut bad_scope = bytes;
        bad_scope[2] = 7;
        assert!(decode_deltas_into(&bad_scope, &mut BTreeMap::new()).is_err());
    }
}
