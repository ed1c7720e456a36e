//! The engine's log lines as bytes, without `core::fmt`.
//!
//! `core::fmt` cannot go into the kernel object: the precompiled `core` it lives in was
//! built without the kernel's return thunks (objtool: "'naked' return found in
//! MITIGATION_RETHUNK build") and it calls through function pointers (`Display::fmt`
//! in `fmt::Arguments`, `dyn Write`), whose targets would need ENDBR. So the engine
//! writes each [`LogEvent`] through [`Sink`] ([`LogEvent::write_line`], the writer its
//! own `Display` runs) into this NUL-terminated buffer; the tests check every variant's
//! bytes against the `Display` text, i.e. this file's numbers against `core::fmt`'s.

use gdlm_core::engine::LogEvent;
use gdlm_core::text::Sink;

/// Bytes of a log line's buffer, the terminating NUL included.
pub const TEXT_LEN: usize = 128;

/// A NUL-terminated line being written; what does not fit is cut off.
pub struct Text<'a> {
    buf: &'a mut [u8],
    n: usize,
}

impl<'a> Text<'a> {
    /// An empty line in `buf` (which holds nothing, not even the NUL, when empty).
    pub fn new(buf: &'a mut [u8]) -> Self {
        if let Some(b) = buf.first_mut() {
            *b = 0;
        }
        Text { buf, n: 0 }
    }

    fn push(&mut self, b: u8) {
        if self.n + 1 < self.buf.len() {
            self.buf[self.n] = b;
            self.n += 1;
            self.buf[self.n] = 0;
        }
    }

    /// Bytes written (without the NUL).
    pub fn len(&self) -> usize {
        self.n
    }

    /// Nothing written yet.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }
}

impl Text<'_> {
    fn digits(&mut self, mut v: u64, radix: u64) {
        let mut tmp = [0u8; 20];
        let mut i = tmp.len();
        loop {
            i -= 1;
            let d = (v % radix) as u8;
            tmp[i] = if d < 10 { b'0' + d } else { b'a' + d - 10 };
            v /= radix;
            if v == 0 {
                break;
            }
        }
        for &b in &tmp[i..] {
            self.push(b);
        }
    }
}

/// The engine's line writers ([`LogEvent::write_line`]) and the status line write here.
impl Sink for Text<'_> {
    fn put_str(&mut self, s: &str) {
        for &b in s.as_bytes() {
            self.push(b);
        }
    }
    fn put_u64(&mut self, v: u64) {
        self.digits(v, 10)
    }
    fn put_i64(&mut self, v: i64) {
        if v < 0 {
            self.push(b'-');
        }
        self.digits(v.unsigned_abs(), 10)
    }
    fn put_hex(&mut self, v: u64) {
        self.digits(v, 16)
    }
}

