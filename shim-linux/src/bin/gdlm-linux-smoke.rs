// SPDX-License-Identifier: GPL-2.0-only
//! `gdlm-linux-smoke`: exercises gdlm-linux against the real kernel DLM (run in the VMs by
//! `ci/realdlm/run`).
//!
//! ```text
//! gdlm-linux-smoke single [ITERS]          one node: lock/convert/unlock with LVB, NOQUEUE,
//!                                          NOQUEUEBAST, BAST + LVB hand-off, cancel, timings
//! gdlm-linux-smoke node N                  one of three nodes: cross-node NOQUEUE, BASTs and
//!                                          LVB hand-off node1 -> node2 -> node3
//! gdlm-linux-smoke bench [N]               the operations of ci/realdlm/src/dlmbench.c (the C
//!                                          baseline), printing `BENCH rust NAME us` lines
//! gdlm-linux-smoke hold LS TYPE NUM SECS [--while-file F]
//!                                          join lockspace LS (e.g. a gfs2 mount's), wait (up
//!                                          to 300 s) for EX on glock TYPE/NUM, hold it SECS
//!                                          seconds (and on while F exists, at most 120 s
//!                                          more), release; e.g. a journal lock (type 9)
//!                                          that gfs2's recovery then finds busy
//! ```
//! Prints `SMOKE check NAME ok|FAIL detail` lines, `SMOKE time NAME value` lines and a last
//! `SMOKE done: N checks, F failed`; exits 1 if any check failed.

use std::io;
use std::process::ExitCode;
use std::thread::sleep;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use gdlm_core::ast::{gdlm_ast, AstInput, AstOutcome, AstStyle};
use gdlm_core::consts::LM_OUT_TRY_AGAIN;
use gdlm_core::{DlmLkf, DlmMode, LmState, LockName};
use gdlm_linux::{lvb_from, lvb_text, Completion, Event, LockId, Lockspace, Status, Timeout};

const T: Duration = Duration::from_secs(30);
/// The longest a `hold --while-file` holds past its SECONDS.
const HOLD_EXTRA: Duration = Duration::from_secs(120);

struct Report {
    checks: u32,
    failed: u32,
    t0: Instant,
}

impl Report {
    fn new() -> Self {
        Report {
            checks: 0,
            failed: 0,
            t0: Instant::now(),
        }
    }

    fn check(&mut self, name: &str, ok: bool, detail: impl std::fmt::Display) -> bool {
        self.checks += 1;
        if !ok {
            self.failed += 1;
        }
        let t = self.t0.elapsed().as_secs_f64();
        println!(
            "SMOKE check {name} {} [{t:.3}s] {detail}",
            if ok { "ok" } else { "FAIL" }
        );
        ok
    }

    fn time(&self, name: &str, value: impl std::fmt::Display) {
        println!("SMOKE time {name} {value}");
    }

    fn done(&self) -> ExitCode {
        println!("SMOKE done: {} checks, {} failed", self.checks, self.failed);
        if self.failed == 0 && self.checks > 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }
}

fn name(n: u64) -> [u8; 24] {
    *LockName::new(2, n).encode().as_bytes()
}

fn show(c: &Completion) -> String {
    format!(
        "status={:?} (kernel {}) sb_flags={:#x} last={} valblk={}",
        c.status,
        c.status.kernel_status(),
        c.sb_flags,
        c.last,
        c.valblk
    )
}

/// Request and wait for the completion.
/// NOQUEUE tries of node 2's storm against node 1's EX (`node`).
const STORM: usize = 200;

fn lock_wait(
    ls: &mut Lockspace,
    res: &[u8],
    mode: DlmMode,
    flags: DlmLkf,
) -> io::Result<(LockId, Completion)> {
    let lk = ls.lock(res, mode, flags, None)?;
    let c = ls.wait_completion(lk, T)?;
    Ok((lk, c))
}

