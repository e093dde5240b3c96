//! A compact byte form for rollup histograms and a case's stored metric
//! items: LEB128 varints, zig-zag for signed numbers.

/// Why bytes could not be read back (a corrupt row, never user input).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub &'static str);

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "corrupt metric bytes: {}", self.0)
    }
}

impl std::error::Error for DecodeError {}

pub(crate) fn put_u(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

pub(crate) fn put_i(out: &mut Vec<u8>, v: i64) {
    put_u(out, ((v << 1) ^ (v >> 63)) as u64);
}

pub(crate) fn put_str(out: &mut Vec<u8>, s: &str) {
    put_u(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// Reads what the `put_*` functions wrote, in order.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, at: 0 }
    }

    pub(crate) fn done(&self) -> bool {
        self.at >= self.bytes.len()
    }

    pub(crate) fn u(&mut self) -> Result<u64, DecodeError> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = *self.bytes.get(self.at).ok_or(DecodeError("truncated varint"))?;
            self.at += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(DecodeError("varint too long"))
    }

    pub(crate) fn i(&mut self) -> Result<i64, DecodeError> {
        let z = self.u()?;
        Ok(((z >> 1) as i64) ^ -((z & 1) as i64))
    }

    pub(crate) fn str(&mut self) -> Result<String, DecodeError> {
        let len = usize::try_from(self.u()?).map_err(|_| DecodeError("length"))?;
        let end = self.at.checked_add(len).filter(|e| *e <= self.bytes.len()).ok_or(DecodeError("truncated text"))?;
        let s = std::str::from_utf8(&self.bytes[self.at..end]).map_err(|_| DecodeError("text is not UTF-8"))?;
        self.at = end;
        Ok(s.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn numbers_and_text_round_trip(u in any::<u64>(), i in any::<i64>(), s in ".{0,20}") {
            let mut out = Vec::new();
            put_u(&mut out, u);
            put_i(&mut out, i);
            put_str(&mut out, &s);
            let mut r = Reader::new(&out);
            prop_assert_eq!(r.u().unwrap(), u);
            prop_assert_eq!(r.i().unwrap(), i);
            prop_assert_eq!(r.str().unwrap(), s);
            prop_assert!(r.done());
        }

        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            let mut r = Reader::new(&bytes);
            let _ = r.u();
            let _ = r.str();
            let _ = r.i();
        }
    }
}
