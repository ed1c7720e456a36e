//! Compile the C transcription of the reference (`c/lock_dlm_ref.c`) at -O2.

fn main() {
    println!("cargo:rerun-if-changed=c/lock_dlm_ref.c");
    cc::Build::new()
        .file("c/lock_dlm_ref.c")
        // Fixed, whatever the profile: the comparison is against optimised C.
        .opt_level(2)
        // The kernel builds with -fno-strict-overflow: s64 arithmetic wraps.
        .flag("-fwrapv")
        .flag_if_supported("-std=gnu11")
        .warnings(true)
        .extra_warnings(true)
        .compile("lock_dlm_ref");
}