fn convert_wait(
    ls: &mut Lockspace,
    lk: LockId,
    mode: DlmMode,
    flags: DlmLkf,
    lvb: Option<&[u8]>,
) -> io::Result<Completion> {
    let v = lvb.map(lvb_from);
    ls.convert(lk, mode, flags, v.as_ref())?;
    ls.wait_completion(lk, T)
}

fn unlock_wait(ls: &mut Lockspace, lk: LockId) -> io::Result<Completion> {
    ls.unlock(lk, DlmLkf::empty(), None)?;
    ls.wait_completion(lk, T)
}

fn single(iters: u32) -> io::Result<Report> {
    let mut r = Report::new();
    let t = Instant::now();
    let mut ls = Lockspace::create("gdlmsmoke")?;
    r.check(
        "lockspace-create",
        true,
        format!(
            "{} fd {} in {:.1} ms",
            ls.name(),
            std::os::fd::AsRawFd::as_raw_fd(&ls),
            ms(t)
        ),
    );
    let a = name(0x1234abcd);
    let vb = DlmLkf::VALBLK;

    // EX with VALBLK, then EX -> NL writing the LVB, NL -> EX reading it back.
    let (lk1, c) = lock_wait(&mut ls, &a, DlmMode::Ex, vb)?;
    r.check(
        "lock-ex-valblk",
        c.status == Status::Granted
            && ls.lkid(c.lock).is_some_and(|k| k != 0)
            && ls.completion_lvb(&c).is_some()
            && !c.last,
        show(&c),
    );
    let c = convert_wait(&mut ls, lk1, DlmMode::Nl, vb, Some(b"gdlm-lvb-1"))?;
    r.check(
        "convert-ex-nl-writes-lvb",
        c.status == Status::Granted,
        show(&c),
    );
    let c = convert_wait(&mut ls, lk1, DlmMode::Ex, vb, None)?;
    r.check(
        "convert-nl-ex-reads-lvb",
        c.status == Status::Granted
            && ls.completion_lvb(&c).map(lvb_text) == Some("gdlm-lvb-1".into()),
        show(&c),
    );

    // NL -> EX -> NL cycles carrying a counter in the LVB.
    let t = Instant::now();
    let mut bad = None;
    for i in 0..iters {
        let text = format!("count-{i}");
        let c1 = convert_wait(&mut ls, lk1, DlmMode::Nl, vb, Some(text.as_bytes()))?;
        let c2 = convert_wait(&mut ls, lk1, DlmMode::Ex, vb, None)?;
        let got = ls.completion_lvb(&c2).map(lvb_text).unwrap_or_default();
        if c1.status != Status::Granted || c2.status != Status::Granted || got != text {
            bad = Some(format!("cycle {i}: {} / {}", show(&c1), show(&c2)));
            break;
        }
    }
    let per = t.elapsed().as_secs_f64() * 1e6 / f64::from(iters.max(1));
    r.check(
        "lvb-carried-through-cycles",
        bad.is_none(),
        bad.unwrap_or_else(|| format!("{iters} EX->NL->EX cycles, LVB counter intact")),
    );
    r.time("convert_ex_nl_ex_cycle_us", format!("{per:.1}"));

    // NOQUEUE against the held EX: -EAGAIN, the handle ends, the holder gets no BAST.
    let (_, c) = lock_wait(&mut ls, &a, DlmMode::Ex, DlmLkf::NOQUEUE)?;
    r.check(
        "noqueue-conflict-eagain",
        c.status == Status::Again && c.status.kernel_status() == -11 && c.last,
        show(&c),
    );
    let got = ls.wait_blocking(lk1, Duration::from_millis(500)).is_ok();
    r.check("noqueue-sends-no-bast", !got, format!("bast={got}"));
    // What gfs2 makes of that AST (through gdlm-core).
    let input = AstInput {
        gl_state: LmState::Unlocked,
        gl_req: LmState::Exclusive,
        sb_status: c.status.kernel_status(),
        sb_flags: c.sb_flags,
        has_lvb: true,
        glf_initial: true,
        lkid: 0, // a failed first request has no lock id
        dead: false,
    };
    let modern = gdlm_ast(AstStyle::Modern, &input);
    r.check(
        "core-gdlm_ast-try-again",
        matches!(modern, Ok(AstOutcome::Complete { ret, .. }) if ret == LM_OUT_TRY_AGAIN),
        format!("{modern:?}"),
    );

    // NOQUEUE|NOQUEUEBAST: -EAGAIN and a BAST to the holder (LM_FLAG_TRY_1CB).
    let (_, c) = lock_wait(
        &mut ls,
        &a,
        DlmMode::Ex,
        DlmLkf::NOQUEUE | DlmLkf::NOQUEUEBAST,
    )?;
    let bast = ls.wait_blocking(lk1, Duration::from_secs(5));
    r.check(
        "noqueuebast-eagain-and-bast",
        c.status == Status::Again && bast.is_ok(),
        format!("{} bast={:?}", show(&c), bast.map_err(|e| e.to_string())),
    );

    // A blocking PR. The holder got a BAST for EX already and has not been regranted since,
    // so the DLM sends no second BAST (lkb_highbast); the holder acts on the first one by
    // converting to NL, writing the LVB, and the PR is granted with that LVB.
    let lk2 = ls.lock(&a, DlmMode::Pr, vb, None)?;
    let again = ls.wait_blocking(lk1, Duration::from_millis(500)).is_ok();
    r.check(
        "no-repeat-bast-before-regrant",
        !again,
        format!("second bast={again}"),
    );
    let t = Instant::now();
    let c1 = convert_wait(&mut ls, lk1, DlmMode::Nl, vb, Some(b"handed-over"))?;
    let c2 = ls.wait_completion(lk2, T)?;
    r.check(
        "demote-hands-lvb-over",
        c1.status == Status::Granted
            && c2.status == Status::Granted
            && ls.completion_lvb(&c2).map(lvb_text) == Some("handed-over".into()),
        format!("holder {} / waiter {}", show(&c1), show(&c2)),
    );
    r.time("demote_to_blocked_pr_granted_ms", format!("{:.2}", ms(t)));

    // NL -> EX behind the PR: a BAST to the PR holder (granted fresh); then cancel the
    // conversion: -DLM_ECANCEL, and the lock stays NL.
    let t = Instant::now();
    ls.convert(lk1, DlmMode::Ex, vb, None)?;
    let bast = ls.wait_blocking(lk2, T);
    r.time("queued_convert_bast_ms", format!("{:.2}", ms(t)));
    r.check(
        "queued-convert-sends-bast",
        bast.is_ok(),
        format!("{:?}", bast.map_err(|e| e.to_string())),
    );
    ls.cancel(lk1)?;
    let c = ls.wait_completion(lk1, T)?;
    r.check(
        "cancel-conversion",
        c.status == Status::Cancelled && !c.last && ls.lkid(lk1).is_some(),
        show(&c),
    );

    // Cancel a queued new request (blocked by the PR): -DLM_ECANCEL and the handle ends.
    let lk3 = ls.lock(&a, DlmMode::Ex, DlmLkf::empty(), None)?;
    let early = ls.wait_completion(lk3, Duration::from_millis(300));
    ls.cancel(lk3)?;
    let c = ls.wait_completion(lk3, T)?;
    r.check(
        "cancel-queued-request",
        early.is_err() && c.status == Status::Cancelled && c.last,
        show(&c),
    );
    ls.take_basts(lk2);

    // Unlock everything; the handles end.
    let c1 = unlock_wait(&mut ls, lk2)?;
    let c2 = unlock_wait(&mut ls, lk1)?;
    r.check(
        "unlock",
        c1.status == Status::Unlocked && c2.status == Status::Unlocked && c1.last && c2.last,
        format!(
            "{} / {}; live locks {}",
            show(&c1),
            show(&c2),
            ls.live_locks()
        ),
    );
    r.check("no-live-locks", ls.live_locks() == 0, ls.live_locks());

    // Lock + unlock round trip.
    let t = Instant::now();
    let b = name(0xb);
    for _ in 0..iters {
        let (lk, c) = lock_wait(&mut ls, &b, DlmMode::Ex, DlmLkf::empty())?;
        let u = unlock_wait(&mut ls, lk)?;
        if c.status != Status::Granted || u.status != Status::Unlocked {
            r.check(
                "lock-unlock-loop",
                false,
                format!("{} / {}", show(&c), show(&u)),
            );
            break;
        }
    }
    let per = t.elapsed().as_secs_f64() * 1e6 / f64::from(iters.max(1));
    r.time("lock_unlock_round_trip_us", format!("{per:.1}"));

    let t = Instant::now();
    let rel = ls.release(false);
    r.check(
        "lockspace-release",
        rel.is_ok(),
        format!("{rel:?} in {:.1} ms", ms(t)),
    );
    Ok(r)
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

/// Publishes `text` in the LVB of resource `res` (EX, then NL writing it; the NL lock stays so
/// the resource, and its LVB, live on).
fn set_marker(ls: &mut Lockspace, res: &[u8], text: &str) -> io::Result<LockId> {
    let (lk, c) = lock_wait(ls, res, DlmMode::Ex, DlmLkf::VALBLK)?;
    if c.status != Status::Granted {
        return Err(io::Error::other(format!("marker lock: {}", show(&c))));
    }
    convert_wait(ls, lk, DlmMode::Nl, DlmLkf::VALBLK, Some(text.as_bytes()))?;
    println!(
        "SMOKE marker {} = {text}",
        String::from_utf8_lossy(res).trim()
    );
    Ok(lk)
}

/// Waits (bounded) until the LVB of `res` reads `text`.
fn wait_marker(ls: &mut Lockspace, res: &[u8], text: &str, timeout: Duration) -> io::Result<()> {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        let (lk, c) = lock_wait(ls, res, DlmMode::Pr, DlmLkf::VALBLK)?;
        let got = ls.completion_lvb(&c).map(lvb_text).unwrap_or_default();
        if c.status == Status::Granted {
            unlock_wait(ls, lk)?;
        }
        if got == text {
            return Ok(());
        }
        sleep(Duration::from_millis(200));
    }
    Err(io::Error::new(
        io::ErrorKind::TimedOut,
        format!("marker {text} not seen"),
    ))
}

