//! Structured trace records and the `--trace` JSONL schema.
//!
//! `gdlm-sim … --trace FILE` writes one JSON object per line, in event order:
//!
//! ```json
//! {"i":87,"t":1972,"node":1,"kind":"dlm_request",
//!  "what":"dlm_lock control_lock NL CONVERT|VALBLK lvb gen 4 jids [2] -> lkid 1",
//!  "lock":"control_lock","op":"lock","mode":"NL","flags":"0xc","flag_names":["CONVERT","VALBLK"],
//!  "lvb":"0400000000000000040000…","lvb_gen":4,"lvb_jids":[2],"lkid":1}
//! ```
//!
//! Every line has `i` (event index), `t` (virtual ms), `node` (0: the DLM or the
//! world), `kind` and `what` (the human text; for `kind: "log"` exactly the kernel's
//! line). The other fields depend on `kind`:
//!
//! | kind | fields |
//! |------|--------|
//! | `text` | none (a simulator line: mounts, crashes, callbacks; `HOLD requested/granted/unlock/released …` for a schedule's outside hold, on the holding node; `mount expecting slot S`, `got slot S …`) |
//! | `log` | `level` (`info`/`err`/`debug`): an engine line without its own kind |
//! | `first_mounter` | `generation`: the control LVB generation the first mounter read |
//! | `recover_jid` | `generation`, `jid`: "recover generation N jid J" (one per jid) |
//! | `recovery_result` | `jid`, `result` (`success`/`busy`; busy is `LM_RD_GAVEUP`) |
//! | `recover_done` | `generation`: "recover generation N done" (locking unblocked) |
//! | `control_locked` | `lvb_gen`, `start`, `write`: the control step read the LVB under EX |
//! | `dlm_request` | `lock`, `op` (`lock`/`unlock`), `mode`, `flags` (hex), `flag_names` (`DLM_LKF_*` without the prefix), `lvb`?, `lkid` or `error` |
//! | `ast` | `lkid`, `lock`?, `status`, `sb_flags`, `lvb`?: a completion (grant) |
//! | `bast` | `lkid`, `lock`?, `mode`: a blocking AST |
//! | `replay_start` | `jid`, `dirty`, `failed_gen`?: a journal replay begins |
//! | `replay_end` | `jid`, `ok`, `dirty`: the replay ended (`dirty`: it had something to replay) |
//! | `dlm_recovery` | `step`, `generation`: the DLM model's recovery advanced |
//! | `cpg_confchg` | `members`, `left`, `joined` (`"node:pid"`; `left` adds `:Reason`) |
//! | `cpg_message` | `from`, `len`, `bytes` (hex): a delivered group message |
//!
//! `lock` is `control_lock`, `mounted_lock` or `journal J`; absent for inode glocks.
//! `lvb` is the 32 LVB bytes in hex, with `lvb_gen` and `lvb_jids` decoded for
//! `control_lock` (a `dlm_request` with `lvb` on a conversion down from EX is a write; an
//! `ast` with `lvb` is a read). Records other than `text` and `log` are kept only when a
//! full trace is asked for, and formatted only when the trace is written.

use std::fmt::Write as _;

use gdlm_core::engine::{DlmOp, DlmRequest, LockRef, LogEvent};
use gdlm_core::ControlLvb;
use serde_json::{json, Map, Value};

use crate::cpg::Item;

/// A structured record as kept during a run (copied data, formatted later).
#[derive(Clone, Debug)]
pub(crate) enum Rec {
    /// An engine DLM call.
    DlmCall {
        req: DlmRequest,
        /// The LVB passed with the call.
        lvb: Option<[u8; 32]>,
        result: Result<u32, i32>,
    },
    /// A completion AST.
    Ast {
        lkid: u32,
        lock: Option<LockRef>,
        status: i32,
        sb_flags: u8,
        lvb: Option<[u8; 32]>,
    },
    /// A blocking AST.
    Bast {
        lkid: u32,
        lock: Option<LockRef>,
        mode: i32,
    },
    /// A replay starts.
    ReplayStart {
        jid: u32,
        dirty: bool,
        failed_gen: Option<u32>,
    },
    /// A replay ended.
    ReplayEnd { jid: u32, ok: bool, dirty: bool },
    /// The DLM model's recovery step.
    DlmRecovery {
        step: crate::dlm::RecoveryStep,
        generation: u32,
    },
    /// A CPG item delivered to the node.
    Cpg(Item),
}

/// `lock`'s name in the trace.
fn lock_name(l: LockRef) -> String {
    match l {
        LockRef::Control => "control_lock".into(),
        LockRef::Mounted => "mounted_lock".into(),
        LockRef::Journal(j) => format!("journal {j}"),
    }
}

fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(2 * b.len());
    for x in b {
        let _ = write!(s, "{x:02x}");
    }
    s
}

