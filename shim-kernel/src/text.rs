//! The engine's log lines as bytes, without `core::fmt`.
//!
//! `core::fmt` cannot go into the kernel object: the precompiled `core` it lives in was
//! built without the kernel's return thunks (objtool: "'naked' return found in
//! MITIGATION_RETHUNK build") and it calls through function pointers (`Display::fmt`
//! in `fmt::Arguments`, `dyn Write`), whose targets would need ENDBR. So each
//! [`LogEvent`] is written here by hand, and the tests check every variant against the
//! engine's own `Display`: the module prints the engine's (the kernel's) text.

use gdlm_core::engine::LogEvent;
use gdlm_core::membership::MembershipError;
use gdlm_core::mount::RetryReason;

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

    /// Append bytes.
    pub fn s(&mut self, s: &str) -> &mut Self {
        for &b in s.as_bytes() {
            self.push(b);
        }
        self
    }

    fn digits(&mut self, mut v: u64, radix: u64) -> &mut Self {
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
        self
    }

    /// Append an unsigned number in decimal.
    pub fn u(&mut self, v: u64) -> &mut Self {
        self.digits(v, 10)
    }

    /// Append a signed number in decimal.
    pub fn i(&mut self, v: i64) -> &mut Self {
        if v < 0 {
            self.s("-");
        }
        self.digits(v.unsigned_abs(), 10)
    }

    /// Append a number in lowercase hex (`{:x}`).
    pub fn x(&mut self, v: u64) -> &mut Self {
        self.digits(v, 16)
    }

    /// Append `true` or `false`.
    pub fn b(&mut self, v: bool) -> &mut Self {
        self.s(if v { "true" } else { "false" })
    }
}

fn membership(t: &mut Text<'_>, e: &MembershipError) {
    match *e {
        MembershipError::TooManyMembers { count, capacity } => {
            t.u(count as u64)
                .s(" members exceed the capacity of ")
                .u(capacity as u64);
        }
        MembershipError::Duplicate(m) => {
            t.s("member ")
                .u(m.nodeid.into())
                .s(":")
                .u(m.pid.into())
                .s(" listed twice");
        }
        MembershipError::NotInGroup => {
            t.s("the local member is not in the group");
        }
        MembershipError::Inconsistent => {
            t.s("configuration change does not follow from the previous view");
        }
        MembershipError::BadMessage => {
            t.s("malformed sync message");
        }
        MembershipError::Diverged { ours, theirs } => {
            t.s("sync message diverges: our generation ")
                .u(ours.into())
                .s(", theirs ")
                .u(theirs.into());
        }
    }
}