fn node(n: u32) -> io::Result<Report> {
    let mut r = Report::new();
    let t = Instant::now();
    let mut ls = Lockspace::create("gdlmsmoke3")?;
    r.check(
        "lockspace-join",
        true,
        format!("node{n} in {:.1} ms", ms(t)),
    );
    let (res1, res2) = (name(0x1001), name(0x1002));
    let (ready1, has2, done3, done) = (name(0xf001), name(0xf002), name(0xf003), name(0xf00d));
    let vb = DlmLkf::VALBLK;
    let long = Duration::from_secs(120);
    let mut keep = Vec::new();
    match n {
        1 => {
            let (l1, c1) = lock_wait(&mut ls, &res1, DlmMode::Ex, vb)?;
            let (l2, c2) = lock_wait(&mut ls, &res2, DlmMode::Ex, vb)?;
            r.check(
                "node1-holds-res1-res2-ex",
                c1.status == Status::Granted && c2.status == Status::Granted,
                format!("{} / {}", show(&c1), show(&c2)),
            );
            keep.push(set_marker(&mut ls, &ready1, "ready")?);
            // node2's NOQUEUE|NOQUEUEBAST on res1 must reach us as a BAST.
            let b1 = ls.wait_blocking(l1, long);
            r.check(
                "node1-bast-res1-from-noqueuebast",
                b1.is_ok(),
                format!("{b1:?}"),
            );
            // node2's blocking EX on res2: BAST, then hand the LVB over by demoting to NL.
            let b2 = ls.wait_blocking(l2, long);
            let c = convert_wait(&mut ls, l2, DlmMode::Nl, vb, Some(b"from-node1"))?;
            r.check(
                "node1-bast-res2-demote-with-lvb",
                b2.is_ok() && c.status == Status::Granted,
                show(&c),
            );
            let w = wait_marker(&mut ls, &done, "done", long);
            r.check("node1-saw-done", w.is_ok(), format!("{w:?}"));
        }
        2 => {
            let w = wait_marker(&mut ls, &ready1, "ready", long);
            r.check("node2-saw-node1-ready", w.is_ok(), format!("{w:?}"));
            let t = Instant::now();
            let (_, c) = lock_wait(&mut ls, &res1, DlmMode::Ex, DlmLkf::NOQUEUE)?;
            r.check(
                "node2-noqueue-cross-node-eagain",
                c.status == Status::Again,
                format!("{} in {:.2} ms", show(&c), ms(t)),
            );
            // Refused NOQUEUE first requests against node 1's EX, as gdlmd's journal tries
            // during a replay: Linux 7.2.13 panicked on a few of them when they went out as
            // new requests (gdlm_linux::Lockspace::lock makes them NL + NOQUEUE conversion).
            let t = Instant::now();
            let mut again = 0;
            let mut live = 0;
            for _ in 0..STORM {
                let (_, c) = lock_wait(&mut ls, &res1, DlmMode::Ex, DlmLkf::NOQUEUE)?;
                again += usize::from(c.status == Status::Again && c.last);
                live = live.max(ls.live_locks());
            }
            r.check(
                "node2-noqueue-storm-eagain",
                again == STORM,
                format!(
                    "{again} of {STORM} Again (last), {live} live locks at most, in {:.0} ms",
                    ms(t)
                ),
            );
            let t = Instant::now();
            let (_, c) = lock_wait(
                &mut ls,
                &res1,
                DlmMode::Ex,
                DlmLkf::NOQUEUE | DlmLkf::NOQUEUEBAST,
            )?;
            r.check(
                "node2-noqueuebast-cross-node-eagain",
                c.status == Status::Again,
                format!("{} in {:.2} ms", show(&c), ms(t)),
            );
            let t = Instant::now();
            let (l2, c) = lock_wait(&mut ls, &res2, DlmMode::Ex, vb)?;
            r.check(
                "node2-blocking-ex-granted-with-node1-lvb",
                c.status == Status::Granted
                    && ls.completion_lvb(&c).map(lvb_text) == Some("from-node1".into()),
                format!("{} after {:.2} ms", show(&c), ms(t)),
            );
            r.time("cross_node_bast_handoff_ms", format!("{:.2}", ms(t)));
            keep.push(set_marker(&mut ls, &has2, "has-res2")?);
            // node3's PR on res2: BAST here, hand over with our LVB.
            let b = ls.wait_blocking(l2, long);
            let c = convert_wait(&mut ls, l2, DlmMode::Nl, vb, Some(b"from-node2"))?;
            r.check(
                "node2-bast-res2-demote-with-lvb",
                b.is_ok() && c.status == Status::Granted,
                show(&c),
            );
            let w = wait_marker(&mut ls, &done3, "done3", long);
            r.check("node2-saw-node3-done", w.is_ok(), format!("{w:?}"));
            keep.push(set_marker(&mut ls, &done, "done")?);
            sleep(Duration::from_secs(5)); // let the others read "done" before we leave
        }
        _ => {
            let w = wait_marker(&mut ls, &has2, "has-res2", long);
            r.check("node3-saw-node2-has-res2", w.is_ok(), format!("{w:?}"));
            let t = Instant::now();
            let (_, c) = lock_wait(&mut ls, &res2, DlmMode::Pr, vb)?;
            r.check(
                "node3-pr-granted-with-node2-lvb",
                c.status == Status::Granted
                    && ls.completion_lvb(&c).map(lvb_text) == Some("from-node2".into()),
                format!("{} after {:.2} ms", show(&c), ms(t)),
            );
            keep.push(set_marker(&mut ls, &done3, "done3")?);
            let w = wait_marker(&mut ls, &done, "done", long);
            r.check("node3-saw-done", w.is_ok(), format!("{w:?}"));
        }
    }
    // Events nobody waited for (e.g. BASTs on the markers) are fine; drain and report them.
    let mut extra = 0;
    while let Some(ev) = ls.next_event(Duration::from_millis(100))? {
        if let Event::Blocking { .. } = ev {
            extra += 1;
        }
    }
    println!("SMOKE info node{n} left-over basts {extra}");
    let rel = ls.release(true);
    r.check("lockspace-release", rel.is_ok(), format!("{rel:?}"));
    Ok(r)
}

