//! gdlm-linux's lock path on a host without the kernel DLM: `gdlm-linux-smoke bench` (EX
//! lock + unlock, NL→EX reading the LVB and EX→NL writing a counter into it) runs with
//! `bench/libdlm-stub/dlmstub.c` preloaded in place of libdlm's lock calls, so requests,
//! completions through the lockspace fd, `dlm_dispatch`, the AST trampoline, lock handles
//! and LVB copies are all exercised by `cargo test`. The real DLM's semantics (conflicts,
//! BASTs, NOQUEUE, cancel) are checked in VMs by `ci/realdlm`.

mod common;

use std::path::PathBuf;
use std::process::Command;

/// The stub, built once per test process (see [`common::build_stub`]).
fn stub() -> PathBuf {
    static SO: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    SO.get_or_init(|| common::build_stub("libdlmstub.so", false))
        .clone()
}

#[test]
fn lock_convert_unlock_with_lvb_through_the_fd() {
    let so = stub();
    let out = Command::new(env!("CARGO_BIN_EXE_gdlm-linux-smoke"))
        .args(["bench", "300"])
        .env("LD_PRELOAD", &so)
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The LVB counter written on each EX→NL came back on the next NL→EX, 300 times.
    assert!(
        text.contains("SMOKE check bench ok")
            && text.contains("300 iterations, LVB counter intact"),
        "{text}"
    );
    assert!(text.contains("SMOKE done: 1 checks, 0 failed"), "{text}");
    assert!(text.contains("BENCH rust lock_unlock_us"), "{text}");
}
