//! Float-to-integer conversions for figures computed in `f64` (bit rates, durations in ticks, frame
//! sizes): the one place the cast lints are allowed for them. Rust's float-to-integer `as` saturates: a
//! value past the type's range becomes its maximum, a negative one 0, NaN 0. It never wraps, so a figure
//! from a hostile file cannot come out small and wrong; at worst it is clamped, and the caller's checks
//! (limits, ranges) see the clamped value.

/// `x` as a `u64`, saturating (negative and NaN are 0). Round first when the fraction matters.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // saturating: see the module
pub fn f64_to_u64(x: f64) -> u64 {
    x as u64
}

/// `x` as a `u32`, saturating (negative and NaN are 0). Round first when the fraction matters.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // saturating: see the module
pub fn f64_to_u32(x: f64) -> u32 {
    x as u32
}

/// `x` as an `f32`, the precision `m3u8-rs` keeps for EXTINF (it writes the shortest decimal of the
/// f32): a duration in seconds loses nothing an HLS player reads.
#[allow(clippy::cast_possible_truncation)] // f64 → f32 rounds to the nearest f32: see above
pub fn f64_to_f32(x: f64) -> f32 {
    x as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saturates_never_wraps() {
        assert_eq!(f64_to_u64(-1.0), 0);
        assert_eq!(f64_to_u64(f64::NAN), 0);
        assert_eq!(f64_to_u64(1e30), u64::MAX);
        assert_eq!(f64_to_u32(4_294_967_296.0 * 3.0), u32::MAX);
        assert_eq!(f64_to_u32(6.7), 6);
    }
}