/// Iterations per timed chunk, as in ci/realdlm/src/dlmbench.c: each loop reports its fastest
/// chunk (a chunk hit by an emulator or host stall is not the code's cost) and its mean.
const CHUNK: u32 = 250;

/// Per-iteration time of the fastest chunk of `CHUNK` iterations.
struct Chunks {
    start: Instant,
    t: Instant,
    best: f64,
}

impl Chunks {
    fn new() -> Self {
        let now = Instant::now();
        Chunks {
            start: now,
            t: now,
            best: f64::MAX,
        }
    }

    fn done(&mut self, i: u32) {
        if i % CHUNK == CHUNK - 1 {
            let now = Instant::now();
            let per = (now - self.t).as_secs_f64() * 1e6 / f64::from(CHUNK);
            self.best = self.best.min(per);
            self.t = now;
        }
    }

    fn print(&self, name: &str, n: u32) {
        let mean = self.start.elapsed().as_secs_f64() * 1e6 / f64::from(n.max(1));
        println!("BENCH rust {name}_us {:.2}", self.best);
        println!("BENCH rust {name}_mean_us {mean:.2}");
    }
}

/// The same operations as ci/realdlm/src/dlmbench.c, through gdlm-linux: the timeout made
/// once (as dlmbench's 30000 ms), the LVB read and written in the lock's buffer (as dlmbench
/// reads and writes the buffer `sb_lvbptr` points to).
fn bench(n: u32) -> io::Result<Report> {
    const BT: Timeout = Timeout::from_secs(30);
    let mut r = Report::new();
    let mut ls = Lockspace::create("gdlmbench")?;
    let mut t = Chunks::new();
    for i in 0..n {
        let lk = ls.lock(b"bench-lock", DlmMode::Ex, DlmLkf::empty(), None)?;
        let c = ls.wait_completion(lk, BT)?;
        if c.status != Status::Granted {
            r.check("bench-lock", false, show(&c));
            return Ok(r);
        }
        ls.unlock(lk, DlmLkf::empty(), None)?;
        let c = ls.wait_completion(lk, BT)?;
        if c.status != Status::Unlocked {
            r.check("bench-unlock", false, show(&c));
            return Ok(r);
        }
        t.done(i);
    }
    t.print("lock_unlock", n);

    let vb = DlmLkf::VALBLK;
    let lk = ls.lock(b"bench-convert", DlmMode::Nl, vb, None)?;
    ls.wait_completion(lk, BT)?;
    let mut t = Chunks::new();
    for i in 0..n {
        ls.convert(lk, DlmMode::Ex, vb, None)?;
        let c = ls.wait_completion(lk, BT)?;
        let Some(lvb) = ls.lvb_mut(lk) else {
            r.check("bench-lvb", false, format!("cycle {i}: no LVB"));
            return Ok(r);
        };
        let v = u32::from_le_bytes([lvb[0], lvb[1], lvb[2], lvb[3]]);
        if c.status != Status::Granted || (i > 0 && v != i - 1) {
            r.check(
                "bench-lvb",
                false,
                format!("cycle {i}: {} LVB {v}", show(&c)),
            );
            return Ok(r);
        }
        lvb[..4].copy_from_slice(&i.to_le_bytes());
        ls.convert(lk, DlmMode::Nl, vb, None)?;
        ls.wait_completion(lk, BT)?;
        t.done(i);
    }
    t.print("convert_cycle", n);
    r.check("bench", true, format!("{n} iterations, LVB counter intact"));
    ls.release(true)?;
    Ok(r)
}