/// Write `ev` as its `Display` writes it. [`LogEvent::RecoverJids`] is one line per
/// jid: this writes the line of `jid` (the caller walks the set).
pub fn log_line(t: &mut Text<'_>, ev: &LogEvent, jid: u32) {
    use LogEvent::*;
    match *ev {
        RecoverSlotPrev {
            jid,
            generation,
            prev,
        } => {
            t.s("recover_slot jid ")
                .u(jid.into())
                .s(" gen ")
                .u(generation.into())
                .s(" prev ")
                .u(prev.into());
        }
        RecoverSlotShort {
            jid,
            generation,
            size,
        } => {
            t.s("recover_slot jid ")
                .u(jid.into())
                .s(" gen ")
                .u(generation.into())
                .s(" short size ")
                .u(size.into());
        }
        ResultShort { jid, size } => {
            t.s("recovery_result jid ")
                .u(jid.into())
                .s(" short size ")
                .u(size.into());
        }
        RecoveryResult { jid, gaveup } => {
            t.s("recover jid ").u(jid.into()).s(if gaveup {
                " result busy"
            } else {
                " result success"
            });
        }
        ControlExError(e) => {
            t.s("control lock EX error ").i(e.into());
        }
        ControlNlError(e) => {
            t.s("control lock NL error ").i(e.into());
        }
        Block1 {
            start,
            block,
            block_now,
        } => {
            t.s("recover generation ")
                .u(start.into())
                .s(" block1 ")
                .u(block.into())
                .s(" ")
                .u(block_now.into());
        }
        RecoverJids { generation, .. } => {
            t.s("recover generation ")
                .u(generation.into())
                .s(" jid ")
                .u(jid.into());
        }
        RecoverDone { generation } => {
            t.s("recover generation ").u(generation.into()).s(" done");
        }
        Block2 {
            start,
            block,
            block_now,
        } => {
            t.s("recover generation ")
                .u(start.into())
                .s(" block2 ")
                .u(block.into())
                .s(" ")
                .u(block_now.into());
        }
        MountDisabled => {
            t.s("control_mount control_lock disabled");
        }
        FirstMounter { generation } => {
            t.s("first mounter control generation ")
                .u(generation.into());
        }
        MountWait {
            reason,
            block,
            start,
            mount,
            lvb,
            flags,
        } => {
            let w = match reason {
                RetryReason::ControlBusy => {
                    t.s("control_mount control_lock busy");
                    return;
                }
                RetryReason::WaitJournals => {
                    t.s("control_mount wait for journal recovery");
                    return;
                }
                RetryReason::Wait1 => "wait1",
                RetryReason::Wait2 => "wait2",
                RetryReason::Wait3 => "wait3",
            };
            t.s("control_mount ")
                .s(w)
                .s(" block ")
                .u(block.into())
                .s(" start ")
                .u(start.into())
                .s(" mount ")
                .u(mount.into())
                .s(" lvb ")
                .u(lvb.into())
                .s(" flags ")
                .x(flags.into());
        }
        FirstDoneWait { generation } => {
            t.s("control_first_done wait gen ").u(generation.into());
        }
        MountControlError(e) => {
            t.s("mount control error ").i(e.into());
        }
        FirstDoneError(e) => {
            t.s("mount first_done error ").i(e.into());
        }
        OpsNotUsed => {
            t.s("dlm lockspace ops not used");
        }
        JidPreset => {
            t.s("dlm lockspace ops disallow jid preset");
        }
        NewLockspaceError(e) => {
            t.s("dlm_new_lockspace error ").i(e.into());
        }
        NoJournal { jid } => {
            t.s("can't find journal #").u(jid.into());
        }
        JournalLockedForUse { jid } => {
            t.s("jid=").u(jid.into()).s(", already locked for use");
        }
        JournalTrying { jid } => {
            t.s("jid=")
                .u(jid.into())
                .s(": Trying to acquire journal lock...");
        }
        JournalBusy { jid } => {
            t.s("jid=").u(jid.into()).s(": Busy");
        }
        JournalDone { jid } => {
            t.s("jid=").u(jid.into()).s(": Done");
        }
        JournalFailed { jid } => {
            t.s("jid=").u(jid.into()).s(": Failed");
        }
        FirstMountJournalError { jid, error } => {
            t.s("error recovering journal ")
                .u(jid.into())
                .s(": ")
                .i(error.into());
        }
        OwnJournalError(e) => {
            t.s("error recovering my journal: ").i(e.into());
        }
        MembershipRefused(e) => {
            t.s("membership refused: ");
            membership(t, &e);
        }
        ControlLocked {
            lvb_gen,
            start,
            write,
        } => {
            t.s("control lvb gen ")
                .u(lvb_gen.into())
                .s(" start ")
                .u(start.into())
                .s(" write ")
                .b(write);
        }
        PrepIgnored => {
            t.s("recover_prep ignored due to withdraw.");
        }
        SlotIgnored { jid } => {
            t.s("recover_slot jid ")
                .i(jid.into())
                .s(" ignored due to withdraw.");
        }
        DoneIgnored => {
            t.s("recover_done ignored due to withdraw.");
        }
        CpgPrep => {
            t.s("recover_prep (cpg)");
        }
        CpgSlot { slot } => {
            t.s("recover_slot slot ").i(slot.into()).s(" (cpg)");
        }
        CpgDone {
            generation,
            our_slot,
        } => {
            t.s("recover_done gen ")
                .u(generation.into())
                .s(" our slot ")
                .i(our_slot.into())
                .s(" (cpg)");
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use gdlm_core::lvb::JidSet;
    use gdlm_core::membership::Member;
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
            t.s("abcd").u(12345);
        }
        assert_eq!(t.len(), TEXT_LEN - 1);
        assert_eq!(buf[TEXT_LEN - 1], 0);
        let mut none: [u8; 0] = [];
        let mut t = Text::new(&mut none);
        t.s("x").u(1);
        assert_eq!(t.len(), 0);
    }
}
