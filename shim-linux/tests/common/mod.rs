// SPDX-License-Identifier: GPL-2.0-only
//! Shared by the stub-DLM tests: building `bench/libdlm-stub/dlmstub.c`.

use std::path::PathBuf;
use std::process::Command;

/// The libdlm stub as `target/tmp/<file>`, built once per test process with `test_hooks`
/// (`-DDLMSTUB_TEST`: the thread and blocking switches) or without, then renamed into place
/// so a test never preloads a `.so` that another test is still writing.
pub fn build_stub(file: &str, test_hooks: bool) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(file);
    let tmp = out.with_extension(format!("so.{}", std::process::id()));
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let mut cmd = Command::new(cc);
    cmd.arg("-O2");
    if test_hooks {
        cmd.arg("-DDLMSTUB_TEST");
    }
    let st = cmd
        .args(["-shared", "-fPIC", "-o"])
        .arg(&tmp)
        .arg(root.join("bench/libdlm-stub/dlmstub.c"))
        .status()
        .expect("a C compiler");
    assert!(st.success(), "building the libdlm stub");
    std::fs::rename(&tmp, &out).expect("renaming the stub into place");
    out
}
