// SPDX-License-Identifier: GPL-2.0-only
//! `Lockspace::start_submit_thread` on a host without the kernel DLM: the test re-runs itself
//! with `bench/libdlm-stub/dlmstub.c` (built with `-DDLMSTUB_TEST`) preloaded, requests
//! written by the submit thread and completions dispatched here, and `DLMSTUB_BLOCK` making
//! a write block as the kernel's does while the lockspace is stopped for recovery.

mod common;

use std::io::ErrorKind;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use gdlm_core::{DlmLkf, DlmMode};
use gdlm_linux::{Lockspace, Status};

const T: Duration = Duration::from_secs(5);

fn stub() -> PathBuf {
    common::build_stub("libdlmstub-submit-test.so", true)
}

#[test]
fn requests_from_the_submit_thread() {
    if std::env::var_os("GDLM_SUBMIT_CHILD").is_none() {
        // The parent: run this test again with the stub preloaded.
        let block = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("submit-child.block");
        let _ = std::fs::remove_file(&block);
        let out = Command::new(std::env::current_exe().unwrap())
            .args(["requests_from_the_submit_thread", "--exact", "--nocapture"])
            .env("GDLM_SUBMIT_CHILD", "1")
            .env("LD_PRELOAD", stub())
            .env("DLMSTUB_THREADS", "1")
            .env("DLMSTUB_BLOCK", &block)
            .env("GDLM_SUBMIT_BLOCK", &block)
            .output()
            .unwrap();
        let _ = std::fs::remove_file(&block);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains("SUBMIT-CHILD ok"),
            "{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    }
    let block = PathBuf::from(std::env::var_os("GDLM_SUBMIT_BLOCK").unwrap());
    let vb = DlmLkf::VALBLK;
    let mut ls = Lockspace::create("tsubmit").unwrap();

    // Without the thread: a cancel made before the request's completion was read turns
    // it into Cancelled, and a cancelled first request ends its handle.
    let lk = ls
        .lock(b"sync-c", DlmMode::Ex, DlmLkf::empty(), None)
        .unwrap();
    ls.cancel(lk).unwrap();
    let c = ls.wait_completion(lk, T).unwrap();
    assert_eq!((c.status, c.last), (Status::Cancelled, true));
    assert_eq!(ls.live_locks(), 0);
    let gone = ls.convert(lk, DlmMode::Nl, DlmLkf::empty(), None);
    assert_eq!(gone.unwrap_err().kind(), ErrorKind::NotFound);

    ls.start_submit_thread().unwrap();
    assert!(ls.submit_fd().is_some());

    // Lock and LVB cycles, each request written by the thread.
    let lk = ls.lock(b"sub-a", DlmMode::Nl, vb, None).unwrap();
    assert_eq!(ls.wait_completion(lk, T).unwrap().status, Status::Granted);
    for i in 0u32..50 {
        ls.convert(lk, DlmMode::Ex, vb, None).unwrap();
        let c = ls.wait_completion(lk, T).unwrap();
        let v = ls
            .completion_lvb(&c)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        assert_eq!(c.status, Status::Granted);
        if i > 0 {
            assert_eq!(v, Some(i - 1), "cycle {i}");
        }
        let mut lvb = [0u8; 32];
        lvb[..4].copy_from_slice(&i.to_le_bytes());
        ls.convert(lk, DlmMode::Nl, vb, Some(&lvb)).unwrap();
        assert_eq!(ls.wait_completion(lk, T).unwrap().status, Status::Granted);
    }

    // A write the kernel holds: the call returns at once, the completion waits for it.
    std::fs::write(&block, b"").unwrap();
    ls.convert(lk, DlmMode::Ex, vb, None).unwrap();
    assert_eq!(ls.submissions_in_flight(), 1);
    // A second request on a lock with one outstanding: EBUSY at once, as the kernel says.
    let busy = ls.convert(lk, DlmMode::Pr, vb, None).unwrap_err();
    assert_eq!(busy.raw_os_error(), Some(libc::EBUSY));
    let early = ls.wait_completion(lk, Duration::from_millis(300));
    assert_eq!(early.unwrap_err().kind(), ErrorKind::TimedOut);
    assert_eq!(ls.lkid(lk), None, "the thread owns the lksb until its ack");
    std::fs::remove_file(&block).unwrap();
    let c = ls.wait_completion(lk, T).unwrap();
    assert_eq!(c.status, Status::Granted);
    assert_eq!(ls.submissions_in_flight(), 0);
    assert!(ls.lkid(lk).is_some_and(|k| k != 0));

    // A cancel through the thread, queued behind the blocked conversion it cancels: both
    // are in flight, the conversion completes Cancelled and the lock stays (in EX: a
    // further conversion to EX is granted, and the handle is the same).
    ls.convert(lk, DlmMode::Nl, vb, None).unwrap();
    ls.wait_completion(lk, T).unwrap();
    std::fs::write(&block, b"").unwrap();
    ls.convert(lk, DlmMode::Ex, vb, None).unwrap();
    ls.cancel(lk).unwrap();
    assert_eq!(ls.submissions_in_flight(), 2);
    std::fs::remove_file(&block).unwrap();
    let c = ls.wait_completion(lk, T).unwrap();
    assert_eq!((c.status, c.last), (Status::Cancelled, false), "{c:?}");
    assert_eq!(ls.submissions_in_flight(), 0);
    ls.convert(lk, DlmMode::Ex, vb, None).unwrap();
    assert_eq!(ls.wait_completion(lk, T).unwrap().status, Status::Granted);

    // A cancel with nothing left to cancel (the request was granted and read): no
    // completion of its own, the lock unchanged.
    ls.cancel(lk).unwrap();
    let none = ls.wait_completion(lk, Duration::from_millis(300));
    assert_eq!(none.unwrap_err().kind(), ErrorKind::TimedOut);
    assert!(ls.lkid(lk).is_some_and(|k| k != 0));

    // A first request cancelled while its write is still blocked: the cancel reads the
    // lock id on the thread, after the request's write; the handle ends, and its cell is
    // reused only after both were acknowledged.
    std::fs::write(&block, b"").unwrap();
    let first = ls
        .lock(b"sub-c", DlmMode::Ex, DlmLkf::empty(), None)
        .unwrap();
    ls.cancel(first).unwrap();
    assert_eq!(ls.submissions_in_flight(), 2);
    std::fs::remove_file(&block).unwrap();
    let c = ls.wait_completion(first, T).unwrap();
    assert_eq!((c.status, c.last), (Status::Cancelled, true), "{c:?}");
    assert_eq!(ls.live_locks(), 1);
    let next = ls
        .lock(b"sub-c", DlmMode::Ex, DlmLkf::empty(), None)
        .unwrap();
    assert_eq!(next.raw() as u32, first.raw() as u32, "the cell is reused");
    assert_ne!(next, first);
    assert_eq!(ls.wait_completion(next, T).unwrap().status, Status::Granted);
    ls.unlock(next, DlmLkf::empty(), None).unwrap();
    assert_eq!(
        ls.wait_completion(next, T).unwrap().status,
        Status::Unlocked
    );

    // A request the stub refuses (it has 8 resources): its completion carries the errno and
    // ends the handle.
    let mut ids = Vec::new();
    let mut refused = None;
    for r in 0..8u8 {
        let name = [b'r', b'0' + r];
        let id = ls.lock(&name, DlmMode::Ex, DlmLkf::empty(), None).unwrap();
        let c = ls.wait_completion(id, T).unwrap();
        if c.status == Status::Granted {
            ids.push(id);
        } else {
            refused = Some(c);
            break;
        }
    }
    let c = refused.expect("the stub's ninth resource is refused");
    assert_eq!(c.status.kernel_status(), -libc::EINVAL);
    assert!(c.last);
    assert_eq!(ls.live_locks(), 1 + ids.len());

    // Unlocks end handles; a stale id names nothing, also once its cell is reused.
    let old = ids[0];
    ls.unlock(old, DlmLkf::empty(), None).unwrap();
    let c = ls.wait_completion(old, T).unwrap();
    assert!(c.status == Status::Unlocked && c.last);
    let stale = ls
        .convert(old, DlmMode::Nl, DlmLkf::empty(), None)
        .unwrap_err();
    assert_eq!(stale.kind(), ErrorKind::NotFound);
    let again = ls.lock(b"r0", DlmMode::Ex, DlmLkf::empty(), None).unwrap();
    assert_ne!(again, old);
    assert_eq!(again.raw() as u32, old.raw() as u32, "the cell is reused");
    assert_eq!(
        ls.wait_completion(again, T).unwrap().status,
        Status::Granted
    );
    assert_eq!(ls.lkid(old), None);
    ls.release(true).unwrap();
    println!("SUBMIT-CHILD ok");
}
