//! The engine's own `no_std` clock types (smoltcp's shape): the caller says what time it
//! is; the engine never reads a clock.

use core::fmt;
use core::ops::Add;

/// A point in time, in nanoseconds since an origin the caller picks (boot, the start of a
/// simulation). Only differences and order matter to the engine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Instant(u64);

/// A span of time in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Duration(u64);

impl Instant {
    /// The origin.
    pub const ZERO: Instant = Instant(0);
    /// From nanoseconds since the origin.
    pub const fn from_nanos(ns: u64) -> Self {
        Instant(ns)
    }
    /// From milliseconds since the origin (saturating).
    pub const fn from_millis(ms: u64) -> Self {
        Instant(ms.saturating_mul(1_000_000))
    }
    /// Nanoseconds since the origin.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }
    /// Milliseconds since the origin, rounded down.
    pub const fn as_millis(self) -> u64 {
        self.0 / 1_000_000
    }
    /// Milliseconds since the origin, rounded up (a timer armed in whole milliseconds
    /// must not fire early).
    pub const fn as_millis_ceil(self) -> u64 {
        self.0.div_ceil(1_000_000)
    }
    /// `self - earlier`, zero if `earlier` is later.
    pub const fn saturating_since(self, earlier: Instant) -> Duration {
        Duration(self.0.saturating_sub(earlier.0))
    }
}

impl Duration {
    /// Zero.
    pub const ZERO: Duration = Duration(0);
    /// From milliseconds (saturating).
    pub const fn from_millis(ms: u64) -> Self {
        Duration(ms.saturating_mul(1_000_000))
    }
    /// From nanoseconds.
    pub const fn from_nanos(ns: u64) -> Self {
        Duration(ns)
    }
    /// Nanoseconds.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }
    /// Milliseconds, rounded down.
    pub const fn as_millis(self) -> u64 {
        self.0 / 1_000_000
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    /// Saturating: time near `u64::MAX` nanoseconds (584 years) stays there.
    fn add(self, d: Duration) -> Instant {
        Instant(self.0.saturating_add(d.0))
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{:03}s",
            self.0 / 1_000_000_000,
            (self.0 / 1_000_000) % 1000
        )
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ms", self.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates_and_rounds() {
        let t = Instant::from_millis(1500);
        assert_eq!(t.as_nanos(), 1_500_000_000);
        assert_eq!((t + Duration::from_millis(500)).as_millis(), 2000);
        assert_eq!(
            Instant::from_nanos(u64::MAX) + Duration::from_millis(1),
            Instant::from_nanos(u64::MAX)
        );
        assert_eq!(Instant::from_nanos(1).as_millis_ceil(), 1);
        assert_eq!(Instant::from_nanos(1).as_millis(), 0);
        assert_eq!(
            t.saturating_since(Instant::from_millis(2000)),
            Duration::ZERO
        );
        assert_eq!(Instant::from_millis(u64::MAX).as_nanos(), u64::MAX);
    }
}