/// Wait for EX on glock `ln_type`/`ln_number` in `ls_name` and hold it `secs` seconds, then
/// on while `while_file` exists (at most [`HOLD_EXTRA`] more): a harness that must look at
/// the cluster while the lock is held removes the file once it has looked, so its look
/// never races the release however slow the VM is.
fn hold(
    ls_name: &str,
    ln_type: u32,
    ln_number: u64,
    secs: u64,
    while_file: Option<&std::path::Path>,
) -> io::Result<Report> {
    let mut r = Report::new();
    let mut ls = Lockspace::create(ls_name)?;
    let name = LockName::new(ln_type, ln_number).encode();
    println!("HOLD requested EX on {:?}", name.as_str());
    let lk = ls.lock(name.as_bytes(), DlmMode::Ex, DlmLkf::empty(), None)?;
    let c = ls.wait_completion(lk, Duration::from_secs(300))?;
    if !r.check("hold-granted", c.status == Status::Granted, show(&c)) {
        return Ok(r);
    }
    println!("HOLD granted; holding {secs} s");
    let granted = Instant::now();
    sleep(Duration::from_secs(secs));
    if let Some(f) = while_file {
        let end = Instant::now() + HOLD_EXTRA;
        while f.exists() && Instant::now() < end {
            sleep(Duration::from_millis(100));
        }
    }
    let held = granted.elapsed();
    ls.unlock(lk, DlmLkf::empty(), None)?;
    let c = ls.wait_completion(lk, T)?;
    r.check("hold-released", c.status == Status::Unlocked, show(&c));
    // The time actually held: what `gdlm-sim import` models (the busy tries it causes).
    println!("HOLD released after {} ms", held.as_millis());
    ls.release(false)?;
    Ok(r)
}

