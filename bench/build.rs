//! Compile the C transcription of the reference (`c/lock_dlm_ref.c`) at -O2.

fn main() {
    println!("cargo:rerun-if-changed=c/lock_dlm_ref.c");
    println!("cargo:rerun-if-env-changed=GDLM_BENCH_ALIGN");
    let mut build = cc::Build::new();
    // bench/criterion-compare.sh sets this (with the same alignment for the Rust
    // through RUSTFLAGS): every function and loop of both sides starts on a cache
    // line, so the ns figures do not depend on where the linker happened to place
    // each unit and loop (that alone moved one C function from 3.3 to 3.9 ns
    // between two builds that differed only in Rust code).
    if let Ok(a) = std::env::var("GDLM_BENCH_ALIGN") {
        let a: u32 = a.parse().expect("GDLM_BENCH_ALIGN: bytes, a power of two");
        assert!(
            a.is_power_of_two(),
            "GDLM_BENCH_ALIGN: bytes, a power of two"
        );
        build
            .flag(format!("-falign-functions={a}"))
            .flag(format!("-falign-loops={a}"));
    }
    build
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
