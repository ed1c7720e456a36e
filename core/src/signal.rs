//! Wake-ups a `no_std` async shim can await, built on `embassy-sync`.
//!
//! The kernel waits with `wait_on_bit` (`DFL_DLM_RECOVERY`, `SDF_NOJOURNALID`) and
//! runs `gfs2_control_func` from a delayed work queue. An async shim instead awaits
//! these signals; the core's return values say when to raise them.

use embassy_sync::blocking_mutex::raw::RawMutex;
use embassy_sync::signal::Signal;

use crate::recovery::ControlWork;

/// The signals one mount needs. `M` is the raw mutex of the shim's executor, e.g.
/// `CriticalSectionRawMutex` or `NoopRawMutex` for a single-threaded one.
pub struct Signals<M: RawMutex> {
    /// Raise with the work's delay when a callback returns `Some(ControlWork)`; the
    /// control task awaits it, sleeps the delay, and runs one control step.
    pub control_work: Signal<M, ControlWork>,
    /// Raise with the generation when locking is unblocked
    /// ([`crate::recovery::ControlFinish::Unblocked`] or a finished mount).
    pub unblocked: Signal<M, u32>,
    /// Raise with the generation when recover_done clears `DFL_DLM_RECOVERY`
    /// ([`crate::mount::FirstDoneStep::WaitDlmRecovery`] waits for it).
    pub dlm_recovery_done: Signal<M, u32>,
}

impl<M: RawMutex> Signals<M> {
    /// All signals unraised.
    pub const fn new() -> Self {
        Signals {
            control_work: Signal::new(),
            unblocked: Signal::new(),
            dlm_recovery_done: Signal::new(),
        }
    }
}

impl<M: RawMutex> Default for Signals<M> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use embassy_sync::blocking_mutex::raw::NoopRawMutex;

    #[test]
    fn signal_carries_latest_value() {
        let s: Signals<NoopRawMutex> = Signals::new();
        assert!(!s.control_work.signaled());
        s.control_work.signal(ControlWork::AfterHz);
        s.control_work.signal(ControlWork::Now);
        assert_eq!(s.control_work.try_take(), Some(ControlWork::Now));
        assert_eq!(s.control_work.try_take(), None);
    }
}