/// Write `ev` as its `Display` writes it. [`LogEvent::RecoverJids`] is one line per
/// jid: this writes the line of `jid` (the caller walks the set).
pub fn log_line(t: &mut Text<'_>, ev: &LogEvent, jid: u32) {
    ev.write_line(t, jid);
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use gdlm_core::lvb::JidSet;
    use gdlm_core::membership::{Member, MembershipError};
    use gdlm_core::mount::RetryReason;
    use std::string::String;
    use std::vec::Vec;
    use std::{format, vec};

    fn line(ev: &LogEvent, jid: u32) -> String {
        let mut buf = [0xffu8; TEXT_LEN];
        let mut t = Text::new(&mut buf);
        log_line(&mut t, ev, jid);
        let n = t.len();
        assert_eq!(buf[n], 0, "NUL-terminated");
        String::from_utf8(buf[..n].to_vec()).expect("ASCII")
    }

    /// Every variant, with small, extreme and negative values.
    fn samples() -> Vec<LogEvent> {
        use LogEvent::*;
        let us = [0u32, 1, 7, 192, 4096, u32::MAX];
        let is = [0i32, -1, -11, -22, -65538, i32::MIN, i32::MAX];
        let mut v = Vec::new();
        for (k, &a) in us.iter().enumerate() {
            let b = us[(k + 1) % us.len()];
            let c = us[(k + 3) % us.len()];
            let e = is[k % is.len()];
            v.extend([
                RecoverSlotPrev {
                    jid: a,
                    generation: b,
                    prev: c,
                },
                RecoverSlotShort {
                    jid: a,
                    generation: b,
                    size: c,
                },
                ResultShort { jid: a, size: b },
                RecoveryResult {
                    jid: a,
                    gaveup: k % 2 == 0,
                },
                ControlExError(e),
                ControlNlError(e),
                Block1 {
                    start: a,
                    block: b,
                    block_now: c,
                },
                RecoverDone { generation: a },
                Block2 {
                    start: a,
                    block: b,
                    block_now: c,
                },
                MountDisabled,
                FirstMounter { generation: a },
                FirstDoneWait { generation: a },
                MountControlError(e),
                FirstDoneError(e),
                OpsNotUsed,
                JidPreset,
                NewLockspaceError(e),
                NoJournal { jid: a },
                JournalTrying { jid: a },
                JournalBusy { jid: a },
                JournalDone { jid: a },
                JournalFailed { jid: a },
                FirstMountJournalError { jid: a, error: e },
                OwnJournalError(e),
                ControlLocked {
                    lvb_gen: a,
                    start: b,
                    write: k % 2 == 1,
                },
                PrepIgnored,
                SlotIgnored { jid: e },
                DoneIgnored,
                CpgPrep,
                CpgSlot { slot: e },
                CpgDone {
                    generation: a,
                    our_slot: e,
                },
                MembershipRefused(MembershipError::TooManyMembers {
                    count: a as usize,
                    capacity: 192,
                }),
                MembershipRefused(MembershipError::Duplicate(Member { nodeid: a, pid: b })),
                MembershipRefused(MembershipError::NotInGroup),
                MembershipRefused(MembershipError::Inconsistent),
                MembershipRefused(MembershipError::BadMessage),
                MembershipRefused(MembershipError::Diverged { ours: a, theirs: b }),
            ]);
            for reason in [
                RetryReason::ControlBusy,
                RetryReason::WaitJournals,
                RetryReason::Wait1,
                RetryReason::Wait2,
                RetryReason::Wait3,
            ] {
                v.push(MountWait {
                    reason,
                    block: a,
                    start: b,
                    mount: c,
                    lvb: a,
                    flags: b,
                });
            }
        }
        v
    }

    #[test]
    fn every_line_is_the_engines_display() {
        let s = samples();
        assert!(s.len() > 200);
        for ev in &s {
            let want = format!("{ev}");
            assert!(want.len() < TEXT_LEN, "{want} does not fit");
            assert_eq!(line(ev, 0), want, "{ev:?}");
        }
    }

    #[test]
    fn recover_jids_is_one_line_per_jid() {
        let mut jids = JidSet::new();
        for j in [0, 5, 191] {
            jids.insert(j).unwrap();
        }
        let ev = LogEvent::RecoverJids {
            generation: 9,
            jids,
        };
        let lines: Vec<String> = jids.iter().map(|j| line(&ev, j)).collect();
        assert_eq!(lines.join("\n"), format!("{ev}"));
        assert_eq!(
            lines,
            vec![
                "recover generation 9 jid 0",
                "recover generation 9 jid 5",
                "recover generation 9 jid 191"
            ]
        );
    }

    #[test]
    fn long_text_is_cut_and_terminated() {
        let mut buf = [0u8; TEXT_LEN];
        let mut t = Text::new(&mut buf);
        for _ in 0..40 {
            t.s("abcd").u(12345u32);
        }
        assert_eq!(t.len(), TEXT_LEN - 1);
        assert_eq!(buf[TEXT_LEN - 1], 0);
        let mut none: [u8; 0] = [];
        let mut t = Text::new(&mut none);
        t.s("x").u(1u32);
        assert_eq!(t.len(), 0);
    }
}