/// DLM mode names (`DLM_LOCK_*`).
fn mode_name(m: i32) -> &'static str {
    match m {
        -1 => "IV",
        0 => "NL",
        1 => "CR",
        2 => "CW",
        3 => "PR",
        4 => "PW",
        5 => "EX",
        _ => "?",
    }
}

/// Put the LVB fields; decoded for control_lock.
fn put_lvb(f: &mut Map<String, Value>, lock: Option<LockRef>, lvb: &[u8; 32]) -> String {
    f.insert("lvb".into(), hex(lvb).into());
    if lock == Some(LockRef::Control) {
        let l = ControlLvb::from_array(*lvb);
        let jids: Vec<u32> = l.jids().iter().collect();
        f.insert("lvb_gen".into(), l.generation().into());
        f.insert("lvb_jids".into(), json!(jids));
        format!(" lvb gen {} jids {jids:?}", l.generation())
    } else {
        String::new()
    }
}

fn member(m: &gdlm_core::membership::Member) -> String {
    format!("{}:{}", m.nodeid, m.pid)
}

impl Rec {
    /// `(kind, what, fields)`.
    pub(crate) fn cook(&self) -> (&'static str, String, Map<String, Value>) {
        let mut f = Map::new();
        match self {
            Rec::DlmCall { req, lvb, result } => {
                let lock = lock_name(req.lock);
                f.insert("lock".into(), lock.clone().into());
                let mut what = match req.op {
                    DlmOp::Lock { mode, flags } => {
                        let m = mode_name(mode.raw());
                        f.insert("op".into(), "lock".into());
                        f.insert("mode".into(), m.into());
                        f.insert("flags".into(), format!("{:#x}", flags.bits()).into());
                        // `DLM_LKF_*` names, as the kernel's header spells them.
                        let names: Vec<&str> = flags.iter_names().map(|(n, _)| n).collect();
                        f.insert("flag_names".into(), json!(names));
                        let l = lvb
                            .map(|l| put_lvb(&mut f, Some(req.lock), &l))
                            .unwrap_or_default();
                        format!("dlm_lock {lock} {m} {}{l}", names.join("|"))
                    }
                    DlmOp::Unlock => {
                        f.insert("op".into(), "unlock".into());
                        format!("dlm_unlock {lock}")
                    }
                };
                match result {
                    Ok(id) => {
                        f.insert("lkid".into(), (*id).into());
                        let _ = write!(what, " -> lkid {id}");
                    }
                    Err(e) => {
                        f.insert("error".into(), (*e).into());
                        let _ = write!(what, " -> error {e}");
                    }
                }
                ("dlm_request", what, f)
            }
            Rec::Ast {
                lkid,
                lock,
                status,
                sb_flags,
                lvb,
            } => {
                f.insert("lkid".into(), (*lkid).into());
                if let Some(l) = lock {
                    f.insert("lock".into(), lock_name(*l).into());
                }
                f.insert("status".into(), (*status).into());
                f.insert("sb_flags".into(), (*sb_flags).into());
                let l = lvb
                    .as_ref()
                    .map(|b| put_lvb(&mut f, *lock, b))
                    .unwrap_or_default();
                let on = lock
                    .map(|l| format!(" ({})", lock_name(l)))
                    .unwrap_or_default();
                (
                    "ast",
                    format!("ast lkid {lkid}{on} status {status} flags {sb_flags:#x}{l}"),
                    f,
                )
            }
            Rec::Bast { lkid, lock, mode } => {
                f.insert("lkid".into(), (*lkid).into());
                if let Some(l) = lock {
                    f.insert("lock".into(), lock_name(*l).into());
                }
                f.insert("mode".into(), mode_name(*mode).into());
                let on = lock
                    .map(|l| format!(" ({})", lock_name(l)))
                    .unwrap_or_default();
                ("bast", format!("bast lkid {lkid}{on} mode {mode}"), f)
            }
            Rec::ReplayStart {
                jid,
                dirty,
                failed_gen,
            } => {
                f.insert("jid".into(), (*jid).into());
                f.insert("dirty".into(), (*dirty).into());
                if let Some(g) = failed_gen {
                    f.insert("failed_gen".into(), (*g).into());
                }
                let d = if *dirty { "dirty" } else { "clean" };
                ("replay_start", format!("replay journal {jid} ({d})"), f)
            }
            Rec::ReplayEnd { jid, ok, dirty } => {
                f.insert("jid".into(), (*jid).into());
                f.insert("ok".into(), (*ok).into());
                f.insert("dirty".into(), (*dirty).into());
                // The simulator's old lines, unchanged (tests and readers match them);
                // the start line and `dirty` say whether there was anything to replay.
                let what = if *ok {
                    format!("journal {jid} replayed")
                } else {
                    format!("replay of journal {jid} failed")
                };
                ("replay_end", what, f)
            }
            Rec::DlmRecovery { step, generation } => {
                f.insert("step".into(), format!("{step:?}").into());
                f.insert("generation".into(), (*generation).into());
                (
                    "dlm_recovery",
                    format!("dlm {step:?} generation {generation}"),
                    f,
                )
            }
            Rec::Cpg(Item::ConfChg {
                members,
                left,
                joined,
            }) => {
                let m: Vec<String> = members.iter().map(member).collect();
                let l: Vec<String> = left
                    .iter()
                    .map(|(x, r)| format!("{}:{r:?}", member(x)))
                    .collect();
                let j: Vec<String> = joined.iter().map(member).collect();
                let what = format!("cpg confchg members {m:?} left {l:?} joined {j:?}");
                f.insert("members".into(), json!(m));
                f.insert("left".into(), json!(l));
                f.insert("joined".into(), json!(j));
                ("cpg_confchg", what, f)
            }
            Rec::Cpg(Item::Msg { from, bytes }) => {
                f.insert("from".into(), member(from).into());
                f.insert("len".into(), bytes.len().into());
                f.insert("bytes".into(), hex(bytes).into());
                (
                    "cpg_message",
                    format!("cpg message from {} ({} bytes)", member(from), bytes.len()),
                    f,
                )
            }
        }
    }
}

