// SPDX-License-Identifier: GPL-2.0-only
//! gdlm on the real Linux DLM, from userspace.
//!
//! [`Lockspace`] wraps libdlm (found with pkg-config; Debian `libdlm-dev`): create, open and
//! release a lockspace; request, convert, unlock and cancel locks, with the 32-byte LVB; ASTs
//! and BASTs as [`Event`]s read from the lockspace fd, which a caller can `poll` itself (or hand
//! to an async runtime: [`Lockspace`] is `AsFd`) before calling [`Lockspace::dispatch`], or let
//! [`Lockspace::next_event`] / [`Lockspace::wait_completion`] do both.
//!
//! Modes, flags and resource names are gdlm-core's ([`gdlm_core::mode::DlmMode`],
//! [`gdlm_core::flags::DlmLkf`], [`gdlm_core::name::LockName::encode`]); completion statuses
//! convert to the kernel's convention ([`Status::kernel_status`]) for
//! [`gdlm_core::ast::gdlm_ast`].
//!
//! ```no_run
//! use std::time::Duration;
//! use gdlm_core::{DlmLkf, DlmMode, LockName};
//! use gdlm_linux::{Lockspace, Status};
//!
//! let mut ls = Lockspace::create("demo")?;
//! let name = LockName::new(2, 0x1234).encode();
//! let lk = ls.lock(name.as_bytes(), DlmMode::Ex, DlmLkf::VALBLK, None)?;
//! let c = ls.wait_completion(lk, Duration::from_secs(10))?;
//! assert_eq!(c.status, Status::Granted);
//! ls.convert(lk, DlmMode::Nl, DlmLkf::VALBLK, Some(&[7; 32]))?; // writes the LVB
//! ls.wait_completion(lk, Duration::from_secs(10))?;
//! ls.unlock(lk, DlmLkf::empty(), None)?;
//! ls.wait_completion(lk, Duration::from_secs(10))?;
//! ls.release(false)?;
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! [`Cpg`] joins a corosync CPG group (through `rust-corosync`) and turns its callbacks into
//! [`CpgEvent`]s; the `gdlmd` binary combines both to execute gdlm-core's lifecycle engine
//! (`gdlm_core::engine`), gfs2's mount and journal-recovery protocol, over a userspace
//! lockspace, from one non-blocking poll loop ([`Lockspace::dispatch`] then
//! [`Lockspace::take_event`] when the lockspace fd is readable).
//!
//! [`status`] reads a lockspace's state from the kernel's debugfs ([`debugfs`]), sysfs,
//! configfs and log without taking a lock (the `gdlm status` tool).
//!
//! Only unit tests of the pure parts run under `cargo test`; the real DLM is exercised in VMs
//! by `ci/realdlm/run` (the `gdlm-linux-smoke` binary).

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs, clippy::undocumented_unsafe_blocks)]

pub mod cpg;
pub mod debugfs;
mod event;
mod lockspace;
pub mod status;
#[allow(missing_docs)]
pub mod sys;

pub use cpg::{Cpg, CpgEvent, CpgMember};
pub use event::{sbf, Completion, Event, LockId, Status};
pub use lockspace::{Lockspace, Lvb, Timeout};

/// The LVB length of a userspace lockspace (`DLM_USER_LVB_LEN`).
pub const LVB_LEN: usize = sys::DLM_LVB_LEN;

/// An LVB holding `text` (truncated to 32 bytes, zero-padded).
pub fn lvb_from(text: &[u8]) -> Lvb {
    let mut v = [0u8; LVB_LEN];
    let n = text.len().min(LVB_LEN);
    v[..n].copy_from_slice(&text[..n]);
    v
}

/// The text of an LVB up to its first NUL (lossy UTF-8).
pub fn lvb_text(lvb: &Lvb) -> String {
    let end = lvb.iter().position(|&b| b == 0).unwrap_or(LVB_LEN);
    String::from_utf8_lossy(&lvb[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lvb_text_round_trip() {
        let v = lvb_from(b"gen-42");
        assert_eq!(lvb_text(&v), "gen-42");
        assert_eq!(lvb_text(&lvb_from(&[b'x'; 40])).len(), 32);
        assert_eq!(lvb_text(&[0; 32]), "");
    }

    #[test]
    fn lksb_layout_matches_linux_dlm_h() {
        use std::mem::{align_of, offset_of, size_of};
        assert_eq!(offset_of!(sys::DlmLksb, sb_status), 0);
        assert_eq!(offset_of!(sys::DlmLksb, sb_lkid), 4);
        assert_eq!(offset_of!(sys::DlmLksb, sb_flags), 8);
        assert_eq!(
            offset_of!(sys::DlmLksb, sb_lvbptr),
            8 + align_of::<*mut u8>()
        );
        assert_eq!(size_of::<sys::DlmLksb>(), 8 + 2 * size_of::<*mut u8>());
    }

    #[test]
    fn glock_names_are_the_kernels() {
        let n = gdlm_core::LockName::new(2, 0x1234abcd).encode();
        assert_eq!(n.as_bytes().len(), 24);
        assert_eq!(n.as_str(), "       2        1234abcd");
    }
}
