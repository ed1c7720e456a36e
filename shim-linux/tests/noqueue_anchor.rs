// SPDX-License-Identifier: GPL-2.0-only
//! A `NOQUEUE` first request is made anchored (an NL request, a `NOQUEUE` conversion and, if
//! that fails, an unlock: Linux 7.2.13's `dlm_user_request` frees the lkb of a refused new
//! `NOQUEUE` request before it lists it, see `Via` in `src/lockspace.rs`), and the caller sees
//! exactly the completion of the request itself. The test re-runs itself with
//! `bench/libdlm-stub/dlmstub.c` (`-DDLMSTUB_TEST`: NOQUEUE conflicts and a call log)
//! preloaded, without and with the submit thread.

mod common;

use std::io::ErrorKind;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use gdlm_core::{DlmLkf, DlmMode};
use gdlm_linux::{Lockspace, Status};

const T: Duration = Duration::from_secs(5);

/// One try against a held EX, one cancelled try, one try once the holder is gone, on `res`.
fn tries(ls: &mut Lockspace, res: &[u8]) {
    let holder = ls.lock(res, DlmMode::Ex, DlmLkf::empty(), None).unwrap();
    assert_eq!(
        ls.wait_completion(holder, T).unwrap().status,
        Status::Granted
    );
    let live = ls.live_locks();

    // Refused: one completion, EAGAIN, the handle ends, nothing of it stays.
    let t = ls.lock(res, DlmMode::Ex, DlmLkf::NOQUEUE, None).unwrap();
    let c = ls.wait_completion(t, T).unwrap();
    assert_eq!(
        (c.status, c.last, c.lock),
        (Status::Again, true, t),
        "{c:?}"
    );
    assert_eq!(ls.live_locks(), live);
    assert_eq!(ls.lkid(t), None);
    let gone = ls.convert(t, DlmMode::Nl, DlmLkf::empty(), None);
    assert_eq!(gone.unwrap_err().kind(), ErrorKind::NotFound);
    let none = ls.wait_completion(t, Duration::from_millis(200));
    assert_eq!(
        none.unwrap_err().kind(),
        ErrorKind::TimedOut,
        "one completion only"
    );

    // A cancel of an anchored request in flight: its completion comes as one that beat it.
    let t = ls
        .lock(
            res,
            DlmMode::Ex,
            DlmLkf::NOQUEUE | DlmLkf::NOQUEUEBAST,
            None,
        )
        .unwrap();
    ls.cancel(t).unwrap();
    let c = ls.wait_completion(t, T).unwrap();
    assert_eq!((c.status, c.last), (Status::Again, true), "{c:?}");

    // Free: granted in the requested mode, a normal lock from then on (LVB read on grant).
    ls.unlock(holder, DlmLkf::empty(), None).unwrap();
    assert_eq!(
        ls.wait_completion(holder, T).unwrap().status,
        Status::Unlocked
    );
    let t = ls
        .lock(res, DlmMode::Ex, DlmLkf::NOQUEUE | DlmLkf::VALBLK, None)
        .unwrap();
    let c = ls.wait_completion(t, T).unwrap();
    assert_eq!(
        (c.status, c.last, c.valblk),
        (Status::Granted, false, true),
        "{c:?}"
    );
    assert!(ls.lkid(t).is_some_and(|k| k != 0));
    ls.convert(t, DlmMode::Nl, DlmLkf::empty(), None).unwrap();
    assert_eq!(ls.wait_completion(t, T).unwrap().status, Status::Granted);
    ls.unlock(t, DlmLkf::empty(), None).unwrap();
    let c = ls.wait_completion(t, T).unwrap();
    assert_eq!((c.status, c.last), (Status::Unlocked, true));
}

#[test]
fn a_noqueue_first_request_is_made_through_an_nl_anchor() {
    let log = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("noqueue-anchor.log");
    if std::env::var_os("GDLM_NOQUEUE_CHILD").is_none() {
        let _ = std::fs::remove_file(&log);
        let out = Command::new(std::env::current_exe().unwrap())
            .args([
                "a_noqueue_first_request_is_made_through_an_nl_anchor",
                "--exact",
                "--nocapture",
            ])
            .env("GDLM_NOQUEUE_CHILD", "1")
            .env(
                "LD_PRELOAD",
                common::build_stub("libdlmstub-noqueue.so", true),
            )
            .env("DLMSTUB_THREADS", "1")
            .env("DLMSTUB_LOG", &log)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains("NOQUEUE-CHILD ok"),
            "{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let calls = std::fs::read_to_string(&log).unwrap();
        let lines: Vec<&str> = calls.lines().collect();
        // No first request carries NOQUEUE but the NL one (which stays direct).
        for l in &lines {
            let w: Vec<&str> = l.split(' ').collect();
            if w[0] == "lock" {
                let flags = u32::from_str_radix(w[2].trim_start_matches("0x"), 16).unwrap_or(0);
                assert!(
                    flags & DlmLkf::NOQUEUE.bits() == 0 || w[1] == "0",
                    "a NOQUEUE first request reached the DLM: {l}\n{calls}"
                );
            }
        }
        // Each refused try: the NL request, the NOQUEUE conversion, the NL's unlock.
        for res in ["jr-sync", "jr-thread"] {
            let seq: Vec<&str> = lines
                .iter()
                .copied()
                .skip_while(|l| *l != format!("lock 5 0 {res}"))
                .skip(1)
                .take(3)
                .collect();
            assert_eq!(seq.len(), 3, "{calls}");
            assert_eq!(seq[0], format!("lock 0 0 {res}"), "{calls}");
            assert_eq!(seq[1], "convert 5 0x5 -", "{calls}");
            assert!(seq[2].starts_with("unlock "), "{calls}");
        }
        assert!(calls.contains("lock 0 0x1 nl-direct"), "{calls}");
        return;
    }
    let mut ls = Lockspace::create("tnoqueue").unwrap();
    tries(&mut ls, b"jr-sync");
    // An NL request with NOQUEUE is made as it is (it cannot be refused for a conflict).
    let nl = ls
        .lock(b"nl-direct", DlmMode::Nl, DlmLkf::NOQUEUE, None)
        .unwrap();
    assert_eq!(ls.wait_completion(nl, T).unwrap().status, Status::Granted);
    ls.start_submit_thread().unwrap();
    tries(&mut ls, b"jr-thread");
    ls.release(true).unwrap();
    println!("NOQUEUE-CHILD ok");
}
