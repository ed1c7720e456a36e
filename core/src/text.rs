//! Log text written once, for `core::fmt` and for places without it.
//!
//! Each line the engine reports ([`crate::engine::LogEvent`]) and each
//! [`crate::MembershipError`] is written by one function over a [`Sink`]. `Display`
//! runs it over a `Formatter` ([`display`]); a kernel object, which cannot link
//! `core::fmt` (its precompiled `core` lacks the kernel's return thunks, and
//! `fmt::Arguments` calls through function pointers that would need ENDBR), runs it
//! over a byte buffer of its own (`gdlm-kernel`'s `Text`). The two cannot drift apart.

use core::fmt;

/// Where a line of text goes: strings and numbers, formatted as `core::fmt` formats
/// `{}` and `{:x}`. The chaining methods are what the line writers call.
pub trait Sink {
    /// Append text.
    fn put_str(&mut self, s: &str);
    /// Append an unsigned number in decimal (`{}`).
    fn put_u64(&mut self, v: u64);
    /// Append a signed number in decimal (`{}`).
    fn put_i64(&mut self, v: i64);
    /// Append an unsigned number in lowercase hex without prefix (`{:x}`).
    fn put_hex(&mut self, v: u64);

    /// [`Sink::put_str`], chained.
    #[inline]
    fn s(&mut self, s: &str) -> &mut Self
    where
        Self: Sized,
    {
        self.put_str(s);
        self
    }
    /// [`Sink::put_u64`], chained.
    #[inline]
    fn u(&mut self, v: impl Into<u64>) -> &mut Self
    where
        Self: Sized,
    {
        self.put_u64(v.into());
        self
    }
    /// [`Sink::put_i64`], chained.
    #[inline]
    fn i(&mut self, v: impl Into<i64>) -> &mut Self
    where
        Self: Sized,
    {
        self.put_i64(v.into());
        self
    }
    /// [`Sink::put_hex`], chained.
    #[inline]
    fn x(&mut self, v: impl Into<u64>) -> &mut Self
    where
        Self: Sized,
    {
        self.put_hex(v.into());
        self
    }
    /// `true` or `false` (`{}` of a `bool`), chained.
    #[inline]
    fn b(&mut self, v: bool) -> &mut Self
    where
        Self: Sized,
    {
        self.put_str(if v { "true" } else { "false" });
        self
    }
}

/// A [`Sink`] over a `Formatter`: keeps the first error and writes nothing after it.
pub(crate) struct Fmt<'a, 'b> {
    f: &'a mut fmt::Formatter<'b>,
    r: fmt::Result,
}

impl Sink for Fmt<'_, '_> {
    fn put_str(&mut self, s: &str) {
        if self.r.is_ok() {
            self.r = self.f.write_str(s);
        }
    }
    fn put_u64(&mut self, v: u64) {
        if self.r.is_ok() {
            self.r = write!(self.f, "{v}");
        }
    }
    fn put_i64(&mut self, v: i64) {
        if self.r.is_ok() {
            self.r = write!(self.f, "{v}");
        }
    }
    fn put_hex(&mut self, v: u64) {
        if self.r.is_ok() {
            self.r = write!(self.f, "{v:x}");
        }
    }
}

/// Run a line writer over `f`: the body of a `Display` impl.
pub(crate) fn display(
    f: &mut fmt::Formatter<'_>,
    write: impl FnOnce(&mut Fmt<'_, '_>),
) -> fmt::Result {
    let mut out = Fmt { f, r: Ok(()) };
    write(&mut out);
    out.r
}