#[derive(Parser, Debug)]
#[command(
    name = "gdlm-linux-smoke",
    about = "gdlm-linux against the real kernel DLM (the ci/realdlm VM test program)"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// One node: lock/convert/unlock with LVB, NOQUEUE, NOQUEUEBAST, BAST + LVB hand-off,
    /// cancel, timings.
    Single {
        /// LVB write/read cycles.
        #[arg(default_value_t = 200)]
        iters: u32,
    },
    /// One of three nodes: cross-node NOQUEUE, BASTs and LVB hand-off node1 -> node2 -> node3.
    Node {
        /// This node's number (1, 2 or 3).
        n: u32,
    },
    /// The operations of ci/realdlm/src/dlmbench.c, printing `BENCH rust NAME us` lines.
    Bench {
        /// Iterations per operation.
        #[arg(default_value_t = 2000)]
        n: u32,
    },
    /// Join lockspace LS, wait (up to 300 s) for EX on glock TYPE/NUMBER, hold it SECONDS,
    /// release.
    Hold {
        /// The lockspace (e.g. a gfs2 mount's fs name).
        lockspace: String,
        /// The glock type (9: a journal lock).
        ln_type: u32,
        /// The glock number (a journal lock's jid).
        ln_number: u64,
        /// How long to hold it (at least).
        seconds: u64,
        /// After SECONDS, hold on while this file exists (at most 120 s more).
        #[arg(long)]
        while_file: Option<std::path::PathBuf>,
    },
}

fn main() -> ExitCode {
    let res = match Cli::parse().cmd {
        Cmd::Single { iters } => single(iters),
        Cmd::Bench { n } => bench(n),
        Cmd::Hold {
            lockspace,
            ln_type,
            ln_number,
            seconds,
            while_file,
        } => hold(
            &lockspace,
            ln_type,
            ln_number,
            seconds,
            while_file.as_deref(),
        ),
        Cmd::Node { n } => node(n),
    };
    match res {
        Ok(r) => r.done(),
        Err(e) => {
            println!("SMOKE check run FAIL error: {e}");
            println!("SMOKE done: error");
            ExitCode::FAILURE
        }
    }
}