/// An engine log line's kind and fields.
pub(crate) fn log_kind(l: &LogEvent) -> (&'static str, Map<String, Value>) {
    let mut f = Map::new();
    let kind = match *l {
        LogEvent::FirstMounter { generation } => {
            f.insert("generation".into(), generation.into());
            "first_mounter"
        }
        LogEvent::RecoverJids {
            generation,
            ref jids,
        } => {
            f.insert("generation".into(), generation.into());
            let j: Vec<u32> = jids.iter().collect();
            if let [one] = j[..] {
                f.insert("jid".into(), one.into());
            } else {
                f.insert("jids".into(), json!(j));
            }
            "recover_jid"
        }
        LogEvent::RecoveryResult { jid, gaveup } => {
            f.insert("jid".into(), jid.into());
            f.insert(
                "result".into(),
                if gaveup { "busy" } else { "success" }.into(),
            );
            "recovery_result"
        }
        LogEvent::RecoverDone { generation } => {
            f.insert("generation".into(), generation.into());
            "recover_done"
        }
        LogEvent::ControlLocked {
            lvb_gen,
            start,
            write,
        } => {
            f.insert("lvb_gen".into(), lvb_gen.into());
            f.insert("start".into(), start.into());
            f.insert("write".into(), write.into());
            "control_locked"
        }
        _ => {
            let level = match l.level() {
                gdlm_core::engine::Level::Err => "err",
                gdlm_core::engine::Level::Debug => "debug",
                _ => "info",
            };
            f.insert("level".into(), level.into());
            "log"
        }
    };
    (kind, f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_lvb_is_decoded_in_an_ast() {
        let mut l = ControlLvb::default();
        l.set_generation(4);
        l.set_jid(2, true).unwrap();
        let r = Rec::Ast {
            lkid: 3,
            lock: Some(LockRef::Control),
            status: 0,
            sb_flags: 0,
            lvb: Some(*l.as_bytes()),
        };
        let (kind, what, f) = r.cook();
        assert_eq!(kind, "ast");
        assert_eq!(f["lvb_gen"], 4);
        assert_eq!(f["lvb_jids"], json!([2]));
        assert!(f["lvb"]
            .as_str()
            .unwrap()
            .starts_with("04000000000000000400"));
        assert!(
            what.contains("(control_lock)") && what.contains("jids [2]"),
            "{what}"
        );
    }

    #[test]
    fn log_kinds_carry_their_numbers() {
        let (k, f) = log_kind(&LogEvent::RecoveryResult {
            jid: 2,
            gaveup: true,
        });
        assert_eq!(
            (k, f["jid"].as_u64(), f["result"].as_str()),
            ("recovery_result", Some(2), Some("busy"))
        );
        let (k, f) = log_kind(&LogEvent::FirstMounter { generation: 9 });
        assert_eq!((k, f["generation"].as_u64()), ("first_mounter", Some(9)));
        let (k, f) = log_kind(&LogEvent::MountDisabled);
        assert_eq!((k, f["level"].as_str()), ("log", Some("err")));
    }

    #[test]
    fn replay_end_says_dirty_or_clean() {
        let (_, w, f) = Rec::ReplayEnd {
            jid: 1,
            ok: true,
            dirty: false,
        }
        .cook();
        assert_eq!(f["dirty"], false);
        assert_eq!(w, "journal 1 replayed");
        let (_, w, f) = Rec::ReplayStart {
            jid: 1,
            dirty: true,
            failed_gen: Some(3),
        }
        .cook();
        assert_eq!(
            (w.as_str(), &f["failed_gen"]),
            ("replay journal 1 (dirty)", &json!(3))
        );
    }
}
