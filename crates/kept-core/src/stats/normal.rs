//! The standard normal distribution, as far as kept needs it (D-2).

/// Φ⁻¹(0.975). D-2: never 1.96, which moves the 6th decimal of a Wilson bound.
pub const Z95: f64 = 1.959963984540054;

/// Standard normal CDF, Φ(x) = ½·erfc(−x/√2).
///
/// Through `erfc` rather than `1 − ½erfc(x/√2)` so the far left tail keeps
/// its relative precision instead of cancelling to 0.
pub fn phi(x: f64) -> f64 {
    0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
}

/// Two-sided p-value of a z statistic, 2Φ(−|z|).
pub fn two_sided_p(z: f64) -> f64 {
    libm::erfc(z.abs() / std::f64::consts::SQRT_2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phi_is_one_half_at_zero_and_symmetric() {
        assert_eq!(phi(0.0), 0.5);
        for x in [0.3, 1.0, 2.5, 6.0] {
            assert!((phi(x) + phi(-x) - 1.0).abs() < 1e-15);
        }
    }

    #[test]
    fn phi_of_z95_is_0_975() {
        assert!((phi(Z95) - 0.975).abs() < 1e-15);
    }

    #[test]
    fn two_sided_p_of_z95_is_five_percent() {
        assert!((two_sided_p(Z95) - 0.05).abs() < 1e-15);
        assert!((two_sided_p(-Z95) - 0.05).abs() < 1e-15);
    }

    #[test]
    fn the_far_tail_keeps_relative_precision() {
        // 1 − Φ(10) ≈ 7.6e-24 would be 0 if computed as 1 − Φ(10).
        assert!(phi(-10.0) > 7.0e-24 && phi(-10.0) < 8.0e-24);
    }
}
